"""The frozen-feature lane: a chunk of heads trained at once on cached encoder features.

MLPs ``d -> hidden -> C`` (one GEMM of the same shape per head), linear heads, or linear heads on a shared
random-feature layer. Every run has its own batch order (:func:`~labnoise.memorization.design.run_batch_orders`),
so the heads of a chunk see different mini-batches, gathered into one batched product per step; an example
excluded from a run gets weight 0 in that head's loss. Forward, backward and Adam are written by hand;
:func:`labnoise.memorization.bench.sequential_reference` is the same training one model at a time with
``torch.nn`` + autograd, and the tests check that both agree.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from .._validation import check_features, check_labels, check_num_classes
from .design import _INIT, _SHARED, _fingerprint, run_batch_orders, run_seed

__all__ = ["HeadConfig", "HeadTrainer"]


@dataclass(frozen=True)
class HeadConfig:
    """Heads trained on frozen features, many at once, with Adam on the softmax cross-entropy.

    Parameters
    ----------
    kind : "mlp", "random_features" or "linear"
        ``"mlp"``: each head is an MLP ``d -> hidden -> C`` (ReLU) with its own hidden layer (one GEMM of the
        same shape per head). ``"random_features"``: a fixed random ReLU layer ``d -> hidden`` shared by all
        heads (drawn from ``seed``, like a frozen encoder layer) and a trained linear layer ``hidden -> C`` per
        head: all heads of a chunk are one wide GEMM, ~10-50x cheaper per head than ``"mlp"``.
        ``"linear"``: a linear layer ``d -> C`` per head (``hidden`` ignored).
    hidden : int
        Hidden width (``"mlp"``) or number of random features (``"random_features"``).
    epochs : int
        Passes over the training set.
    batch_size : int
        Mini-batch size (all heads of a chunk see the same mini-batch).
    lr : float
        Adam learning rate: constant, then linear decay to 0 over the last ``decay_frac`` of the steps.
    weight_decay : float
        Decoupled (AdamW) weight decay on weight matrices; 0 lets heads memorise freely.
    decay_frac : float
        Fraction of the steps over which the learning rate decays.
    chunk_size : int
        Heads trained at once (memory ~ chunk_size * batch_size * hidden floats for ``"mlp"``).
    matmul_dtype : "auto", "float32" or "bfloat16"
        Precision of the matrix products (parameters and optimiser state stay float32); bfloat16 is several
        times faster on CPUs with AVX512-BF16/AMX and on GPUs, and emulated (many times slower) elsewhere.
        ``"auto"``: bfloat16 where :func:`labnoise._torch.resolve_precision` picks bf16 for the device, else
        float32; the trainer's ``config`` holds the resolved value (so checkpoints and results name it).
    eval_batch : int
        Examples per evaluation block.
    """

    kind: str = "mlp"
    hidden: int = 256
    epochs: int = 30
    batch_size: int = 512
    lr: float = 3e-3
    weight_decay: float = 0.0
    decay_frac: float = 0.3
    chunk_size: int = 50
    matmul_dtype: str = "float32"
    eval_batch: int = 4096

    def __post_init__(self):
        if self.kind not in ("mlp", "random_features", "linear"):
            raise ValueError(f"HeadConfig.kind must be 'mlp', 'random_features' or 'linear', got {self.kind!r}.")
        if self.epochs < 1 or self.batch_size < 1 or self.chunk_size < 1 or self.eval_batch < 1:
            raise ValueError("HeadConfig: epochs, batch_size, chunk_size and eval_batch must be >= 1.")
        if self.kind != "linear" and self.hidden < 1:
            raise ValueError(f"HeadConfig.hidden must be >= 1 for kind={self.kind!r} (or use kind='linear').")
        if not self.lr > 0 or self.weight_decay < 0 or not 0 <= self.decay_frac <= 1:
            raise ValueError("HeadConfig: lr > 0, weight_decay >= 0 and decay_frac in [0, 1] are required.")
        if self.matmul_dtype not in ("auto", "float32", "bfloat16"):
            raise ValueError("HeadConfig.matmul_dtype must be 'auto', 'float32' or 'bfloat16'.")


class HeadTrainer:
    """Trains a chunk of heads at once on frozen features (the frozen-feature lane of the estimator).

    Parameters
    ----------
    features : (N, d) float array
    labels : (N,) int (the given labels)
    num_classes : int or None
    config : HeadConfig
    device : "auto", "cpu", "cuda", ...
    seed : int
        Seed of the shared random feature layer (``kind="random_features"`` only).

    ``trainer(runs, weights, seed=seed)`` trains ``len(runs)`` heads: head ``r`` is initialised from
    ``run_seed(runs[r], seed=seed, purpose=_INIT)`` and trained on the examples where ``weights[r] == 1``, in its own
    batch order (:func:`run_batch_orders`: a function of ``(seed, run)`` alone). Returns (len(runs), N) bool
    correctness against the given labels. Heads are independent: a head's result does not depend on the other heads of its chunk.
    """

    def __init__(self, features, labels, num_classes=None, config: HeadConfig | None = None, device="auto",
                 seed: int = 0):
        import torch
        from .._torch import resolve_device

        self.labels = check_labels(labels, num_classes)
        self.features = check_features(features, length=self.labels.shape[0])
        self.num_classes = check_num_classes(num_classes, self.labels)
        self.config = config or HeadConfig()
        self.device = resolve_device(device)
        if self.config.matmul_dtype == "auto":
            from .._torch import resolve_precision
            dt = "bfloat16" if resolve_precision("auto", self.device) == "bf16" else "float32"
            self.config = dataclasses.replace(self.config, matmul_dtype=dt)
        self.chunk_size = self.config.chunk_size
        self.seed = int(seed)
        self._dt = getattr(torch, self.config.matmul_dtype)
        x = torch.from_numpy(self.features).to(self.device)
        if self.config.kind == "random_features":
            x = self._random_features(x)
        # the training inputs, already in the matmul precision (the shared layer is computed once)
        self._x = x.to(self._dt).contiguous()
        self._y = torch.from_numpy(self.labels).to(self.device)
        self._fp = _fingerprint(self.features, self.labels, self.num_classes, dataclasses.asdict(self.config),
                                self.seed if self.config.kind == "random_features" else None, "head-v3")

    def _random_features(self, x):
        """relu(x_std W + b) / scale with W ~ N(0, 1/d), b ~ N(0, 1): a fixed layer shared by every head."""
        import torch

        g = torch.Generator().manual_seed(run_seed(0, seed=self.seed, purpose=_SHARED))
        d, h = x.shape[1], self.config.hidden
        w = (torch.randn(d, h, generator=g) / np.sqrt(d)).to(x.device)
        b = torch.randn(h, generator=g).to(x.device)
        mu, sd = x.mean(0), x.std(0).clamp_min(1e-6)
        out = torch.empty(x.shape[0], h, device=x.device)
        for s in range(0, x.shape[0], 8192):
            out[s:s + 8192] = torch.relu(((x[s:s + 8192] - mu) / sd) @ w + b)
        return out / out.square().mean().sqrt().clamp_min(1e-6)

    def fingerprint(self) -> str:
        return self._fp

    def describe(self) -> dict:
        return {"trainer": "HeadTrainer", "features": list(self.features.shape), "num_classes": self.num_classes,
                **dataclasses.asdict(self.config), "device": str(self.device)}

    # -- parameters ------------------------------------------------------------------------------------------
    def _init(self, runs, *, seed):
        """Per-head parameters, PyTorch's default Linear init U(+-1/sqrt(fan_in)), biases 0; each head from its
        own generator. mlp: [W1 (k,d,h), b1 (k,1,h), W2 (k,h,C), b2 (k,1,C)]; shared input: [W (D,k,C), b (k,C)]."""
        import torch

        k, d, c = len(runs), self._x.shape[1], self.num_classes
        mlp = self.config.kind == "mlp"
        shapes = [(d, self.config.hidden), (self.config.hidden, c)] if mlp else [(d, c)]
        mats = [torch.empty((k,) + s) for s in shapes]
        for j, r in enumerate(runs):  # a loop over heads, not examples
            g = torch.Generator().manual_seed(run_seed(int(r), seed=seed, purpose=_INIT))
            for mat, s in zip(mats, shapes):
                bound = 1.0 / np.sqrt(s[0])
                mat[j] = torch.rand(s, generator=g) * (2 * bound) - bound
        if mlp:
            params = [mats[0], torch.zeros(k, 1, shapes[0][1]), mats[1], torch.zeros(k, 1, c)]
        else:
            params = [mats[0].permute(1, 0, 2).contiguous(), torch.zeros(k, c)]
        return [p.to(self.device) for p in params]

    def _forward(self, x, params):
        """Logits (k, B, C) [mlp] or (B, k, C) [shared input], float32; plus the hidden activations (mlp, kept
        in the matmul precision: no float32 round trip of the largest tensors)."""
        import torch

        dt = self._dt
        if len(params) == 2:
            w, b = params
            d, k, c = w.shape
            return torch.matmul(x, w.view(d, k * c).to(dt)).float().view(-1, k, c).add_(b), None
        w1, b1, w2, b2 = params
        a1 = torch.matmul(x, w1.to(dt))  # (k, B, h): one GEMM of the same shape per head
        a1.add_(b1.to(dt)).relu_()
        return torch.bmm(a1, w2.to(dt)).float().add_(b2), a1

    def _forward_runs(self, xb, params):
        """Training forward with per-head batches ``xb`` (k, B, d): logits (k, B, C) float32 (+ mlp activations)."""
        import torch

        dt = self._dt
        if len(params) == 2:
            w, b = params  # (D, k, C), (k, C)
            return torch.bmm(xb, w.permute(1, 0, 2).to(dt)).float().add_(b[:, None, :]), None
        w1, b1, w2, b2 = params
        a1 = torch.bmm(xb, w1.to(dt))  # (k, B, h)
        a1.add_(b1.to(dt)).relu_()
        return torch.bmm(a1, w2.to(dt)).float().add_(b2), a1

    def _grads_runs(self, xb, params, grad, a1):
        """Gradients for :meth:`_forward_runs` (grad: (k, B, C) d loss / d logits)."""
        import torch

        dt = self._dt
        if a1 is None:
            gw = torch.bmm(xb.transpose(1, 2), grad.to(dt)).float().permute(1, 0, 2)  # (D, k, C)
            return [gw, grad.sum(1)]
        g2 = grad.to(dt)
        gw2 = torch.bmm(a1.transpose(1, 2), g2).float()
        ga1 = torch.ops.aten.threshold_backward(torch.bmm(g2, params[2].transpose(1, 2).to(dt)), a1, 0)  # ReLU'
        gw1 = torch.bmm(xb.transpose(1, 2), ga1).float()
        return [gw1, ga1.sum(1, keepdim=True, dtype=torch.float32), gw2, grad.sum(1, keepdim=True)]

    def _grads(self, xb, params, grad, a1):
        import torch

        dt = self._dt
        if a1 is None:  # grad: (B, k, C)
            b, k, c = grad.shape
            gw = torch.matmul(xb.T, grad.view(b, k * c).to(dt)).float().view(-1, k, c)
            return [gw, grad.sum(0)]
        g2 = grad.to(dt)  # grad: (k, B, C)
        gw2 = torch.bmm(a1.transpose(1, 2), g2).float()
        ga1 = torch.ops.aten.threshold_backward(torch.bmm(g2, params[2].transpose(1, 2).to(dt)), a1, 0)  # ReLU'
        gw1 = torch.matmul(xb.T, ga1).float()
        return [gw1, ga1.sum(1, keepdim=True, dtype=torch.float32), gw2, grad.sum(1, keepdim=True)]

    def __call__(self, runs, weights, *, seed) -> np.ndarray:
        import torch

        cfg = self.config
        runs = np.asarray(runs, dtype=np.int64)
        k, n = runs.size, self.labels.shape[0]
        weights = np.asarray(weights, dtype=np.float32)
        if weights.shape != (k, n):
            raise ValueError(f"weights must have shape (len(runs), N) = {(k, n)}, got {weights.shape}.")
        if cfg.kind == "mlp":
            return self._train_mlp(runs, weights, seed=seed)
        return self._train_generic(runs, weights, seed=seed)

    def _train_generic(self, runs, weights, *, seed):
        """The training loop for every kind (the one :meth:`_train_mlp` was derived from; kept for the
        shared-input kinds, whose one wide product dominates, and as the benchmarks' "before")."""
        import torch

        cfg = self.config
        k, n = runs.size, self.labels.shape[0]
        dev = self.device
        wts = torch.from_numpy(weights).to(dev)  # (k, N)
        orders = run_batch_orders(runs, n, epochs=cfg.epochs, seed=seed)  # one (k, N) array per epoch
        ar_k = torch.arange(k, device=dev)[:, None]
        with torch.no_grad():
            params = self._init(runs, seed=seed)
            m1 = [torch.zeros_like(p) for p in params]
            m2 = [torch.zeros_like(p) for p in params]
            beta1, beta2, eps = 0.9, 0.999, 1e-8
            steps_per_epoch = -(-n // cfg.batch_size)
            total = cfg.epochs * steps_per_epoch
            decay_start = int(round(total * (1 - cfg.decay_frac)))
            step = 0
            for epoch, order_np in zip(range(cfg.epochs), orders):
                order = torch.from_numpy(order_np).to(dev)  # (k, N): every run its own order
                for s in range(steps_per_epoch):
                    idx = order[:, s * cfg.batch_size:(s + 1) * cfg.batch_size]  # (k, B)
                    xb, yb = self._x[idx], self._y[idx]  # (k, B, d), (k, B)
                    logits, a1 = self._forward_runs(xb, params)  # (k, B, C)
                    # d(mean weighted CE)/d(logits) = (softmax - onehot) * w / (sum of w in the batch), per head
                    grad = torch.softmax(logits, dim=-1)
                    wb = wts.gather(1, idx)  # (k, B)
                    grad[ar_k, torch.arange(idx.shape[1], device=dev)[None, :], yb] -= 1.0
                    grad.mul_((wb / wb.sum(1, keepdim=True).clamp_min(1.0))[..., None])
                    grads = self._grads_runs(xb, params, grad, a1)
                    step += 1
                    lr = cfg.lr if step <= decay_start else cfg.lr * (total - step + 1) / max(1, total - decay_start)
                    c1, c2 = 1 - beta1 ** step, 1 - beta2 ** step
                    for i, (p, gr, ma, va) in enumerate(zip(params, grads, m1, m2)):
                        ma.mul_(beta1).add_(gr, alpha=1 - beta1)
                        va.mul_(beta2).addcmul_(gr, gr, value=1 - beta2)
                        if cfg.weight_decay and i % 2 == 0:  # weight matrices only, not biases
                            p.mul_(1 - lr * cfg.weight_decay)
                        p.addcdiv_(ma, va.div(c2).sqrt_().add_(eps), value=-lr / c1)
            return self._correct(params)

    def _train_mlp(self, runs, weights, *, seed):
        """The MLP heads' training loop, laid out for speed on a CPU (profiled in
        ``benchmarks/bench_memorization.py``; same optimisation as :meth:`_train_generic`):

        * the hidden bias is a row of the first weight matrix, multiplied by a column of ones appended to the
          inputs: the bias add and the bias gradient come out of the two products (a separate bf16 add over the
          (k, B, hidden) activations and a sum over the batch cost a quarter of the forward product);
        * mini-batches gathered with ``index_select`` on the flattened (k * B) indices (advanced indexing with a
          2-D index was several times slower); labels and weights gathered once per epoch;
        * logits computed transposed, (k, C, B), so that the softmax runs across a strided axis of length C
          instead of along a contiguous axis of 10 elements (over 10x faster here); the backward products take
          the transposed views directly;
        * Adam as PyTorch's fused single-pass kernel (``torch._fused_adamw_``, the kernel behind
          ``AdamW(fused=True)``) instead of seven elementwise passes per tensor; decoupled weight decay on the
          weight matrices only, as before.

        Float32 master weights and optimiser state; the products run in ``matmul_dtype`` with float32
        accumulation. Agrees with :func:`labnoise.memorization.bench.sequential_reference` (tested).
        """
        import torch

        cfg, dev, dt = self.config, self.device, self._dt
        k, n = runs.size, self.labels.shape[0]
        d, c, bs = self._x.shape[1], self.num_classes, cfg.batch_size
        if getattr(self, "_x1", None) is None:  # inputs with a column of ones (the bias), in the matmul precision
            self._x1 = torch.cat([self._x, torch.ones(n, 1, dtype=self._x.dtype, device=dev)], 1).contiguous()
        x1 = self._x1
        wts = torch.from_numpy(weights).to(dev)  # (k, N)
        orders = run_batch_orders(runs, n, epochs=cfg.epochs, seed=seed)  # one (k, N) array per epoch
        ar_c = torch.arange(c, device=dev)[None, :, None]
        with torch.no_grad():
            w1, b1, w2, b2 = self._init(runs, seed=seed)  # (k,d,h), (k,1,h), (k,h,C), (k,1,C)
            w1 = torch.cat([w1, b1], 1).contiguous()  # (k, d+1, h): the last row is the hidden bias
            b2 = b2.transpose(1, 2).contiguous()  # (k, C, 1)
            params = [w1, w2, b2]
            m1 = [torch.zeros_like(p) for p in params]
            m2 = [torch.zeros_like(p) for p in params]
            step_t = torch.zeros((), dtype=torch.float32, device=dev)
            steps_per_epoch = -(-n // bs)
            total = cfg.epochs * steps_per_epoch
            decay_start = int(round(total * (1 - cfg.decay_frac)))
            step = 0
            for epoch, order_np in zip(range(cfg.epochs), orders):
                order = torch.from_numpy(order_np).to(dev)  # (k, N): every run its own order
                y_ep = self._y[order]  # (k, N) labels in this epoch's order
                w_ep = wts.gather(1, order)  # (k, N) training weights in this epoch's order
                for s in range(steps_per_epoch):
                    sl = slice(s * bs, (s + 1) * bs)
                    idx = order[:, sl]
                    b = idx.shape[1]
                    xb = x1.index_select(0, idx.reshape(-1)).view(k, b, d + 1)  # (k, B, d+1)
                    w1c, w2c = w1.to(dt), w2.to(dt)
                    a1 = torch.bmm(xb, w1c).relu_()  # (k, B, h), bias included
                    logits = torch.bmm(w2c.transpose(1, 2), a1.transpose(1, 2)).float().add_(b2)  # (k, C, B)
                    # d(mean weighted CE)/d(logits) = (softmax - onehot) * w / (sum of w in the batch), per head
                    gt = torch.softmax(logits, dim=1)
                    gt.sub_((y_ep[:, None, sl] == ar_c).float())
                    wb = w_ep[:, sl]
                    gt.mul_((wb / wb.sum(1, keepdim=True).clamp_min(1.0))[:, None, :])
                    g2 = gt.to(dt).transpose(1, 2)  # (k, B, C) view
                    gw2 = torch.bmm(a1.transpose(1, 2), g2).float()  # (k, h, C)
                    ga1 = torch.ops.aten.threshold_backward(torch.bmm(g2, w2c.transpose(1, 2)), a1, 0)  # ReLU'
                    gw1 = torch.bmm(xb.transpose(1, 2), ga1).float()  # (k, d+1, h), last row: the bias gradient
                    step += 1
                    lr = cfg.lr if step <= decay_start else cfg.lr * (total - step + 1) / max(1, total - decay_start)
                    if cfg.weight_decay:  # decoupled (AdamW), before the Adam step, on weight matrices only
                        w1[:, :d].mul_(1 - lr * cfg.weight_decay)
                        w2.mul_(1 - lr * cfg.weight_decay)
                    step_t.fill_(step)
                    torch._fused_adamw_(params, [gw1, gw2, gt.sum(2, keepdim=True)], m1, m2, [], [step_t] * 3,
                                        lr=lr, beta1=0.9, beta2=0.999, weight_decay=0.0, eps=1e-8, amsgrad=False,
                                        maximize=False)
            return self._correct([w1[:, :d], w1[:, d:], w2, b2.transpose(1, 2)])

    def _correct(self, params) -> np.ndarray:
        import torch

        n, eb = self.labels.shape[0], self.config.eval_batch
        k = params[1].shape[0]
        out = torch.empty((k, n), dtype=torch.bool, device=self.device)
        for s in range(0, n, eb):
            logits, _ = self._forward(self._x[s:s + eb], params)
            pred = logits.argmax(-1)
            pred = pred if self.config.kind == "mlp" else pred.T  # -> (k, B)
            out[:, s:s + eb] = pred == self._y[s:s + eb]
        return out.cpu().numpy()

