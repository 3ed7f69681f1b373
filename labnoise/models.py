"""Models for both lanes: an MLP head (frozen-feature lane) and CIFAR networks (pixel lane).

* :class:`MLP` -- ``in_dim -> hidden... -> num_classes`` with ReLU (and optional dropout).
* :func:`resnet18`, :func:`resnet34` -- CIFAR ResNets (He et al. 2016, BasicBlock): 3x3 stem, no max-pool,
  stages of 64/128/256/512 channels, global average pooling. Work on any input size >= 8 px.
* :class:`FastCifarNet` -- a small, fast residual net in the style of the well-known "ResNet-9" DAWNBench
  designs (prep conv, three conv-BN-ReLU-pool stages with residual blocks after the first and last, a global
  max-pool and a scaled linear classifier). ``width`` scales every stage (default 64 -> 64/128/256/512).
* :func:`build_model` -- by name.

Every model has ``forward_features(x) -> (embedding, logits)`` (the penultimate representation and the
logits in one pass), which :func:`labnoise.train.fit` uses for methods with ``needs_embeddings = True``.

Pixel-lane models take float NCHW tensors (the training loop converts and normalises the uint8 images).
"""
from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F

from ._validation import check_choice

__all__ = ["MLP", "ResNet", "resnet18", "resnet34", "FastCifarNet", "build_model", "MODEL_NAMES"]

MODEL_NAMES = ("mlp", "linear", "resnet18", "resnet34", "fastcifar")


class MLP(nn.Module):
    """A multilayer perceptron head: ``Linear -> ReLU (-> Dropout)`` per hidden layer, then a linear output.

    Parameters
    ----------
    in_dim : int
        Input feature dimension.
    num_classes : int
        Number of output logits.
    hidden : tuple of int
        Hidden layer widths; ``()`` gives a linear (logistic-regression) model.
    dropout : float
        Dropout probability after each hidden ReLU.

    Examples
    --------
    >>> import torch
    >>> head = MLP(64, 10, hidden=(32,))
    >>> embedding, logits = head.forward_features(torch.zeros(5, 64))
    >>> tuple(embedding.shape), tuple(logits.shape), bool(torch.equal(logits, head(torch.zeros(5, 64))))
    ((5, 32), (5, 10), True)
    """

    def __init__(self, in_dim: int, num_classes: int, hidden=(512,), dropout: float = 0.0):
        super().__init__()
        _check_dims(in_dim, num_classes)
        layers, d = [], int(in_dim)
        for h in hidden:
            layers += [nn.Linear(d, int(h)), nn.ReLU(inplace=True)]
            if dropout:
                layers.append(nn.Dropout(float(dropout)))
            d = int(h)
        layers.append(nn.Linear(d, int(num_classes)))
        self.net = nn.Sequential(*layers)
        self.in_dim, self.num_classes = int(in_dim), int(num_classes)

    def forward(self, x):
        return self.net(x)

    def forward_features(self, x):
        """``(embedding, logits)``: the last hidden layer's activations (the input itself when ``hidden=()``)
        and the output logits, in one pass (used by embedding-based methods such as LEND)."""
        v = self.net[:-1](x)
        return v, self.net[-1](v)


class _BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    """CIFAR ResNet with BasicBlocks; ``blocks`` per stage, e.g. (2, 2, 2, 2) for ResNet-18."""

    def __init__(self, blocks, num_classes: int = 10, in_channels: int = 3, width: int = 64):
        super().__init__()
        _check_dims(in_channels, num_classes)
        self.conv1 = nn.Conv2d(in_channels, width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        stages, cin = [], width
        for i, nb in enumerate(blocks):
            cout = width * 2 ** i
            layer = []
            for j in range(nb):
                layer.append(_BasicBlock(cin, cout, stride=2 if (j == 0 and i > 0) else 1))
                cin = cout
            stages.append(nn.Sequential(*layer))
        self.layers = nn.Sequential(*stages)
        self.fc = nn.Linear(cin, num_classes)
        self.num_classes = int(num_classes)

    def features(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layers(out)
        return torch.flatten(F.adaptive_avg_pool2d(out, 1), 1)

    def forward(self, x):
        return self.fc(self.features(x))

    def forward_features(self, x):
        """``(pooled features, logits)`` in one pass."""
        v = self.features(x)
        return v, self.fc(v)


def resnet18(num_classes: int = 10, in_channels: int = 3) -> ResNet:
    """CIFAR ResNet-18 (3x3 stem, no max-pool), ~11.2M parameters for 10 classes."""
    return ResNet((2, 2, 2, 2), num_classes, in_channels)


def resnet34(num_classes: int = 10, in_channels: int = 3) -> ResNet:
    """CIFAR ResNet-34 (3x3 stem, no max-pool), ~21.3M parameters for 10 classes."""
    return ResNet((3, 4, 6, 3), num_classes, in_channels)


def _conv_bn(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class _Residual(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.body = nn.Sequential(_conv_bn(c, c), _conv_bn(c, c))

    def forward(self, x):
        return x + self.body(x)


class FastCifarNet(nn.Module):
    """A small fast CIFAR net (ResNet-9 style): ~6.6M parameters at ``width=64``, ~1.7M at ``width=32``.

    prep conv(w) -> [conv(2w), pool, residual] -> [conv(4w), pool] -> [conv(8w), pool, residual]
    -> global max-pool -> linear, with logits scaled by ``scale`` (0.125 keeps early softmax soft).
    Max-pools are skipped once the map is 1 px, so 8x8 inputs (sklearn digits) work too.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 3, width: int = 64, scale: float = 0.125):
        super().__init__()
        _check_dims(in_channels, num_classes)
        w = int(width)
        self.prep = _conv_bn(in_channels, w)
        self.layer1 = nn.Sequential(_conv_bn(w, 2 * w))
        self.res1 = _Residual(2 * w)
        self.layer2 = _conv_bn(2 * w, 4 * w)
        self.layer3 = _conv_bn(4 * w, 8 * w)
        self.res3 = _Residual(8 * w)
        self.fc = nn.Linear(8 * w, num_classes, bias=False)
        self.scale = float(scale)
        self.num_classes = int(num_classes)

    @staticmethod
    def _pool(x):
        return F.max_pool2d(x, 2) if min(x.shape[-2:]) >= 2 else x

    def features(self, x):
        x = self.prep(x)
        x = self.res1(self._pool(self.layer1(x)))
        x = self._pool(self.layer2(x))
        x = self.res3(self._pool(self.layer3(x)))
        return torch.flatten(F.adaptive_max_pool2d(x, 1), 1)

    def forward(self, x):
        return self.fc(self.features(x)) * self.scale

    def forward_features(self, x):
        """``(pooled features, logits)`` in one pass."""
        v = self.features(x)
        return v, self.fc(v) * self.scale


def build_model(name: str, in_dim, num_classes: int, **kwargs) -> nn.Module:
    """Build a model by name.

    Parameters
    ----------
    name : {"mlp", "linear", "resnet18", "resnet34", "fastcifar"}
    in_dim : int or tuple
        Feature dimension for ``mlp``/``linear``; for the pixel models the number of input channels, or an
        image shape ``(H, W, C)`` whose last entry is used.
    num_classes : int
    **kwargs
        Passed to the model (``hidden``, ``dropout`` for MLP; ``width`` for fastcifar).
    """
    check_choice(name, MODEL_NAMES, name="model")
    if name in ("mlp", "linear"):
        if not isinstance(in_dim, (int,)) and hasattr(in_dim, "__len__"):
            raise ValueError(f"model {name!r} needs an integer feature dimension, got {in_dim!r}; "
                             "pass features.shape[1].")
        if name == "linear":
            kwargs.setdefault("hidden", ())
        return MLP(int(in_dim), num_classes, **kwargs)
    channels = int(in_dim[-1]) if hasattr(in_dim, "__len__") else int(in_dim)
    if name == "resnet18":
        return resnet18(num_classes, channels, **kwargs)
    if name == "resnet34":
        return resnet34(num_classes, channels, **kwargs)
    return FastCifarNet(num_classes, channels, **kwargs)


def _check_dims(in_dim, num_classes):
    if int(in_dim) < 1:
        raise ValueError(f"input dimension must be >= 1, got {in_dim}.")
    if int(num_classes) < 2:
        raise ValueError(f"num_classes must be >= 2, got {num_classes}.")
