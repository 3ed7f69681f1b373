"""A small frozen-feature training loop that records per-example training dynamics.

Every detector that needs a training run (DynaCor, Avg.Encoder, AUM, CORES, Confident Learning's MLP) uses it,
so that "the margin on the training mini-batch, train mode, before the optimiser step" means the same thing
everywhere. It is independent of :func:`labnoise.train.fit` on purpose: it records (T, N) margins without a
per-batch hook round-trip and lets CORES change the loss per epoch.

``precision="auto"`` (the default everywhere in :mod:`labnoise.detect`) runs the forward pass under bf16 autocast
where the hardware has native bf16 matrix units (AVX512-BF16/AMX CPUs, CUDA GPUs; see
:func:`labnoise._torch.resolve_precision`) and in fp32 elsewhere; the logits are cast to fp32 before the loss and
the recorded margins, and the optimiser's weights stay fp32. ``"fp32"`` forces full precision.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["train_dynamics"]


def _margin(logits, targets):
    import torch
    given = logits.gather(1, targets[:, None]).squeeze(1)
    other = logits.scatter(1, targets[:, None], -torch.inf).amax(1)
    return given - other


def train_dynamics(features, labels, *, num_classes: int, hidden=(512, 512), epochs: int = 20,
                   batch_size: int = 128, lr: float = 0.02, momentum: float = 0.9, weight_decay: float = 5e-4,
                   seed: int = 0, loss_fn=None, weights_fn=None, record_probs: bool = False, on_model=None, device="cpu",
                   precision: str = "auto"):
    """Train an MLP head with SGD + cosine schedule on ``(features, labels)``; return a dict with

    * ``margins`` float32 (T, N): logit[given] - max other logit, recorded on the training mini-batch in train
      mode before the optimiser step, from epoch 1;
    * ``losses`` float32 (T, N): per-example cross-entropy on the same batches;
    * ``model``: the trained module; ``probs`` (N, K) eval-mode softmax at the end when ``record_probs``.

    ``loss_fn(logits, targets, epoch) -> per-example loss`` replaces cross-entropy (CORES);
    ``weights_fn(epoch) -> float (N,) or None`` masks examples out of the loss (CORES' sieve);
    ``on_model(model)`` is called once with the freshly built model (so ``weights_fn`` can use it).
    ``precision`` : {"auto", "fp32", "bf16"}, see the module docstring; the resolved one is ``out["precision"]``.
    """
    import torch
    import torch.nn.functional as F

    from .._torch import autocast, resolve_device, resolve_precision
    from ..models import MLP

    dev = resolve_device(device)
    prec = resolve_precision(precision, dev)
    X = torch.as_tensor(np.ascontiguousarray(features, dtype=np.float32), device=dev)
    Y = torch.as_tensor(np.asarray(labels, dtype=np.int64), device=dev)
    n = X.shape[0]
    torch.manual_seed(int(seed))
    model = MLP(X.shape[1], int(num_classes), hidden=tuple(hidden)).to(dev)
    if on_model is not None:
        on_model(model)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    steps_per_epoch = max(1, math.ceil(n / batch_size))
    total = epochs * steps_per_epoch
    gen = torch.Generator(device="cpu").manual_seed(int(seed))
    margins = torch.zeros((epochs, n), dtype=torch.float32, device=dev)
    losses = torch.zeros((epochs, n), dtype=torch.float32, device=dev)
    step = 0
    model.train()
    for ep in range(epochs):
        w = None if weights_fn is None else weights_fn(ep)
        wt = None if w is None else torch.as_tensor(np.asarray(w, dtype=np.float32), device=dev)
        perm = torch.randperm(n, generator=gen).to(dev)
        for s in range(0, n, batch_size):
            idx = perm[s:s + batch_size]
            with autocast(dev, prec):
                logits = model(X[idx])
            logits = logits.float()
            yb = Y[idx]
            ce = F.cross_entropy(logits, yb, reduction="none")
            with torch.no_grad():
                margins[ep, idx] = _margin(logits.detach().float(), yb)
                losses[ep, idx] = ce.detach().float()
            per = ce if loss_fn is None else loss_fn(logits, yb, ep)
            if wt is not None:
                wb = wt[idx]
                loss = (per * wb).sum() / wb.sum().clamp_min(1.0)
            else:
                loss = per.mean()
            for g in opt.param_groups:
                g["lr"] = 0.5 * lr * (1 + math.cos(math.pi * step / total))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
    out = {"margins": margins.cpu().numpy(), "losses": losses.cpu().numpy(), "model": model, "precision": prec}
    if record_probs:
        out["probs"] = predict_probs(model, X, precision=prec)
    return out


def predict_probs(model, X, batch_size: int = 4096, precision: str = "fp32") -> np.ndarray:
    """Eval-mode softmax (N, K) of ``model`` on ``X``, in ``precision`` (autocast; probabilities in fp32)."""
    import torch

    from .._torch import autocast, resolve_precision
    dev = next(model.parameters()).device
    prec = resolve_precision(precision, dev)
    if not isinstance(X, torch.Tensor):
        X = torch.as_tensor(np.ascontiguousarray(X, dtype=np.float32), device=dev)
    was = model.training
    model.eval()

    def fwd(xb):
        with autocast(dev, prec):
            return model(xb)

    with torch.no_grad():
        out = torch.cat([torch.softmax(fwd(X[s:s + batch_size]).float(), 1) for s in range(0, X.shape[0], batch_size)])
    model.train(was)
    return out.cpu().numpy()
