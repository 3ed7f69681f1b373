"""DynaCor (Kim et al., CVPR 2024): noisy-label detection from the *dynamics* of training, with corrupted copies.

Steps, as run here (frozen-feature lane). Where the paper's text and its public code (kimsu55/DynaCor, which
produced the paper's Table 1) differ, the default follows the public code and the other reading is an option.

1. **Corruption.** ``round(corruption_rate * N)`` originals (gamma, 10%) are duplicated *in addition* to the
   originals, drawn without replacement from the ``1 - holdout`` share of the data that is not held out
   (public code: ``holdout=0.1``, 10% of the examples never get a copy; ``holdout=0`` draws from all N). Each copy
   gets a weak augmentation -- the encoder's features of the horizontally flipped image (``flipped_features``;
   without them the copy reuses the same features, with a warning) -- and a label drawn uniformly from the K-1
   classes other than its current *given* label. The copies are surely mislabelled: they show the encoder what
   noisy dynamics look like, without any clean label.
2. **Dynamics.** An MLP head is trained with SGD (lr 0.02, momentum 0.9, wd 5e-4, cosine, 20 epochs, batch 128)
   and plain cross-entropy on originals + copies. ``hidden=(512,)`` (default) is the public code's
   ``MLP([512, 512], C)``: Linear 512 -> ReLU -> Linear to C, one hidden layer of 512; the paper's text
   describes two hidden layers, ``hidden=(512, 512)``. Per example and epoch the margin
   ``logit[given] - max other logit`` is recorded on the training mini-batch, in train mode, before the optimiser
   step, from epoch 1, and quantised to its sign (``sign(0) = +1``): a sequence of T = epochs values in {-1, +1}.
3. **Encoder.** A 1-D CNN (Conv1d 1->16->32->32, kernel 3, padding 1, ReLU; flatten; Linear -> 512) embeds each
   sequence. Two learnable centres are initialised once: *noisy* = mean embedding of the copies, *clean* = mean
   embedding of the originals. Soft assignment ``q`` is Student-t with one degree of freedom on ``d = 1 - cos``.
   The DEC self-enhancing target ``p ~ q^2 / (column sums of q)``, renormalised per example, is recomputed on
   every mini-batch from that batch's current (detached) assignments (``target="batch"``: the paper and the
   public code); ``target="fixed"`` computes it once from the untrained encoder over the whole set and keeps it
   (this library's earlier rule, kept for comparison). Loss ``KL(p || q) + alpha * alignment`` (alpha 0.5);
   alignment = cosine distance between the mean original and the mean corrupted embedding within the
   predicted-noisy group and within the predicted-clean group (hard assignments), averaged over the groups
   holding both kinds. Adam lr 1e-5, wd 1e-4, batch 1024 (the last incomplete batch of an epoch is dropped, as
   in the public code), 15 epochs.
4. **Prediction and label-free selection.** Noisy iff ``q_noisy > 0.5``, where ``q`` is evaluated with
   ``distance``: ``"sqeuclidean"`` (default; the public code trains with ``1 - cos`` but evaluates with the
   squared Euclidean Student-t) or ``"cosine"`` (the training distance). After every encoder epoch the
   label-free metric of the paper's Eq. 9, ``(mean q_noisy over copies predicted noisy - mean q_noisy over
   originals predicted clean)^2``, is computed; the epoch maximising it is kept (epoch 0, the encoder before
   training, is a candidate too). ``selection_over="copied"`` (default, public code) averages the second term
   over the originals that have a copy only; ``"all"`` over every original. Copies never enter the returned
   arrays.

**Norms.** Training uses ``1 - cos``, which does not depend on the embeddings' or the centres' norms; the
squared Euclidean evaluation does. Each history row records the mean embedding norm and the two centres' norms,
so a run shows whether its Euclidean flags moved because the embeddings' norm drifted (on Lite0 features,
CIFAR-10 sym-0.6, seed 0, the mean norm grew from 1.44 to 2.17 over 15 epochs while the centres stayed near 1.2
and 1.4, with or without weight decay; chapter 06 reports this from its own runs).

**Shared work.** Training (the encoder, the centres, the target) never depends on the evaluation distance, so
every run evaluates *both* distances after every encoder epoch (``extras["by_distance"]``): ``distance`` only
says which one the returned mask uses, and comparing them costs no second run. ``dynamics=`` takes an earlier
DynaCor result on the same labels (same ``corruption_rate``, ``holdout``, ``seed`` and ``epochs``) and reuses its
copies and sign sequences instead of training the classifier again -- the sign sequences are a deterministic
function of those inputs, so this is the same computation, done once (the chapter's alpha sweep; Avg.Encoder
reads the same run's margins of the originals).

**Seeds and determinism.** ``seed`` feeds one ``np.random.SeedSequence``, spawned into named, independent
streams: ``corruption`` (hold-out, copies, their labels), ``classifier`` (MLP init and batch order),
``encoder_init``, ``encoder_shuffle`` and ``map`` (the map sample). On one machine, one torch build, one thread
count and one resolved precision, two runs with the same inputs and seed give identical flags (tested). Across
thread counts or precisions the floating-point sums of the matrix products are ordered differently, so margins
near 0 can change sign and the flags can differ; ``precision="auto"`` resolves to bf16 on hardware with native
bf16 units and to fp32 elsewhere (the resolved one is ``settings["precision"]``), so runs on two machines are
comparable only when that and the thread count match. The forward passes run under bf16 autocast when the
precision is bf16 (see :mod:`labnoise.detect._dynamics`); assignments, losses and the selection metric stay
fp32.
"""
from __future__ import annotations

import time
import warnings

import numpy as np

from ._base import DetectionResult, check_inputs, check_precision
from ._dynamics import train_dynamics

__all__ = ["dynacor", "corrupt", "sign_dynamics", "DynamicsEncoder", "DISTANCES", "TARGETS", "SELECTION_OVER",
           "seed_streams"]

#: evaluation distances of the soft assignment; the first is the default (the public code's)
DISTANCES = ("sqeuclidean", "cosine")
#: DEC target rules; the first is the default (paper and public code: recomputed per mini-batch)
TARGETS = ("batch", "fixed")
#: which originals Eq. 9's clean term averages over; the first is the default (public code)
SELECTION_OVER = ("copied", "all")
#: the named seed streams of one run, spawned in this order from ``np.random.SeedSequence(seed)``
STREAMS = ("corruption", "classifier", "encoder_init", "encoder_shuffle", "map")


def seed_streams(seed: int) -> dict:
    """``{name: np.random.SeedSequence}`` for the names in :data:`STREAMS`, spawned from ``seed``."""
    return dict(zip(STREAMS, np.random.SeedSequence(int(seed)).spawn(len(STREAMS))))


def _torch_seed(ss) -> int:
    return int(ss.generate_state(1)[0])


def corrupt(labels, *, num_classes: int, rate: float = 0.1, holdout: float = 0.1, seed=0):
    """Pick the originals to copy and a label for each copy.

    ``round(holdout * N)`` examples are held out first (never copied; public code: 10%), then
    ``round(rate * N)`` originals are drawn without replacement from the rest (at most all of them), and each copy
    gets a label uniform over the K-1 classes other than its given label. ``seed``: an int, a
    ``np.random.SeedSequence`` or a ``np.random.Generator``. Returns ``(copy_of int (m,), copy_labels int (m,))``,
    ``copy_of`` sorted.
    """
    y = np.asarray(labels)
    if not (0.0 < float(rate) <= 1.0):
        raise ValueError(f"corruption_rate must be in (0, 1], got {rate!r}; the paper uses 0.1.")
    if not (0.0 <= float(holdout) < 1.0):
        raise ValueError(f"holdout must be in [0, 1), got {holdout!r}; the public code holds out 0.1, 0 holds out "
                         "nothing.")
    rng = np.random.default_rng(seed)
    n = y.size
    eligible = np.arange(n)
    if float(holdout) > 0:
        held = rng.choice(n, size=int(round(float(holdout) * n)), replace=False)
        eligible = np.setdiff1d(eligible, held)
    m = min(eligible.size, max(1, int(round(float(rate) * n))))
    copy_of = np.sort(rng.choice(eligible, size=m, replace=False))
    copy_labels = (y[copy_of] + rng.integers(1, num_classes, size=m)) % num_classes
    return copy_of, copy_labels.astype(np.int64)


def sign_dynamics(margins) -> np.ndarray:
    """Quantise margins (T, M) to signs, returned as int8 (M, T); ``sign(0) = +1``."""
    return np.where(np.asarray(margins) >= 0, 1, -1).astype(np.int8).T.copy()


def _encoder_cls():
    import torch.nn as nn

    class DynamicsEncoder(nn.Module):
        """Conv1d 1->16->32->32 (k3, pad 1, ReLU), flatten, Linear -> ``dim`` on a length-T sequence."""

        def __init__(self, length: int, dim: int = 512):
            super().__init__()
            self.conv = nn.Sequential(nn.Conv1d(1, 16, 3, padding=1), nn.ReLU(),
                                      nn.Conv1d(16, 32, 3, padding=1), nn.ReLU(),
                                      nn.Conv1d(32, 32, 3, padding=1), nn.ReLU())
            self.fc = nn.Linear(32 * int(length), int(dim))

        def forward(self, s):
            return self.fc(self.conv(s[:, None, :]).flatten(1))

    return DynamicsEncoder


def DynamicsEncoder(length: int, dim: int = 512):  # noqa: N802 - a factory named like the class it builds
    """The DynaCor sequence encoder (a torch module; built lazily so that importing labnoise needs no torch)."""
    return _encoder_cls()(length, dim)


def _assign(z, centres, distance="cosine"):
    """Student-t (1 dof) soft assignment (M, 2) of embeddings ``z`` to ``centres``; column 0 = noisy."""
    import torch
    import torch.nn.functional as F
    if distance == "cosine":
        d = 1.0 - F.normalize(z, dim=1) @ F.normalize(centres, dim=1).T
    else:
        d = torch.cdist(z, centres).pow(2)
    q = 1.0 / (1.0 + d)
    return q / q.sum(1, keepdim=True)


def _target(q):
    """The DEC self-enhancing target of soft assignments ``q`` (M, 2): ``q^2 / column sums``, renormalised per
    row (Xie et al. 2016; DynaCor's Eq. 6)."""
    w = q ** 2 / q.sum(0, keepdim=True)
    return w / w.sum(1, keepdim=True)


def _alignment(z, q, is_copy):
    """Mean over the predicted-noisy and predicted-clean groups (hard assignment) of the cosine distance between
    the mean original and the mean corrupted embedding; groups missing either kind are skipped."""
    import torch
    import torch.nn.functional as F
    hard_noisy = q[:, 0].detach() > 0.5
    terms = []
    for g in (hard_noisy, ~hard_noisy):
        o, c = g & ~is_copy, g & is_copy
        if o.any() and c.any():
            terms.append(1.0 - F.cosine_similarity(z[o].mean(0), z[c].mean(0), dim=0))
    return torch.stack(terms).mean() if terms else z.sum() * 0.0


def _selection_metric(qn: np.ndarray, is_copy: np.ndarray, originals: np.ndarray | None = None) -> float:
    """The paper's Eq. 9 (label-free): (mean q_noisy, copies predicted noisy - mean q_noisy, originals predicted
    clean)^2; ``originals`` (bool mask, default ``~is_copy``) says which originals the second mean may use (the
    public code: those that have a copy). 0 when either group is empty."""
    pred = qn > 0.5
    orig = ~is_copy if originals is None else originals
    a, b = qn[is_copy & pred], qn[orig & ~pred]
    if a.size == 0 or b.size == 0:
        return 0.0
    return float((a.mean() - b.mean()) ** 2)


def _f1(flag: np.ndarray, truth: np.ndarray) -> float:
    """F1 with positive = noisy on already validated boolean arrays (the same value as :func:`f1_noisy`)."""
    tp = int(np.count_nonzero(flag & truth))
    return 0.0 if tp == 0 else 2.0 * tp / (int(np.count_nonzero(flag)) + int(np.count_nonzero(truth)))


def _labels_fingerprint(labels) -> str:
    import hashlib
    return hashlib.blake2b(np.ascontiguousarray(labels, dtype=np.int64).tobytes(), digest_size=16).hexdigest()


def _reusable(dynamics, labels, copy_of, copy_labels, n, epochs):
    """The extras of an earlier DynaCor run, checked to be the run these inputs would train."""
    ex = dynamics.extras if isinstance(dynamics, DetectionResult) else dynamics
    if not isinstance(ex, dict) or not {"signs", "copy_of", "copy_labels", "margins_originals"} <= set(ex):
        raise ValueError("dynamics must be an earlier dynacor(...) result (or its extras), with its signs, "
                         "copies and margins.")
    same = (ex.get("labels_fingerprint") == _labels_fingerprint(labels) and np.array_equal(ex["copy_of"], copy_of)
            and np.array_equal(ex["copy_labels"], copy_labels) and ex["signs"].shape == (n + copy_of.size, epochs))
    if not same:
        raise ValueError("dynamics come from a different run: reuse them only with the same labels, "
                         "corruption_rate, holdout, seed and epochs (else leave dynamics=None to train).")
    return ex


def _check_choice(value, choices, name):
    if value not in choices:
        raise ValueError(f"unknown {name} {value!r}; choose one of: {', '.join(choices)}.")


def dynacor(labels, features, *, flipped_features=None, num_classes=None, seed: int = 0,
            corruption_rate: float = 0.1, holdout: float = 0.1, hidden=(512,), epochs: int = 20,
            batch_size: int = 128, lr: float = 0.02, momentum: float = 0.9, weight_decay: float = 5e-4,
            encoder_epochs: int = 15, encoder_lr: float = 1e-5, encoder_weight_decay: float = 1e-4,
            encoder_batch_size: int = 1024, embed_dim: int = 512, alpha: float = 0.5, target: str = "batch",
            distance: str = "sqeuclidean", selection_over: str = "copied", clean_labels=None, map_points: int = 0,
            dynamics=None, device="cpu", precision: str = "auto") -> DetectionResult:
    """DynaCor on frozen features; see the module docstring for the algorithm and which choices are whose.

    Parameters
    ----------
    labels : int (N,) given labels 0..K-1.  features : float (N, D) frozen features.
    flipped_features : float (N, D), the same encoder's features of the flipped images (the copies' weak view);
        None: the copies reuse ``features`` (a warning says so).
    corruption_rate : gamma, the number of corrupted copies as a fraction of N (paper: 0.1).
    holdout : fraction of the N examples never copied (public code: 0.1; 0: copies drawn from all N).
    hidden, epochs, batch_size, lr, momentum, weight_decay : the dynamics classifier (public code: (512,), 20,
        128, 0.02, 0.9, 5e-4; SGD, cosine schedule; the paper's text: ``hidden=(512, 512)``).
    encoder_epochs, encoder_lr, encoder_weight_decay, encoder_batch_size, embed_dim, alpha : the encoder
        (paper: 15, 1e-5, 1e-4, 1024, 512, 0.5; Adam).
    target : {"batch", "fixed"}, the DEC target: recomputed from each mini-batch's current assignments (paper,
        public code) or fixed once from the untrained encoder.
    distance : {"sqeuclidean", "cosine"}, the distance of the soft assignment used for prediction and selection
        (public code: squared Euclidean; training always uses ``1 - cos``). Both are evaluated in every run.
    selection_over : {"copied", "all"}, the originals Eq. 9's clean term averages over (public code: those with
        a copy).
    clean_labels : optional int (N,), only to record the true F1 per encoder epoch in ``extras["history"]``;
        never used for training or selection.
    map_points : keep the encoder embeddings of this many seeded examples (originals and copies) before and
        after training in ``extras`` (for 2-D maps); 0 keeps none.
    dynamics : an earlier :class:`DetectionResult` of ``dynacor`` (or its ``extras``) on the same ``labels``
        with the same ``corruption_rate``, ``holdout``, ``seed`` and ``epochs``: its copies and sign sequences
        are reused and the dynamics classifier is not trained again (a mismatch is an error).
    device : torch device of the classifier and the encoder.
    precision : {"auto", "fp32", "bf16"}, forward passes' precision (module docstring).

    Returns
    -------
    DetectionResult over the N originals: ``score`` = q_noisy at the selected epoch, ``is_noisy`` = score > 0.5.
    ``extras``: ``signs`` int8 (N + m, T), ``is_copy``, ``copy_of``, ``copy_labels``, ``history`` (per encoder
    epoch: ``epoch``, ``metric``, ``flagged``, ``embedding_norm`` (mean L2 norm of all embeddings),
    ``centre_norms`` ([noisy, clean]), ``centre_cosine``, ``f1`` when clean labels are given), ``selected_epoch``,
    ``by_distance`` (the same per distance, both always evaluated: ``history``, ``selected_epoch``,
    ``score``), ``timings`` (``dynamics``, 0 when reused; ``encoder``), ``view``, ``target_noisy_fraction``
    (share of originals and copies whose target is above 0.5 for noisy: the fixed target, or the last epoch's
    batch targets), ``initial_noisy_fraction``, and the maps when requested.
    """
    import torch

    from .._torch import autocast, resolve_device, resolve_precision

    y, X, K, Fl = check_inputs(labels, features, num_classes=num_classes, flipped_features=flipped_features)
    _check_choice(distance, DISTANCES, "distance")
    _check_choice(target, TARGETS, "target")
    _check_choice(selection_over, SELECTION_OVER, "selection_over")
    if int(encoder_epochs) < 1 or int(epochs) < 1:
        raise ValueError("epochs and encoder_epochs must be >= 1.")
    check_precision(precision)
    truth = None if clean_labels is None else y != check_inputs(clean_labels, X, num_classes=K)[0]
    n = y.size
    streams = seed_streams(seed)
    copy_of, copy_labels = corrupt(y, num_classes=K, rate=corruption_rate, holdout=holdout,
                                   seed=streams["corruption"])
    timings = {}
    if Fl is None:
        warnings.warn("dynacor: no flipped_features given; the corrupted copies reuse the same features "
                      "(no weak augmentation). Pass features.embed(..., flip=True) for the paper's view.",
                      stacklevel=2)
        view = "same features (no flipped_features given)"
        Xc = X[copy_of]
    else:
        view = "flipped-image features"
        Xc = Fl[copy_of]
    is_copy = np.r_[np.zeros(n, bool), np.ones(copy_of.size, bool)]
    has_copy = np.zeros(n + copy_of.size, bool)
    has_copy[copy_of] = True
    sel_originals = has_copy if selection_over == "copied" else ~is_copy
    dev = resolve_device(device)
    prec = resolve_precision(precision, dev)
    t0 = time.perf_counter()
    if dynamics is not None:
        prev = _reusable(dynamics, y, copy_of, copy_labels, n, int(epochs))
        signs, margins_originals = prev["signs"], prev["margins_originals"]
    else:
        dyn = train_dynamics(np.concatenate([X, Xc]), np.concatenate([y, copy_labels]), num_classes=K,
                             hidden=hidden, epochs=epochs, batch_size=batch_size, lr=lr, momentum=momentum,
                             weight_decay=weight_decay, seed=_torch_seed(streams["classifier"]), device=dev,
                             precision=prec)
        signs, margins_originals = sign_dynamics(dyn["margins"]), dyn["margins"][:, :n]
    timings["dynamics"] = time.perf_counter() - t0
    t0 = time.perf_counter()

    torch.manual_seed(_torch_seed(streams["encoder_init"]))
    enc = DynamicsEncoder(signs.shape[1], embed_dim).to(dev)
    S = torch.as_tensor(signs, dtype=torch.float32, device=dev)
    copy_t = torch.as_tensor(is_copy, device=dev)

    def forward(s):
        with autocast(dev, prec):
            z = enc(s)
        return z.float()

    def embed_all():
        enc.eval()
        with torch.no_grad():
            z = torch.cat([forward(S[s:s + 8192]) for s in range(0, S.shape[0], 8192)])
        enc.train()
        return z

    z0 = embed_all()
    centres = torch.nn.Parameter(torch.stack([z0[copy_t].mean(0), z0[~copy_t].mean(0)]))
    p_fixed = None
    if target == "fixed":  # the earlier rule: one target from the untrained encoder over the whole set
        with torch.no_grad():
            p_fixed = _target(_assign(z0, centres, "cosine"))
        target_noisy = float((p_fixed[:, 0] > 0.5).float().mean())
    opt = torch.optim.Adam(list(enc.parameters()) + [centres], lr=encoder_lr, weight_decay=encoder_weight_decay)
    gen = torch.Generator(device="cpu").manual_seed(_torch_seed(streams["encoder_shuffle"]))
    pick = None
    if map_points:
        pick = np.sort(np.random.default_rng(streams["map"]).choice(S.shape[0], size=min(int(map_points), S.shape[0]),
                                                                    replace=False))

    def evaluate(epoch):
        z = embed_all()
        rows, qns = {}, {}
        with torch.no_grad():  # the norms the cosine loss leaves free and the squared Euclidean distance reads
            norms = {"embedding_norm": float(z.norm(dim=1).mean()),
                     "centre_norms": [float(v) for v in centres.detach().norm(dim=1)],
                     "centre_cosine": float(torch.nn.functional.cosine_similarity(centres[0], centres[1], dim=0))}
        for dist in DISTANCES:
            with torch.no_grad():
                qn = _assign(z, centres, dist)[:, 0].cpu().numpy()
            flag = qn[:n] > 0.5
            row = {"epoch": epoch, "metric": _selection_metric(qn, is_copy, sel_originals),
                   "flagged": int(flag.sum()), **norms}
            if truth is not None:
                row["f1"] = _f1(flag, truth)
            rows[dist], qns[dist] = row, qn
        return rows, qns

    hist = {d: [] for d in DISTANCES}
    rows, qns = evaluate(0)
    qn0 = qns[distance]
    # the untrained encoder (epoch 0) is a candidate too: selection is label-free
    best = {d: (rows[d]["metric"], 0, qns[d]) for d in DISTANCES}
    for d in DISTANCES:
        hist[d].append(rows[d])
    M, bs = S.shape[0], int(encoder_batch_size)
    starts = range(0, M - bs + 1, bs) if M >= bs else range(1)  # full batches only (public code: drop_last)
    for ep in range(1, int(encoder_epochs) + 1):
        perm = torch.randperm(M, generator=gen).to(dev)
        noisy_targets = 0
        for s in starts:
            idx = perm[s:s + bs]
            z = forward(S[idx])
            q = _assign(z, centres, "cosine")
            if p_fixed is None:
                with torch.no_grad():
                    p = _target(q)
                noisy_targets += int((p[:, 0] > 0.5).sum())
            else:
                p = p_fixed[idx]
            kl = (p * (p.clamp_min(1e-12).log() - q.clamp_min(1e-12).log())).sum(1).mean()
            loss = kl + alpha * _alignment(z, q, copy_t[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        if p_fixed is None:
            target_noisy = noisy_targets / (len(starts) * min(bs, M))
        rows, qns = evaluate(ep)
        for d in DISTANCES:
            hist[d].append(rows[d])
            if rows[d]["metric"] > best[d][0]:
                best[d] = (rows[d]["metric"], ep, qns[d])
    by_distance = {d: {"history": hist[d], "selected_epoch": best[d][1], "score": best[d][2][:n].astype(np.float64)}
                   for d in DISTANCES}
    _, sel, qn = best[distance]
    score = qn[:n].astype(np.float64)
    extras = {"signs": signs, "is_copy": is_copy, "copy_of": copy_of, "copy_labels": copy_labels,
              "history": hist[distance], "selected_epoch": sel, "view": view, "copy_score": qn[n:].astype(np.float64),
              "margins_originals": margins_originals, "target_noisy_fraction": target_noisy,
              "initial_noisy_fraction": float((qn0 > 0.5).mean()), "by_distance": by_distance,
              "labels_fingerprint": _labels_fingerprint(y), "timings": timings}
    if pick is not None:
        extras["map_index"] = pick
        extras["map_before"] = z0[torch.as_tensor(pick, device=dev)].cpu().numpy()
        extras["map_after"] = embed_all()[torch.as_tensor(pick, device=dev)].cpu().numpy()
    timings["encoder"] = time.perf_counter() - t0
    settings = {"corruption_rate": corruption_rate, "holdout": holdout, "hidden": list(hidden), "epochs": epochs,
                "batch_size": batch_size, "lr": lr, "momentum": momentum, "weight_decay": weight_decay,
                "encoder_epochs": encoder_epochs, "encoder_lr": encoder_lr,
                "encoder_weight_decay": encoder_weight_decay, "encoder_batch_size": encoder_batch_size,
                "embed_dim": embed_dim, "alpha": alpha, "target": target, "distance": distance,
                "selection_over": selection_over, "seed": seed, "view": view, "precision": prec,
                "reused_dynamics": dynamics is not None}
    return DetectionResult(is_noisy=score > 0.5, score=score, method="dynacor", settings=settings, extras=extras)
