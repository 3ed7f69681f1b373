"""The pixel lane (for GPUs): :class:`labnoise.models.FastCifarNet` trained with :func:`labnoise.train.fit`, one
run after another, on uint8 images kept on the device (random crop + flip in torch)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from .._validation import check_labels, check_num_classes
from .design import _PIXEL, _fingerprint, run_seed

__all__ = ["PixelConfig", "PixelTrainer"]


@dataclass(frozen=True)
class PixelConfig:
    """Pixel-lane training of :class:`labnoise.models.FastCifarNet` with :func:`labnoise.train.fit`: SGD with
    momentum, cosine schedule, random crop (pad 4) + horizontal flip on the device.

    Parameters
    ----------
    width : int
        FastCifarNet width (64: ~6.6M parameters; 16: ~0.4M).
    epochs, batch_size, lr, momentum, weight_decay : SGD settings.
    augment : bool
        Random crop + flip (``augment="crop_flip"`` of :func:`labnoise.train.fit`).
    eval_batch : int
        Images per evaluation batch.
    """

    width: int = 32
    epochs: int = 15
    batch_size: int = 512
    lr: float = 0.2
    momentum: float = 0.9
    weight_decay: float = 5e-4
    augment: bool = True
    eval_batch: int = 2048

    def __post_init__(self):
        if self.width < 1 or self.epochs < 1 or self.batch_size < 2 or self.eval_batch < 1 or not self.lr > 0:
            raise ValueError("PixelConfig: width >= 1, epochs >= 1, batch_size >= 2, eval_batch >= 1, lr > 0.")


class PixelTrainer:
    """Pixel lane of the estimator: one :class:`labnoise.models.FastCifarNet` per run, trained sequentially
    with :func:`labnoise.train.fit` on uint8 NHWC images that stay on the device (normalised and augmented
    there). Correctness is measured on the un-augmented training images. Meant for a GPU; on a CPU only tiny
    subsets are practical.

    Parameters
    ----------
    images : (N, H, W, C) uint8
    labels : (N,) int (given labels)
    num_classes : int or None
    config : PixelConfig
    device : "auto", "cpu", "cuda", ...
    chunk_size : int
        Runs per checkpoint chunk.
    progress : bool
        A tqdm bar over each run's epochs.

    Run ``r`` is trained with ``fit(..., seed=run_seed(r, seed=seed, purpose=_PIXEL))``. Bitwise determinism on a GPU
    additionally needs ``torch.use_deterministic_algorithms(True)``.
    """

    def __init__(self, images, labels, num_classes=None, config: PixelConfig | None = None, device="auto",
                 chunk_size: int = 4, progress: bool = False):
        import torch
        from .._torch import resolve_device

        imgs = np.asarray(images)
        if imgs.ndim != 4 or imgs.dtype != np.uint8 or imgs.shape[-1] not in (1, 3):
            raise ValueError(f"images must be a (N, H, W, C) uint8 array with 1 or 3 channels "
                             f"(Dataset.train_images), got {imgs.dtype} {imgs.shape}.")
        self.labels = check_labels(labels, num_classes, length=imgs.shape[0])
        self.num_classes = check_num_classes(num_classes, self.labels)
        self.config = config or PixelConfig()
        self.device = resolve_device(device)
        self.chunk_size = int(chunk_size)
        self.progress = progress
        self._x = torch.from_numpy(np.ascontiguousarray(imgs)).to(self.device)  # uint8 NHWC, on the device
        self._fp = _fingerprint(imgs[:: max(1, imgs.shape[0] // 512)], imgs.shape, self.labels, self.num_classes,
                                dataclasses.asdict(self.config), "pixel-v1")

    def fingerprint(self) -> str:
        return self._fp

    def describe(self) -> dict:
        return {"trainer": "PixelTrainer", "model": "labnoise.models.FastCifarNet", "images": list(self._x.shape),
                "num_classes": self.num_classes, **dataclasses.asdict(self.config), "device": str(self.device)}

    def train_one(self, run: int, train_idx, *, seed: int):
        """Train run ``run``'s net on the examples ``train_idx``; returns the :class:`labnoise.train.FitResult`."""
        import torch
        from ..train import fit

        cfg = self.config
        idx = torch.as_tensor(np.asarray(train_idx, dtype=np.int64), device=self.device)
        return fit("fastcifar", self._x[idx], self.labels[np.asarray(train_idx)], epochs=cfg.epochs,
                   batch_size=cfg.batch_size, lr=cfg.lr, optimizer="sgd", momentum=cfg.momentum,
                   weight_decay=cfg.weight_decay, schedule="cosine", augment="crop_flip" if cfg.augment else None,
                   seed=run_seed(run, seed=seed, purpose=_PIXEL), device=self.device, progress=self.progress,
                   num_classes=self.num_classes, model_kwargs={"width": cfg.width})

    def __call__(self, runs, weights, *, seed) -> np.ndarray:
        from ..train import predict_proba

        weights = np.asarray(weights)
        out = np.zeros((len(runs), self.labels.shape[0]), dtype=bool)
        for k, r in enumerate(runs):
            res = self.train_one(int(r), np.flatnonzero(weights[k] > 0), seed=seed)
            pred = predict_proba(res.model, self._x, device=self.device, batch_size=self.config.eval_batch).argmax(1)
            out[k] = pred == self.labels
        return out

