"""Checks and benchmarks of the batched heads: the same heads trained one at a time with ``torch.nn`` +
autograd + ``torch.optim.AdamW`` (:func:`sequential_reference`), and a same-process timing of both paths
(:func:`benchmark_heads`)."""
from __future__ import annotations

import dataclasses
import time

import numpy as np

from .design import inclusion_weights, run_batch_orders, subset_masks
from .heads import HeadTrainer

__all__ = ["sequential_reference", "benchmark_heads"]


def sequential_reference(trainer: HeadTrainer, runs, weights, *, seed) -> np.ndarray:
    """The naive path, for checks and benchmarks: the same heads trained *one at a time* with ``torch.nn``
    modules, autograd and ``torch.optim.AdamW``, from the same initial parameters, over the same mini-batches
    with the same learning-rate schedule (bfloat16 autocast when ``matmul_dtype="bfloat16"``). Agrees with
    ``trainer(runs, weights, seed=seed)`` up to floating-point rounding. Returns (len(runs), N) bool correctness."""
    import torch

    cfg = trainer.config
    runs = np.asarray(runs, dtype=np.int64)
    weights = np.asarray(weights, dtype=np.float32)
    x = trainer._x.float()
    y = trainer._y
    n = x.shape[0]
    steps = -(-n // cfg.batch_size)
    total = cfg.epochs * steps
    start = int(round(total * (1 - cfg.decay_frac)))
    out = np.zeros((runs.size, n), dtype=bool)
    for j, r in enumerate(runs):
        params = trainer._init([int(r)], seed=seed)
        if cfg.kind == "mlp":
            model = torch.nn.Sequential(torch.nn.Linear(x.shape[1], cfg.hidden), torch.nn.ReLU(),
                                        torch.nn.Linear(cfg.hidden, trainer.num_classes)).to(trainer.device)
            with torch.no_grad():
                model[0].weight.copy_(params[0][0].T)
                model[0].bias.copy_(params[1][0, 0])
                model[2].weight.copy_(params[2][0].T)
                model[2].bias.copy_(params[3][0, 0])
        else:
            model = torch.nn.Linear(x.shape[1], trainer.num_classes).to(trainer.device)
            with torch.no_grad():
                model.weight.copy_(params[0][:, 0].T)
                model.bias.copy_(params[1][0])
        decay = [p for p in model.parameters() if p.ndim == 2]  # weight matrices; biases are not decayed
        no_decay = [p for p in model.parameters() if p.ndim == 1]
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                                 {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr, betas=(0.9, 0.999),
                                eps=1e-8)
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: 1.0 if s + 1 <= start else (total - s) / max(1, total - start))
        w = torch.from_numpy(weights[j]).to(trainer.device)
        amp = torch.autocast(trainer.device.type, dtype=torch.bfloat16, enabled=cfg.matmul_dtype == "bfloat16")
        orders = run_batch_orders([int(r)], n, epochs=cfg.epochs, seed=seed)  # the batched path's order for this run
        for epoch, order_np in zip(range(cfg.epochs), orders):
            order = torch.from_numpy(order_np[0]).to(trainer.device)
            for s in range(steps):
                idx = order[s * cfg.batch_size:(s + 1) * cfg.batch_size]
                wb = w[idx]
                with amp:
                    logits = model(x[idx])
                loss = torch.nn.functional.cross_entropy(logits.float(), y[idx], reduction="none")
                loss = (loss * wb).sum() / wb.sum().clamp_min(1.0)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
        with torch.no_grad(), amp:
            out[j] = (model(x).argmax(1) == y).cpu().numpy()
    return out


def benchmark_heads(trainer: HeadTrainer, runs: int = 4, *, seed: int = 0, held_out=None, keep: float = 0.7,
                    reference_dtype: str | None = "float32") -> dict:
    """Time ``runs`` heads trained at once (``trainer``) against the same heads trained one at a time
    (:func:`sequential_reference`), in the same process.

    ``reference_dtype``: precision of the one-at-a-time path (``"float32"``, the faster choice for autograd on a
    CPU, where bfloat16 autocast is several times slower; ``None``: the trainer's own). Returns seconds per run for
    both paths, their ratio and the fraction of (run, example) correctness values on which they agree."""
    n = trainer.labels.shape[0]
    held_out = np.arange(0, n, 2) if held_out is None else np.asarray(held_out)
    masks = subset_masks(held_out.size, np.arange(int(runs)), keep=keep, seed=seed)
    w = inclusion_weights(n, held_out, masks)
    ref = trainer
    if reference_dtype is not None and reference_dtype != trainer.config.matmul_dtype:
        ref = HeadTrainer(trainer.features, trainer.labels, trainer.num_classes,
                          dataclasses.replace(trainer.config, matmul_dtype=reference_dtype), trainer.device,
                          seed=trainer.seed)
    # untimed warm-up of both paths (allocator, thread pools, first autograd calls), on one short run
    sub = slice(0, min(n, 2 * trainer.config.batch_size))
    for tr in {id(trainer): trainer, id(ref): ref}.values():
        small = HeadTrainer(tr.features[sub], tr.labels[sub], tr.num_classes,
                            dataclasses.replace(tr.config, epochs=1), tr.device, seed=tr.seed)
        small([0], w[:1, sub], seed=seed)
        sequential_reference(small, [0], w[:1, sub], seed=seed)
    t = time.perf_counter()
    seq = sequential_reference(ref, np.arange(runs), w, seed=seed)
    t_seq = (time.perf_counter() - t) / runs
    t = time.perf_counter()
    bat = trainer(np.arange(runs), w, seed=seed)
    t_bat = (time.perf_counter() - t) / runs
    return {"runs": int(runs), "examples": int(n), "sequential_dtype": ref.config.matmul_dtype,
            "batched_dtype": trainer.config.matmul_dtype, "sequential_s_per_run": round(t_seq, 4),
            "batched_s_per_run": round(t_bat, 4), "ratio": round(t_seq / max(t_bat, 1e-9), 2),
            "agreement": round(float((seq == bat).mean()), 4)}

