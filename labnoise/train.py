"""One training loop for both lanes, with per-batch and per-epoch hooks.

* frozen-feature lane: ``x`` is a float array (N, D) of cached encoder features; models are MLP heads.
* pixel lane: ``x`` is a uint8 array (N, H, W, C) of images. It is moved to the device once, as uint8; each
  batch is gathered, optionally augmented on the device (random crop with 4 px zero padding + horizontal
  flip, vectorised in torch, no PIL), converted to float NCHW and normalised with fixed constants
  (``(x / 255 - 0.5) / 0.25``), so that :func:`predict_proba` needs no dataset statistics.

A method (``"ce"``, ``"gce"``, ``"coteaching"``, ``"coteaching+"``, ``"jocor"``, ``"sigua"``, ``"plc"``,
``"lend"`` or any :class:`labnoise.methods.Method`) only ever sees logits and targets, never the lane. A method
with ``needs_embeddings = True`` (LEND) also gets ``state.embeddings``: each model's penultimate features of
the batch, from one ``model.forward_features(x) -> (embedding, logits)`` pass.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(200, 8)).astype("float32"); y = (x[:, 0] > 0).astype(int)
    >>> res = fit("mlp", x, y, epochs=3, batch_size=32, lr=0.05, seed=0, progress=False)
    >>> len(res.history), res.history[-1]["train_acc_noisy"] > 0.8
    (3, True)

Model selection never looks at the test set: by default the last epoch's model is returned
(``select="last"``); with ``val_fraction > 0`` a seeded held-out split of the *noisy* training labels is
kept out of training and ``select="best_val"`` returns the epoch with the best noisy-validation accuracy.
Same seed on CPU -> identical history and weights.
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ._torch import torch_threads
from ._validation import check_choice, check_features, check_labels, check_num_classes, infer_num_classes

__all__ = ["fit", "predict_proba", "accuracy", "FitResult", "TrainState", "Hook", "lane_of",
           "PIXEL_MEAN", "PIXEL_STD"]

PIXEL_MEAN = 0.5
PIXEL_STD = 0.25


# ----------------------------------------------------------------------------------------------------------
# state, hooks, results
# ----------------------------------------------------------------------------------------------------------
@dataclass
class TrainState:
    """What methods and hooks see. Updated in place by :func:`fit`."""

    epoch: int = 0                  # 0-based current epoch
    epochs: int = 0
    step: int = 0                   # global optimiser step
    steps_per_epoch: int = 0
    num_classes: int = 0
    n_train: int = 0
    device: Any = None
    lane: str = "features"
    models: list = field(default_factory=list)
    labels: Any = None              # training targets on the device: int64 (N,) or float (N, C)
    clean_labels: Any = None        # int64 (N,) on the device or None; for monitoring only, methods must not read it
    batch_indices: Any = None       # positions of the current batch in the training set (device tensor)
    logits: list = field(default_factory=list)
    embeddings: list = field(default_factory=list)  # per model (B, d) penultimate features, only when the
                                                    # method sets ``needs_embeddings = True`` (else empty)
    loss: Any = None
    method: Any = None
    history: list = field(default_factory=list)
    predict_train: Callable | None = None   # predict_train(i=0) -> (N, C) softmax of model i, eval mode
    record: dict = field(default_factory=dict)  # free-form per-batch records (e.g. selected indices)


class Hook:
    """Subclass and override what you need; plain callables ``f(event, state)`` work too
    (event is ``"batch_end"`` or ``"epoch_end"``)."""

    def on_batch_end(self, state: TrainState) -> None:
        pass

    def on_epoch_end(self, state: TrainState) -> None:
        pass


@dataclass
class FitResult:
    """The trained model(s), per-epoch history and bookkeeping of one :func:`fit` call."""

    models: list
    history: list
    method: Any
    lane: str
    selected_epoch: int
    train_indices: np.ndarray
    val_indices: np.ndarray | None = None
    seconds: float = 0.0
    precision: str = "fp32"         # the resolved compute precision of training ("fp32" or "bf16")

    @property
    def model(self):
        return self.models[0]

    @property
    def final(self) -> dict:
        """The history row of the selected epoch."""
        return self.history[self.selected_epoch - 1] if self.history else {}

    def predict_proba(self, x, device="auto", batch_size: int = 1024, model: int = 0,
                      precision: str | None = None) -> np.ndarray:
        """Softmax of model ``model`` on ``x``, by default in the precision it was trained in."""
        return predict_proba(self.models[model], x, device=device, batch_size=batch_size,
                             precision=self.precision if precision is None else precision)


# ----------------------------------------------------------------------------------------------------------
# inputs
# ----------------------------------------------------------------------------------------------------------
def lane_of(x) -> str:
    """``"pixels"`` for uint8 (N, H, W, C) images, ``"features"`` for float (N, D) features."""
    dtype = getattr(x, "dtype", None)
    ndim = getattr(x, "ndim", None)
    if ndim == 4 and str(dtype) in ("uint8", "torch.uint8"):
        return "pixels"
    if ndim == 2:
        return "features"
    raise ValueError(f"x must be float features (N, D) or uint8 images (N, H, W, C), got shape "
                     f"{getattr(x, 'shape', None)} and dtype {dtype}; convert images with .astype(np.uint8).")


def _np_to_torch(a):
    """torch.from_numpy without the read-only warning (read-only arrays, e.g. cached datasets, are copied)."""
    import torch
    a = np.ascontiguousarray(a)
    return torch.from_numpy(a if a.flags.writeable else a.copy())


def _to_device_inputs(x, lane, device, name="x"):
    import torch
    if lane == "pixels":
        t = x if isinstance(x, torch.Tensor) else _np_to_torch(x)
        if t.shape[-1] not in (1, 3, 4):
            raise ValueError(f"{name} images must be NHWC with 1, 3 or 4 channels last, got shape {tuple(t.shape)}.")
        return t.to(device)
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    return _np_to_torch(check_features(x, name=name)).to(device)


def _prep_pixels(xb, augment: str | None, gen=None):
    """uint8 NHWC batch -> normalised float NCHW, with optional random crop (pad 4) + flip on the device."""
    import torch
    if augment == "crop_flip":
        b, h, w, c = xb.shape
        pad = 4
        padded = torch.zeros((b, h + 2 * pad, w + 2 * pad, c), dtype=xb.dtype, device=xb.device)
        padded[:, pad:pad + h, pad:pad + w] = xb
        oy = torch.randint(0, 2 * pad + 1, (b,), device=xb.device, generator=gen)
        ox = torch.randint(0, 2 * pad + 1, (b,), device=xb.device, generator=gen)
        flip = torch.rand(b, device=xb.device, generator=gen) < 0.5
        rows = oy[:, None] + torch.arange(h, device=xb.device)[None]             # (b, h)
        cols = ox[:, None] + torch.arange(w, device=xb.device)[None]             # (b, w)
        cols = torch.where(flip[:, None], cols.flip(1), cols)
        bi = torch.arange(b, device=xb.device)[:, None, None]
        xb = padded[bi, rows[:, :, None], cols[:, None, :]]                      # (b, h, w, c)
    x = xb.permute(0, 3, 1, 2).float().div_(255.0).sub_(PIXEL_MEAN).div_(PIXEL_STD)
    return x.contiguous(memory_format=torch.channels_last) if x.is_cuda else x.contiguous()


def _prep(xb, lane, augment=None, gen=None):
    return _prep_pixels(xb, augment, gen) if lane == "pixels" else xb


# ----------------------------------------------------------------------------------------------------------
# prediction
# ----------------------------------------------------------------------------------------------------------
def predict_proba(model, x, device="auto", batch_size: int = 1024, *, precision: str = "fp32") -> np.ndarray:
    """Softmax probabilities (N, C) float32 of ``model`` on ``x`` (features or uint8 images), eval mode.

    ``precision``: ``"fp32"``, ``"bf16"`` (autocast of the forward pass; the softmax is float32) or ``"auto"``
    (see :func:`labnoise._torch.resolve_precision`)."""
    from ._torch import resolve_device, resolve_precision

    lane = lane_of(x)
    dev = resolve_device(device)
    prec = resolve_precision(precision, dev)
    model = model.to(dev)
    X = _to_device_inputs(x, lane, dev)
    return _predict(model, X, lane, batch_size, prec).cpu().numpy()


def _predict(model, X, lane, batch_size=1024, precision="fp32"):
    import torch

    from ._torch import autocast
    was = model.training
    model.eval()
    out = []
    with torch.no_grad(), autocast(X.device, precision):
        for s in range(0, X.shape[0], batch_size):
            out.append(torch.softmax(model(_prep(X[s:s + batch_size], lane)).float(), dim=1))
    model.train(was)
    return torch.cat(out) if out else torch.empty(0)


def accuracy(model, x, y, device="auto", batch_size: int = 1024, *, precision: str = "fp32") -> float:
    """Top-1 accuracy of ``model`` on ``(x, y)``."""
    y = check_labels(y, name="y", length=len(x))
    return float((predict_proba(model, x, device, batch_size, precision=precision).argmax(1) == y).mean())


# ----------------------------------------------------------------------------------------------------------
# fit
# ----------------------------------------------------------------------------------------------------------
def fit(model, x, y, *, method="ce", x_test=None, y_test=None, clean_labels=None, epochs: int = 10,
        batch_size: int = 128, lr: float = 0.1, optimizer: str = "sgd", momentum: float = 0.9,
        weight_decay: float = 5e-4, schedule: str = "cosine", milestones=None, gamma: float = 0.1,
        augment: str | None = None, seed: int = 0, device="auto", hooks=(), progress: bool = True,
        num_classes: int | None = None, val_fraction: float = 0.0, select: str = "last",
        eval_every: int = 1, eval_batch_size: int = 1024, model_kwargs: dict | None = None,
        threads: int | None = None, precision: str = "fp32") -> FitResult:
    """Train ``model`` on ``(x, y)`` with ``method``; return a :class:`FitResult`.

    Parameters
    ----------
    model : nn.Module, list of nn.Module, str or callable
        A model, a list of models (one per ``method.num_models``), a name for
        :func:`labnoise.models.build_model` (``"mlp"``, ``"resnet18"``, ...) or a zero-argument factory.
        Names and factories are built under ``seed``; when a method needs two models and one module is
        given, the second is a deep copy re-initialised with ``seed + 1``. A module you pass is trained *in
        place* (it is ``result.models[0]``, moved to ``device``); pass ``copy.deepcopy(module)`` to keep the
        original. The ``method`` instance, by contrast, is never changed: a deep copy is trained
        (``result.method``).
    x : float (N, D) features or uint8 (N, H, W, C) images
    y : int (N,) labels or float (N, C) soft targets (soft cross-entropy; e.g. SNLS targets)
    method : str or Method
        ``"ce"``, ``"gce"``, ``"coteaching"``, ``"coteaching+"``, ``"jocor"``, ``"sigua"``, ``"plc"``, ``"lend"``
        (default settings) or an instance. A method with ``needs_embeddings = True`` needs models with
        ``forward_features(x) -> (embedding, logits)`` and reads ``state.embeddings``.
    x_test, y_test : optional test set, evaluated every ``eval_every`` epochs (never used for selection).
    clean_labels : optional int (N,) true labels, only to monitor ``train_acc_clean``.
    epochs, batch_size, lr : training length, mini-batch size, peak learning rate.
    optimizer : {"sgd", "adam"}; momentum and weight_decay apply to both (Adam: L2 via weight_decay).
    schedule : {"cosine", "step", "const"}; cosine decays per step to 0; step multiplies by ``gamma`` at each
        epoch in ``milestones`` (default: half and three quarters of ``epochs``).
    augment : None or "crop_flip" (pixel lane only).
    seed : int; controls initialisation, batch order, augmentation, dropout and the validation split.
    device : "auto" or a torch device string.
    hooks : iterable of :class:`Hook` objects or callables ``f(event, state)``.
    progress : show a tqdm bar over epochs.
    num_classes : default: ``y.shape[1]`` for soft targets, else the largest label seen + 1 (every class below it
        must then occur in y, y_test or clean_labels; a gap is refused: pass num_classes).
    val_fraction : fraction of the training set held out as a *noisy* validation split (0 = none).
    select : {"last", "best_val"}: return the last epoch's model, or the one with the best noisy-validation
        accuracy (needs ``val_fraction > 0``).
    eval_every : evaluate on the test set every this many epochs (and always at the last epoch).
    model_kwargs : extra arguments for :func:`labnoise.models.build_model` when ``model`` is a name.
    threads : torch CPU threads for this call (restored afterwards); None leaves torch's setting. On small,
        shared CPUs ``threads=1`` is often much faster for MLP heads (no OpenMP spin contention).
    precision : {"fp32", "bf16", "auto"}. ``"bf16"``: the forward pass runs under bfloat16 autocast (CPU or
        GPU; on CPUs with AMX / AVX512-BF16 an MLP head epoch takes about half the time), the logits are cast
        back to float32 before the method's loss, and parameters, gradients and optimiser state stay float32.
        The test/validation evaluation runs in the same precision. ``"auto"``: bf16 on GPUs and CPUs with
        native bf16 matrix units, else fp32 (:func:`labnoise._torch.resolve_precision`). Part of what a seed
        reproduces: same seed, device and precision -> identical history.

    Returns
    -------
    FitResult with ``models``, ``history`` (one dict per epoch: epoch, loss, lr, train_acc_noisy,
    train_acc_clean (if clean_labels), val_acc_noisy (if validation), test_acc (on evaluated epochs),
    time_s, plus the method's ``epoch_metrics()``), ``selected_epoch`` and the train/validation indices.
    ``train_acc_*`` are measured on the fly on the training mini-batches (train mode, augmented), at no cost.
    """
    with torch_threads(threads):
        return _fit(**locals())


def _fit(model, x, y, *, method, x_test, y_test, clean_labels, epochs, batch_size, lr, optimizer, momentum,
         weight_decay, schedule, milestones, gamma, augment, seed, device, hooks, progress, num_classes,
         val_fraction, select, eval_every, eval_batch_size, model_kwargs, threads, precision, **_):
    import torch

    from ._torch import autocast, resolve_device, resolve_precision, seed_everything, torch_generator
    from .methods import get_method
    from .methods.standard import Method

    t_start = time.perf_counter()
    # ---------------- validation ----------------
    lane = lane_of(x)
    n = int(x.shape[0])
    y_arr = y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else np.asarray(y)
    soft = y_arr.ndim == 2
    if soft:
        y_arr = check_features(y_arr, name="y (soft targets)", length=n)
        if (y_arr < -1e-6).any() or np.abs(y_arr.sum(1) - 1).max() > 1e-3:
            raise ValueError("soft targets y must be non-negative rows summing to 1 (one distribution per "
                             "example); normalise with y / y.sum(1, keepdims=True).")
        C = check_num_classes(num_classes if num_classes is not None else y_arr.shape[1])
        if y_arr.shape[1] != C:
            raise ValueError(f"soft targets have {y_arr.shape[1]} columns but num_classes={C}.")
    else:
        y_arr = check_labels(y_arr, name="y", length=n)
        if num_classes is not None:
            C = check_num_classes(num_classes)
        else:  # inferred: the largest label of y, y_test, clean_labels + 1, with no class gap
            seen = [y_arr] + [np.asarray(v).ravel() for v in (y_test, clean_labels) if v is not None]
            union = np.concatenate(seen)
            if np.issubdtype(union.dtype, np.integer) and union.size and union.min() >= 0:
                C = check_num_classes(infer_num_classes(union, name="the labels (y, y_test, clean_labels)"))
            else:  # the checks below name the bad argument
                C = check_num_classes(int(y_arr.max()) + 1)
        y_arr = check_labels(y_arr, C, name="y", length=n)
    if clean_labels is not None:
        clean_labels = check_labels(clean_labels, C, name="clean_labels", length=n)
    if (x_test is None) != (y_test is None):
        raise ValueError("pass both x_test and y_test, or neither.")
    if x_test is not None:
        if lane_of(x_test) != lane:
            raise ValueError(f"x is in the {lane} lane but x_test is not; pass test inputs of the same kind.")
        if tuple(x_test.shape[1:]) != tuple(x.shape[1:]):
            raise ValueError(f"x_test has shape {tuple(x_test.shape)} but x has {tuple(x.shape)}: every test input "
                             f"must have the training inputs' shape {tuple(x.shape[1:])}; pass x_test from the same "
                             "encoder (features) or image size as x.")
        y_test = check_labels(y_test, C, name="y_test", length=len(x_test))
    for nm, v in (("epochs", epochs), ("batch_size", batch_size), ("eval_every", eval_every)):
        if int(v) != v or v < 1:
            raise ValueError(f"{nm} must be a positive integer, got {v!r}.")
    epochs, batch_size = int(epochs), int(batch_size)
    if not (lr > 0):
        raise ValueError(f"lr must be > 0, got {lr!r}.")
    optimizer = check_choice(optimizer, ("sgd", "adam"), name="optimizer")
    schedule = check_choice(schedule, ("cosine", "step", "const"), name="schedule")
    select = check_choice(select, ("last", "best_val"), name="select")
    if augment is not None:
        check_choice(augment, ("crop_flip",), name="augment")
        if lane != "pixels":
            raise ValueError("augment='crop_flip' applies to images (pixel lane); for features pass augment=None.")
    if not (0.0 <= val_fraction < 0.5):
        raise ValueError(f"val_fraction must be in [0, 0.5), got {val_fraction!r}.")
    if select == "best_val" and val_fraction <= 0:
        raise ValueError("select='best_val' needs a held-out noisy validation split: pass val_fraction=0.1 "
                         "(or use select='last').")
    if milestones is None:
        milestones = [epochs // 2, (3 * epochs) // 4]
    if isinstance(method, str):
        method = get_method(method)
    if not isinstance(method, Method):
        raise ValueError(f"method must be a name or a labnoise.methods.Method, got {type(method).__name__}.")
    if soft and not method.soft_targets:
        raise ValueError(f"method {method.name!r} needs integer labels, not soft targets; pass y.argmax(1).")
    method = copy.deepcopy(method)  # per-run state never leaks between fits

    dev = resolve_device(device)
    prec = resolve_precision(precision, dev)
    seed = int(seed)
    seed_everything(seed)

    # ---------------- split ----------------
    if val_fraction > 0:
        perm = np.random.default_rng(seed + 7919).permutation(n)
        n_val = max(1, int(round(val_fraction * n)))
        val_idx, tr_idx = np.sort(perm[:n_val]), np.sort(perm[n_val:])
    else:
        val_idx, tr_idx = None, np.arange(n)

    # ---------------- models ----------------
    models = _build_models(model, method.num_models, x, C, seed, model_kwargs or {})
    models = [m.to(dev) for m in models]
    if dev.type == "cuda" and lane == "pixels":
        models = [m.to(memory_format=torch.channels_last) for m in models]
    for m in models:
        m.train()
    params = [p for m in models for p in m.parameters() if p.requires_grad]
    # fp32 keeps torch's default update (bit for bit the numbers of earlier releases); the bf16 lane, a new
    # set of numbers anyway, uses the fused kernel (one pass over all parameters, about 2x faster a step)
    fused = {"fused": True} if prec == "bf16" and dev.type in ("cpu", "cuda") else {}
    if optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay, **fused)
    else:
        opt = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay, **fused)

    # ---------------- data on the device ----------------
    X_all = _to_device_inputs(x, lane, dev)
    if prec == "bf16" and lane == "features":
        # autocast would round every batch to bf16 before the first matmul anyway: round once, gather half the
        # bytes (the same products, bit for bit)
        X_all = X_all.to(torch.bfloat16)
    tr_t = torch.from_numpy(tr_idx).to(dev)
    X = X_all if val_idx is None else X_all[tr_t]
    Y = _np_to_torch(y_arr[tr_idx]).to(dev)
    Yhard = Y.argmax(1) if soft else Y
    Yclean = _np_to_torch(clean_labels[tr_idx]).to(dev) if clean_labels is not None else None
    Xval = X_all[torch.from_numpy(val_idx).to(dev)] if val_idx is not None else None
    Yval = _np_to_torch((y_arr.argmax(1) if soft else y_arr)[val_idx]).to(dev) if val_idx is not None else None
    Xtest = _to_device_inputs(x_test, lane, dev, "x_test") if x_test is not None else None
    if Xtest is not None and prec == "bf16" and lane == "features":
        Xtest = Xtest.to(torch.bfloat16)
    Ytest = _np_to_torch(y_test).to(dev) if x_test is not None else None
    del X_all

    n_tr = X.shape[0]
    steps_per_epoch = n_tr // batch_size + (1 if n_tr % batch_size > 1 else 0)  # a final batch of 1 is dropped
    if steps_per_epoch < 1:
        raise ValueError(f"the training set ({n_tr} examples) is too small for batch_size={batch_size}.")
    total_steps = epochs * steps_per_epoch
    sched = torch.optim.lr_scheduler.LambdaLR(opt, _lr_lambda(schedule, total_steps, steps_per_epoch,
                                                              milestones, gamma))
    shuffle_gen = torch_generator(seed + 1)
    aug_gen = torch_generator(seed + 2, device=dev) if augment else None

    state = TrainState(epochs=epochs, steps_per_epoch=steps_per_epoch, num_classes=C, n_train=n_tr, device=dev,
                       lane=lane, models=models, labels=Y, clean_labels=Yclean, method=method)
    state.predict_train = lambda i=0: _predict(models[i], X, lane, eval_batch_size, prec)
    hooks = list(hooks)
    needs_emb = bool(getattr(method, "needs_embeddings", False))
    if needs_emb:
        for m in models:
            if not callable(getattr(m, "forward_features", None)):
                raise ValueError(f"method {method.name!r} needs embeddings: the model "
                                 f"{type(m).__name__} must define forward_features(x) -> (embedding, logits) "
                                 "(labnoise.models' MLP, ResNet and FastCifarNet do).")
    method.setup(state)

    best = (-1.0, 0, None)
    history = state.history
    from tqdm.auto import tqdm
    bar = tqdm(range(epochs), desc=f"fit {method.name}", unit="epoch", disable=not progress, leave=False)
    for epoch in bar:
        t0 = time.perf_counter()
        state.epoch = epoch
        method.on_epoch_start(state)
        order = torch.randperm(n_tr, generator=shuffle_gen).to(dev)
        loss_sum = torch.zeros((), device=dev)
        hit_noisy = torch.zeros((), device=dev, dtype=torch.long)
        hit_clean = torch.zeros((), device=dev, dtype=torch.long)
        seen = 0
        for b in range(steps_per_epoch):
            idx = order[b * batch_size:(b + 1) * batch_size]
            state.batch_indices = idx
            # index_select: the same rows as X[idx], gathered about 2x faster than advanced indexing on a CPU
            xb = _prep(X.index_select(0, idx), lane, augment, aug_gen)
            with autocast(dev, prec):
                if needs_emb:
                    pairs = [m.forward_features(xb) for m in models]
                    state.embeddings = [p[0].float() for p in pairs]
                    logits = [p[1].float() for p in pairs]
                else:
                    logits = [m(xb).float() for m in models]  # the loss is computed in float32
            state.logits = logits
            loss = method.loss(logits, Y.index_select(0, idx), state)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            state.loss = loss.detach()
            state.step += 1
            with torch.no_grad():
                pred = logits[0].argmax(1)
                loss_sum += state.loss * idx.numel()
                hit_noisy += (pred == Yhard.index_select(0, idx)).sum()
                if Yclean is not None:
                    hit_clean += (pred == Yclean.index_select(0, idx)).sum()
                seen += idx.numel()
            for h in hooks:
                _call(h, "batch_end", state)
        row = {"epoch": epoch + 1, "loss": float(loss_sum) / seen, "lr": float(opt.param_groups[0]["lr"]),
               "train_acc_noisy": float(hit_noisy) / seen}
        if Yclean is not None:
            row["train_acc_clean"] = float(hit_clean) / seen
        method.on_epoch_end(state)
        if Xval is not None:
            row["val_acc_noisy"] = _acc(models[0], Xval, Yval, lane, eval_batch_size, prec)
        if Xtest is not None and ((epoch + 1) % eval_every == 0 or epoch + 1 == epochs):
            accs = [_acc(m, Xtest, Ytest, lane, eval_batch_size, prec) for m in models]
            row["test_acc"] = accs[0]
            if len(accs) > 1:
                row["test_acc_models"] = accs
        row.update(method.epoch_metrics())
        row["time_s"] = round(time.perf_counter() - t0, 4)
        history.append(row)
        if select == "best_val" and row["val_acc_noisy"] > best[0]:
            best = (row["val_acc_noisy"], epoch + 1, [copy.deepcopy(m.state_dict()) for m in models])
        for h in hooks:
            _call(h, "epoch_end", state)
        if progress:
            bar.set_postfix({k: round(row[k], 4) for k in ("loss", "train_acc_noisy", "test_acc") if k in row})
    bar.close()

    selected = epochs
    if select == "best_val":
        selected = best[1]
        for m, sd in zip(models, best[2]):
            m.load_state_dict(sd)
    for m in models:
        m.eval()
    return FitResult(models=models, history=history, method=method, lane=lane, selected_epoch=selected,
                     train_indices=tr_idx, val_indices=val_idx, seconds=time.perf_counter() - t_start,
                     precision=prec)


def _acc(model, X, Y, lane, batch_size, precision="fp32"):
    p = _predict(model, X, lane, batch_size, precision)
    return float((p.argmax(1) == Y).float().mean())


def _call(h, event, state):
    if callable(h) and not isinstance(h, Hook):
        h(event, state)
    else:
        getattr(h, "on_" + event)(state)


def _lr_lambda(schedule, total_steps, steps_per_epoch, milestones, gamma):
    if schedule == "cosine":
        return lambda s: 0.5 * (1.0 + math.cos(math.pi * min(s, total_steps) / total_steps))
    if schedule == "step":
        ms = sorted(int(m) for m in milestones)
        return lambda s: gamma ** sum(s // steps_per_epoch >= m for m in ms)
    return lambda s: 1.0


def _build_models(model, num_models, x, num_classes, seed, model_kwargs):
    import torch
    from torch import nn

    from .models import build_model

    def make(i):
        torch.manual_seed(seed + i)
        if isinstance(model, str):
            in_dim = tuple(x.shape[1:]) if lane_of(x) == "pixels" else int(x.shape[1])
            return build_model(model, in_dim, num_classes, **model_kwargs)
        return model()

    if isinstance(model, (list, tuple)):
        models = list(model)
        if len(models) != num_models:
            raise ValueError(f"the method needs {num_models} model(s), got a list of {len(models)}.")
    elif isinstance(model, nn.Module):
        models = [model]
        for i in range(1, num_models):
            m = copy.deepcopy(model)
            torch.manual_seed(seed + i)
            for mod in m.modules():
                if hasattr(mod, "reset_parameters"):
                    mod.reset_parameters()
            models.append(m)
    elif isinstance(model, str) or callable(model):
        models = [make(i) for i in range(num_models)]
    else:
        raise ValueError(f"model must be an nn.Module, a list of modules, a model name or a factory; "
                         f"got {type(model).__name__}.")
    torch.manual_seed(seed)
    return models
