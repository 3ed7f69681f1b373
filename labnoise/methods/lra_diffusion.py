"""LRA-Diffusion: a conditional diffusion model over the label vector, conditioned on frozen encoder features.

Written from the description in REFERENCE.md (Label-Retrieval-Augmented diffusion, Chen et al. 2023), not
from the authors' code. The model learns ``p(y | x)`` where ``y`` is the C-dimensional label vector and ``x``
the frozen encoder features of an image. Training targets are *retrieved* from the feature-space neighbours
of each example, so a mislabelled example inside a clean neighbourhood is mostly trained toward the
neighbourhood's label:

* integer ``labels`` (the given, possibly noisy ones; the original method's retrieval; the public code also mixes in the example's own
  label, see below): at every step and for every example one neighbour is drawn
  uniformly among its ``k`` nearest neighbours and that neighbour's (noisy) label, one-hot, is the target;
* a soft ``N x C`` target (SNLS, :func:`labnoise.methods.snls.snls_targets`): the soft vector replaces the
  sampled one-hot (no sampling).

Choices made here (all parameters of :class:`LRADiffusion`):

* label space: a target vector ``t`` on the simplex is mapped to ``y0 = 2 t - 1`` (so a one-hot becomes a
  +-1 vector, the scale of the unit Gaussian noise); the prediction is the argmax of the denoised vector.
* forward process: standard DDPM, ``y_t = sqrt(abar_t) y0 + sqrt(1 - abar_t) eps``, with ``T = 1000`` and a
  ``"linear"`` (1e-4..0.02, default) or ``"cosine"`` beta schedule. The original builds on CARD and adds a
  classifier prior mean to the forward process; we leave the prior out (zero mean), which keeps the model
  self-contained and makes the neighbour-retrieved targets its only source of label information.
* denoiser: a small MLP on ``(y_t, timestep embedding, feature embedding)``: the three embeddings are summed
  and passed through residual blocks (LayerNorm, SiLU) that each re-inject the condition.
* parameterisation: ``"x0"`` (predict the clean label vector, default) or ``"eps"`` (predict the noise); the
  loss is the mean squared error on the predicted quantity.
* inference (``inference``): ``"zero"`` (default) is what the public CIFAR code does: deterministic DDIM
  (eta = 0) with ``ddim_steps`` (default 10) steps started from ``y_T = 0`` (the prior mean, since there is no
  classifier prior), so one call is one deterministic prediction; the prediction is the argmax of the denoised
  vector. Started from the mean, the first step predicts (roughly) the *mean* label vector of the training
  targets near ``x``, so the argmax approaches the plurality label of the neighbourhood. ``"sample"`` starts
  from seeded Gaussian noise instead and generates a label: a well-trained model *samples* the label
  distribution it was trained on (with integer labels, the neighbours' label histogram), so a single sample
  (``n_samples=1``) reproduces the label noise in proportion (e.g. 40% symmetric noise -> about 60% of single
  samples correct, even on perfectly clean neighbourhoods); ``n_samples > 1`` averages the denoised vectors of
  several draws, which approaches the plurality label. ``n_samples`` is ignored with ``"zero"``.
* what still differs from the public model (not implemented here): its ResNet-18 image branch on augmented
  pixels beside the frozen features; the weighting of each example's loss by how many neighbours agree with
  the sampled label; the label drawn from the ``k`` neighbours *plus* the example's own label (here the
  example counts only through ``include_self``); its EMA and 1000 epochs; and its checkpoint selection on a
  clean held-out split of 5,000 training images (we select none by default, see below).
* model selection: the public code selected checkpoints on *test* accuracy, which leaks the test set. Here the
  default is the **last epoch**; with ``val_fraction > 0`` a seeded held-out split of the *noisy* training data
  is kept out of training and the epoch with the best accuracy against those noisy (or argmax-soft) labels is
  restored (``best_epoch_``).

    >>> from labnoise.methods.lra_diffusion import LRADiffusion
    >>> model = LRADiffusion(epochs=30, seed=0).fit(train_features, labels)   # doctest: +SKIP
    >>> pred = model.predict(test_features)                                   # doctest: +SKIP

:class:`LRADiffusion` is a scikit-learn estimator: every option is a keyword-only constructor argument stored
unchanged (``get_params`` / ``set_params`` / ``sklearn.base.clone`` work), what :meth:`LRADiffusion.fit`
learns is in attributes with a trailing underscore (``model_`` -- the denoiser it builds itself, so no
caller's module is ever trained --, ``history_``, ``best_epoch_``, ...), and predicting before ``fit`` raises
``sklearn.exceptions.NotFittedError``.
"""
from __future__ import annotations

import copy
import math

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .._validation import check_choice, check_features, check_labels, check_num_classes, rng

__all__ = ["LRADiffusion", "beta_schedule", "INFERENCE", "inference_name"]

#: inference modes of :class:`LRADiffusion`
INFERENCE = ("zero", "sample")


def inference_name(inference: str = "zero", n_samples: int = 1, ddim_steps: int = 10) -> str:
    """A readable name of an inference setting, e.g. for ``metrics.lra_inference``."""
    check_choice(inference, INFERENCE, name="inference")
    if inference == "zero":
        return f"deterministic DDIM ({ddim_steps} steps, eta 0) from y_T = 0 (the public code)"
    n = int(n_samples)
    return (f"DDIM ({ddim_steps} steps, eta 0) from Gaussian noise, "
            + ("one sample" if n == 1 else f"mean of {n} samples"))


def beta_schedule(name: str = "linear", timesteps: int = 1000) -> np.ndarray:
    """The diffusion noise schedule ``beta_1..beta_T`` as float64.

    Parameters
    ----------
    name : ``"linear"`` (1e-4 to 0.02 for T = 1000, Ho et al. 2020, scaled by 1000 / T) or ``"cosine"``
        (Nichol & Dhariwal 2021, s = 0.008, betas clipped at 0.999).
    timesteps : number of diffusion steps ``T`` (>= 2).
    """
    check_choice(name, ("linear", "cosine"), name="beta schedule")
    if int(timesteps) != timesteps or timesteps < 2:
        raise ValueError(f"timesteps must be an integer >= 2, got {timesteps!r}.")
    T = int(timesteps)
    if name == "linear":  # scaled so that any T gives the same total noise as T = 1000
        scale = 1000.0 / T
        return np.clip(np.linspace(scale * 1e-4, scale * 0.02, T, dtype=np.float64), 1e-8, 0.999)
    s = 0.008
    x = np.arange(T + 1, dtype=np.float64) / T
    f = np.cos((x + s) / (1 + s) * math.pi / 2) ** 2
    abar = f / f[0]
    return np.clip(1.0 - abar[1:] / abar[:-1], 1e-8, 0.999)


def _torch_modules():
    """Build the denoiser classes lazily so that importing this module does not import torch."""
    import torch
    from torch import nn

    class _Block(nn.Module):
        def __init__(self, hidden):
            super().__init__()
            self.norm = nn.LayerNorm(hidden)
            self.lin1 = nn.Linear(hidden, hidden)
            self.cond = nn.Linear(hidden, hidden)
            self.lin2 = nn.Linear(hidden, hidden)

        def forward(self, h, c):
            z = torch.nn.functional.silu(self.lin1(self.norm(h)) + self.cond(c))
            return h + self.lin2(z)

    class Denoiser(nn.Module):
        """MLP denoiser: ``(y_t, t, features) -> x0`` or ``eps`` (C values)."""

        def __init__(self, num_classes, feature_dim, hidden=256, depth=2, time_dim=64, dropout=0.0):
            super().__init__()
            self.time_dim = time_dim
            self.y_in = nn.Linear(num_classes, hidden)
            self.t_mlp = nn.Sequential(nn.Linear(time_dim, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
            self.f_mlp = nn.Sequential(nn.Dropout(dropout), nn.Linear(feature_dim, hidden), nn.SiLU(),
                                       nn.Linear(hidden, hidden))
            self.blocks = nn.ModuleList([_Block(hidden) for _ in range(depth)])
            self.out_norm = nn.LayerNorm(hidden)
            self.out = nn.Linear(hidden, num_classes)

        def time_embedding(self, t):
            half = self.time_dim // 2
            freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
            args = t.float()[:, None] * freqs[None, :]
            return torch.cat([torch.sin(args), torch.cos(args)], dim=1)

        def condition(self, feats):
            """The feature embedding (computed once per batch, reused across DDIM steps)."""
            return self.f_mlp(feats)

        def forward(self, y_t, t, fcond):
            c = fcond + self.t_mlp(self.time_embedding(t))
            h = self.y_in(y_t) + c
            for blk in self.blocks:
                h = blk(h, c)
            return self.out(torch.nn.functional.silu(self.out_norm(h)))

    return Denoiser


class LRADiffusion(BaseEstimator):
    """Label-retrieval-augmented diffusion classifier on frozen features (a scikit-learn estimator).

    Parameters (keyword-only)
    -------------------------
    num_classes : number of classes C (default: inferred in :meth:`fit` from the labels or target width).
    k : neighbours from which a training label is retrieved when :meth:`fit` gets integer labels (the original
        uses 10 to 50). ``k=1`` with ``include_self=True`` trains on the given labels themselves.
    include_self : whether an example counts among its own ``k`` neighbours.
    hidden, depth, dropout : width, number of residual blocks and input dropout of the MLP denoiser.
    timesteps, schedule : diffusion steps ``T`` and ``"linear"`` or ``"cosine"`` beta schedule.
    prediction : ``"x0"`` (predict the clean label vector) or ``"eps"`` (predict the noise).
    ddim_steps : DDIM steps at inference (eta = 0).
    inference : ``"zero"`` (default, the public code): deterministic DDIM from ``y_T = 0``; ``"sample"``:
        DDIM from seeded Gaussian noise, ``n_samples`` draws averaged.
    n_samples : with ``inference="sample"``: noise draws averaged per example (1 = one generated label).
    epochs, batch_size, lr, weight_decay : AdamW training settings (cosine learning-rate decay to 0).
    val_fraction : 0 -> keep the last epoch (default). > 0 -> hold out this seeded fraction of the training
        examples and restore the epoch with the best accuracy against their *noisy* labels.
    standardize : standardise features with the training mean and standard deviation.
    seed : seeds initialisation, batching, neighbour sampling, diffusion noise and inference noise.
    device : ``"auto"``, ``"cpu"``, ``"cuda"``...; the data are moved to the device once.
    precision : ``"fp32"``, ``"bf16"`` (autocast of the denoiser's matmuls; the loss, the diffusion arithmetic
        and the DDIM updates stay float32) or ``"auto"``: bf16 on a GPU and on CPUs with native bf16 matmuls
        (about 4x faster there), else fp32. Part of what a seed reproduces: same seed, device and precision ->
        identical output.
    progress : show a tqdm bar over epochs.

    Attributes (after :meth:`fit`)
    ------------------------------
    model_ : the trained denoiser (a torch module built by :meth:`fit`, in eval mode).
    device_, precision_ : the resolved device and precision (``"fp32"`` or ``"bf16"``).
    mean_, scale_ : the feature standardisation (zeros and ones when ``standardize=False``).
    history_ : dict with per-epoch ``loss`` (and ``val_acc`` when ``val_fraction > 0``).
    best_epoch_ : the epoch (1-based) whose weights are kept.
    val_indices_ : the held-out noisy validation rows (empty when ``val_fraction == 0``).
    train_neighbors_ : (N_train, k) retrieval table used for integer labels (indices into the input), else None.
    num_classes_, n_features_in_ : sizes seen in :meth:`fit`.
    """

    def __init__(self, *, num_classes: int | None = None, k: int = 10, include_self: bool = True, hidden: int = 256,
                 depth: int = 2, dropout: float = 0.0, timesteps: int = 1000, schedule: str = "linear",
                 prediction: str = "x0", ddim_steps: int = 10, inference: str = "zero", n_samples: int = 1,
                 epochs: int = 30, batch_size: int = 256, lr: float = 1e-3, weight_decay: float = 1e-4,
                 val_fraction: float = 0.0, standardize: bool = True, seed: int = 0, device: str = "auto",
                 precision: str = "auto", progress: bool = True):
        # scikit-learn convention: store every option unchanged; validation happens in fit
        self.num_classes = num_classes
        self.k = k
        self.include_self = include_self
        self.hidden = hidden
        self.depth = depth
        self.dropout = dropout
        self.timesteps = timesteps
        self.schedule = schedule
        self.prediction = prediction
        self.ddim_steps = ddim_steps
        self.inference = inference
        self.n_samples = n_samples
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.val_fraction = val_fraction
        self.standardize = standardize
        self.seed = seed
        self.device = device
        self.precision = precision
        self.progress = progress

    # ------------------------------------------------------------------------------------------------ fit
    def fit(self, features, labels, *, neighbors=None) -> "LRADiffusion":
        """Train a new denoiser (refitting starts from scratch); returns ``self``.

        Parameters
        ----------
        features : (N, D) frozen encoder features of the training images.
        labels : either (N,) integer given (noisy) labels -> per-step label retrieval from the ``k`` nearest
            neighbours (original LRA-Diffusion), or (N, C) soft targets with rows summing to 1 (e.g. SNLS) ->
            used as is.
        neighbors : optional (N, >= k) int array of precomputed neighbour indices (nearest first, the example
            itself first when ``include_self``), e.g. from :func:`labnoise.neighbors.neighbor_indices`;
            computed with :func:`labnoise.neighbors.knn` otherwise (with ``val_fraction > 0``: among the
            training part only; precomputed neighbors are then refused). Only used with integer labels.
        """
        import torch
        from tqdm.auto import tqdm

        from .._torch import resolve_device, resolve_precision, torch_generator

        self._check_params()
        X = check_features(features)
        n = X.shape[0]
        y_arr = np.asarray(labels)
        if y_arr.ndim == 2:
            soft = check_features(y_arr, name="soft targets", length=n)
            C = check_num_classes(self.num_classes if self.num_classes is not None else soft.shape[1])
            if soft.shape[1] != C:
                raise ValueError(f"soft targets have {soft.shape[1]} columns but num_classes={C}; pass an N x C array.")
            if (soft < -1e-6).any() or not np.allclose(soft.sum(1), 1.0, atol=1e-3):
                raise ValueError("soft targets must be non-negative with rows summing to 1 (probability vectors); "
                                 "normalise them with targets / targets.sum(1, keepdims=True).")
            labels = soft.argmax(1)
        elif y_arr.ndim == 1:
            soft = None
            labels = check_labels(y_arr, self.num_classes, name="labels", length=n)
            C = check_num_classes(self.num_classes, labels)
            if C < 2:  # pragma: no cover - check_num_classes raises
                raise ValueError("need at least 2 classes.")
        else:
            raise ValueError(f"labels must be (N,) integer labels or (N, C) soft targets, got shape {y_arr.shape}.")
        if n < 2:
            raise ValueError("need at least 2 training examples.")
        self.num_classes_ = C
        self.n_features_in_ = X.shape[1]

        # held-out noisy validation split (never the test set)
        gen_np = rng(self.seed)
        if self.val_fraction > 0:
            n_val = max(1, int(round(self.val_fraction * n)))
            if n_val >= n:
                raise ValueError(f"val_fraction={self.val_fraction} leaves no training data; use a value in (0, 0.5].")
            order = gen_np.permutation(n)
            val_idx, tr_idx = np.sort(order[:n_val]), np.sort(order[n_val:])
        else:
            val_idx, tr_idx = np.empty(0, np.int64), np.arange(n)

        # neighbour retrieval table (integer labels only), restricted to training examples
        if soft is None:
            if neighbors is None:
                nbr = _neighbor_table(X[tr_idx], self.k, self.include_self, device=self.device)
                nbr = tr_idx[nbr]
            else:
                if len(val_idx):
                    raise ValueError("precomputed neighbors cannot be combined with val_fraction > 0 (they may "
                                     "retrieve held-out labels); pass neighbors=None to search the training part.")
                nbr = np.asarray(neighbors)
                if nbr.ndim != 2 or nbr.shape[0] != n or nbr.shape[1] < self.k:
                    raise ValueError(f"neighbors must be an (N, >= k) = ({n}, >= {self.k}) index array, got shape "
                                     f"{nbr.shape}; compute it with labnoise.neighbors.knn(features, k).")
                nbr = nbr[:, : self.k].astype(np.int64)
                if nbr.min() < 0 or nbr.max() >= n:
                    raise ValueError("neighbors contains indices outside [0, N); pass indices into the training set.")
                nbr = nbr[tr_idx]
        dev = resolve_device(self.device)
        self.device_ = dev
        self.precision_ = resolve_precision(self.precision, dev)

        if self.standardize:
            mu = X[tr_idx].mean(0)
            sd = X[tr_idx].std(0)
            sd = np.where(sd > 1e-6, sd, 1.0).astype(np.float32)
        else:
            mu = np.zeros(X.shape[1], np.float32)
            sd = np.ones(X.shape[1], np.float32)
        self.mean_, self.scale_ = mu.astype(np.float32), sd.astype(np.float32)

        Xt = torch.from_numpy(((X[tr_idx] - self.mean_) / self.scale_).astype(np.float32)).to(dev)
        if soft is None:
            lab_all = torch.from_numpy(np.array(labels, dtype=np.int64)).to(dev)  # a writable copy
            nbr_t = torch.from_numpy(nbr).to(dev)
        else:
            soft_t = torch.from_numpy(soft[tr_idx].astype(np.float32)).to(dev)

        self._init_model(dev)
        net = self.model_
        opt = torch.optim.AdamW(net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        n_tr = len(tr_idx)
        steps_per_epoch = max(1, math.ceil(n_tr / self.batch_size))
        total = steps_per_epoch * self.epochs
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, total) / total)))
        g = torch_generator(self.seed + 1, device=dev)
        sab, s1ab = self._sqrt_abar
        self.history_ = {"loss": []}
        if len(val_idx):
            self.history_["val_acc"] = []
        best = (-1.0, 0, None)
        eye = torch.eye(C, device=dev)

        bar = tqdm(range(self.epochs), desc="LRA-Diffusion", disable=not self.progress, leave=False)
        for epoch in bar:
            net.train()
            perm = torch.randperm(n_tr, generator=g, device=dev)
            tot = torch.zeros((), device=dev)
            for s in range(steps_per_epoch):
                idx = perm[s * self.batch_size:(s + 1) * self.batch_size]
                b = idx.shape[0]
                if soft is None:
                    j = torch.randint(self.k, (b,), generator=g, device=dev)
                    target = eye[lab_all[nbr_t[idx, j]]]
                else:
                    target = soft_t[idx]
                y0 = 2.0 * target - 1.0
                t = torch.randint(self.timesteps, (b,), generator=g, device=dev)
                eps = torch.randn(b, C, generator=g, device=dev)
                y_t = sab[t, None] * y0 + s1ab[t, None] * eps
                with self._autocast():
                    out = net(y_t, t, net.condition(Xt[idx]))
                loss = torch.mean((out.float() - (y0 if self.prediction == "x0" else eps)) ** 2)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                tot += loss.detach() * b
            ep_loss = float(tot) / n_tr
            self.history_["loss"].append(ep_loss)
            if len(val_idx):
                acc = float(np.mean(self.predict(X[val_idx]) == labels[val_idx]))
                self.history_["val_acc"].append(acc)
                if acc > best[0]:
                    best = (acc, epoch + 1, copy.deepcopy(net.state_dict()))
                bar.set_postfix(loss=f"{ep_loss:.4f}", val_acc=f"{acc:.3f}")
            else:
                bar.set_postfix(loss=f"{ep_loss:.4f}")
        bar.close()
        if len(val_idx) and best[2] is not None:
            net.load_state_dict(best[2])
            self.best_epoch_ = best[1]
        else:
            self.best_epoch_ = self.epochs
        self.val_indices_ = val_idx
        self.train_neighbors_ = nbr if soft is None else None
        net.eval()
        return self

    # ------------------------------------------------------------------------------------------- predict
    def denoise(self, features, *, inference=None, n_samples=None, seed=None, batch_size=4096):
        """The denoised label vectors (N, C) in the model's +-1 space.

        ``inference`` (default: the model's): ``"zero"`` -> one deterministic DDIM run from ``y_T = 0``;
        ``"sample"`` -> the average over ``n_samples`` DDIM runs from Gaussian noise; ``seed`` (default: the
        model's seed) fixes that noise, so repeated calls agree.
        """
        import torch

        from .._torch import torch_generator

        self._check_fitted()
        X = check_features(features)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"features have {X.shape[1]} columns but the model was fitted on {self.n_features_in_}; "
                             "use the same encoder for training and prediction.")
        mode = self.inference if inference is None else inference
        check_choice(mode, INFERENCE, name="inference")
        S = int(self.n_samples if n_samples is None else n_samples)
        if S < 1:
            raise ValueError(f"n_samples must be >= 1, got {S}.")
        if mode == "zero":
            S = 1
        dev = self.device_
        net = self.model_
        was_training = net.training
        net.eval()
        g = torch_generator((self.seed if seed is None else int(seed)) + 2, device=dev)
        ab = self._abar
        ts = np.unique(np.linspace(0, self.timesteps - 1, self.ddim_steps).round().astype(np.int64))[::-1]
        C = self.num_classes_
        out = np.empty((X.shape[0], C), np.float32)
        with torch.no_grad():
            step = max(1, int(batch_size) // S)  # about batch_size rows (examples x samples) per pass
            for a in range(0, X.shape[0], step):
                xb = torch.from_numpy((X[a:a + step] - self.mean_) / self.scale_).to(dev)
                b = xb.shape[0]
                with self._autocast():
                    fc = net.condition(xb).float().repeat(S, 1)
                if mode == "zero":
                    y = torch.zeros(b, C, device=dev)
                else:
                    y = torch.randn(S * b, C, generator=g, device=dev)
                x0 = y
                for i, t in enumerate(ts):
                    tt = torch.full((1,), int(t), device=dev, dtype=torch.long)  # broadcast over the batch
                    with self._autocast():
                        pred = net(y, tt, fc).float()
                    a_t = ab[int(t)]
                    if self.prediction == "x0":
                        x0 = pred.clamp(-1.5, 1.5)
                        eps = (y - a_t.sqrt() * x0) / (1 - a_t).sqrt()
                    else:
                        eps = pred
                        x0 = ((y - (1 - a_t).sqrt() * eps) / a_t.sqrt()).clamp(-1.5, 1.5)
                    a_prev = ab[int(ts[i + 1])] if i + 1 < len(ts) else torch.ones((), device=dev)
                    y = a_prev.sqrt() * x0 + (1 - a_prev).sqrt() * eps
                out[a:a + b] = x0.view(S, b, C).mean(0).cpu().numpy()
        if was_training:
            net.train()
        return out

    def predict_proba(self, features, **kw) -> np.ndarray:
        """Denoised label vectors mapped back to the simplex: ``clip((y + 1) / 2, 0)`` renormalised."""
        v = np.clip((self.denoise(features, **kw) + 1.0) / 2.0, 0.0, None)
        s = v.sum(1, keepdims=True)
        C = v.shape[1]
        return np.where(s > 0, v / np.where(s > 0, s, 1.0), 1.0 / C).astype(np.float32)

    def predict(self, features, **kw) -> np.ndarray:
        """Predicted classes (N,) int64: argmax of the denoised label vector."""
        return self.denoise(features, **kw).argmax(1).astype(np.int64)

    def score(self, features, labels, **kw) -> float:
        """Accuracy of :meth:`predict` against ``labels`` (``kw``: ``inference``, ``n_samples``, ``seed``)."""
        X = check_features(features)
        lab = check_labels(labels, self.num_classes_, length=X.shape[0])
        return float(np.mean(self.predict(X, **kw) == lab))

    # ------------------------------------------------------------------------------------------- helpers
    def _check_params(self):
        check_choice(self.schedule, ("linear", "cosine"), name="schedule")
        check_choice(self.prediction, ("x0", "eps"), name="prediction")
        check_choice(self.precision, ("auto", "fp32", "bf16"), name="precision")
        check_choice(self.inference, INFERENCE, name="inference")
        for name in ("k", "hidden", "depth", "epochs", "batch_size", "ddim_steps", "timesteps", "n_samples"):
            v = getattr(self, name)
            if int(v) != v or v < (0 if name == "depth" else 1):
                raise ValueError(f"{name} must be a positive integer, got {v!r}.")
        if self.ddim_steps > self.timesteps:
            raise ValueError(f"ddim_steps ({self.ddim_steps}) cannot exceed timesteps ({self.timesteps}).")
        if not (0.0 <= self.val_fraction < 1.0):
            raise ValueError(f"val_fraction must be in [0, 1), got {self.val_fraction!r}; 0 keeps the last epoch.")
        if self.seed is None:
            raise ValueError("seed is required (an int) so that results are reproducible.")

    def _init_model(self, dev):
        import torch

        Denoiser = _torch_modules()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(self.seed))
            net = Denoiser(self.num_classes_, self.n_features_in_, hidden=self.hidden, depth=self.depth,
                           dropout=self.dropout)
        self.model_ = net.to(dev)
        betas = torch.tensor(beta_schedule(self.schedule, self.timesteps), dtype=torch.float64)
        abar = torch.cumprod(1.0 - betas, 0).to(torch.float32).to(dev)
        self._abar = abar
        self._sqrt_abar = (abar.sqrt(), (1.0 - abar).sqrt())

    def _autocast(self):
        from .._torch import autocast

        return autocast(self.device_, self.precision_)

    def _check_fitted(self):
        check_is_fitted(self, "model_", msg="This %(name)s is not fitted yet; call .fit(features, labels) first.")


def _neighbor_table(X: np.ndarray, k: int, include_self: bool, device="auto") -> np.ndarray:
    """(N, k) int64 indices of each row's k nearest rows (Euclidean, exact, :func:`labnoise.neighbors.knn`)."""
    from ..neighbors import neighbor_indices

    return neighbor_indices(X, k, include_self=include_self, device=device)
