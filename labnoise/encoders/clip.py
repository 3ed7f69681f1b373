"""CLIP image encoders through open_clip (any model name and pretrained tag open_clip knows).

Preprocessing is CLIP's own, done on tensors in batches: bicubic resize of the (square) image to the model's
input size as PIL does it (:func:`labnoise.encoders.resize_bicubic`; the centre crop of a square image at
that size is the identity), scaling to [0, 1] and the model's mean/std. ``tests`` check it
against open_clip's own PIL transform.
"""
from __future__ import annotations

import torch

from . import resize_bicubic

DEFAULT_MODEL = "ViT-B-32"
DEFAULT_PRETRAINED = "openai"
#: pretrained tag meaning "random initialisation" (seeded, for tests and for machines without the weights)
RANDOM = "random"


def check_model(model: str, pretrained: str | None) -> None:
    """Raise one ValueError if open_clip does not know ``model`` or the ``pretrained`` tag for it."""
    try:
        import open_clip
    except ImportError:  # pragma: no cover
        raise ImportError("encoder 'clip' needs open_clip: `pip install open_clip_torch`.") from None
    if model not in open_clip.list_models():
        raise ValueError(f"unknown open_clip model {model!r}; choose one of open_clip.list_models(), "
                         f"e.g. {DEFAULT_MODEL!r}.")
    if pretrained not in (None, RANDOM):
        tags = open_clip.list_pretrained_tags_by_model(model)
        if pretrained not in tags:
            raise ValueError(f"open_clip has no pretrained tag {pretrained!r} for {model!r}; choose one of: "
                             f"{', '.join(tags) or '(none: use pretrained=None for random weights)'}.")


def load(model: str = DEFAULT_MODEL, pretrained: str | None = DEFAULT_PRETRAINED, device="cpu"):
    """``(model, cfg)``: the open_clip model in eval mode and its preprocessing (``size``, ``mean``, ``std``).

    ``pretrained=None`` (or ``"random"``) gives random weights, seeded with 0 so that they are reproducible.
    """
    import open_clip

    check_model(model, pretrained)
    if pretrained in (None, RANDOM):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            net = open_clip.create_model(model, pretrained=None, device=device)
    else:
        net, _, _ = open_clip.create_model_and_transforms(model, pretrained=pretrained, device=device)
    net.eval()
    if hasattr(open_clip, "get_model_preprocess_cfg"):  # open_clip >= 2.24
        cfg = open_clip.get_model_preprocess_cfg(net)
    else:  # pragma: no cover - older open_clip
        cfg = {"size": getattr(net.visual, "image_size", 224),
               "mean": getattr(net.visual, "image_mean", None) or open_clip.OPENAI_DATASET_MEAN,
               "std": getattr(net.visual, "image_std", None) or open_clip.OPENAI_DATASET_STD}
    size = cfg.get("size", 224)
    size = size[0] if isinstance(size, (tuple, list)) else int(size)
    return net, {"size": size, "mean": tuple(cfg["mean"]), "std": tuple(cfg["std"])}


def preprocess(images: torch.Tensor, cfg: dict, flip: bool = False) -> torch.Tensor:
    """uint8 ``(N, H, W, C)`` square images -> float ``(N, 3, S, S)`` CLIP input (S = ``cfg['size']``)."""
    x = images.permute(0, 3, 1, 2)
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    if flip:
        x = x.flip(-1)
    x = resize_bicubic(x.float().contiguous(), cfg["size"])
    mean = torch.tensor(cfg["mean"], device=x.device).view(1, 3, 1, 1) * 255.0
    std = torch.tensor(cfg["std"], device=x.device).view(1, 3, 1, 1) * 255.0
    return ((x - mean) / std).contiguous()


def encode(net, x: torch.Tensor) -> torch.Tensor:
    """Un-normalised image embeddings (N, D)."""
    return net.encode_image(x)
