"""Learning-with-noisy-labels methods, usable by :func:`labnoise.train.fit` in either lane.

* :class:`StandardCE` (``"ce"``/``"standard"``) -- cross-entropy on the given labels (or soft targets).
* :class:`GCE` (``"gce"``) -- generalised cross-entropy, ``(1 - p_y^q) / q``, q = 0.7 (Zhang & Sabuncu 2018).
* :class:`CoTeaching` (``"coteaching"``) and :class:`CoTeachingPlus` (``"coteaching+"``) -- two networks
  that teach each other on small-loss examples (Han et al. 2018; Yu et al. 2019).
* :class:`JoCoR` (``"jocor"``) -- two networks, joint loss with symmetric-KL co-regularisation, small-loss
  selection on it (Wei et al. 2020).
* :class:`SIGUA` (``"sigua"``) -- descent on small-loss examples, scaled ascent on the rest (Han et al. 2020).
* :class:`LEND` (``"lend"``) -- label-noise dilution on the network's embeddings, selection of the examples
  whose label survives dilution (Zhang et al. 2022); needs ``model.forward_features``.
* :class:`PLC` (``"plc"``) -- progressive label correction (Zhang et al., ICLR 2021).
* ``lra_diffusion`` and ``snls`` (separate modules) -- LRA-Diffusion and soft neighbour label sampling.

Submodules are imported lazily, so ``import labnoise.methods`` does not import torch.
"""
from __future__ import annotations

import importlib

__all__ = ["Method", "StandardCE", "GCE", "CoTeaching", "CoTeachingPlus", "JoCoR", "SIGUA", "LEND", "PLC",
           "get_method", "METHOD_NAMES"]

_WHERE = {"Method": "standard", "StandardCE": "standard", "cross_entropy": "standard", "GCE": "gce",
          "CoTeaching": "coteaching", "CoTeachingPlus": "coteaching", "PLC": "plc",
          "JoCoR": "jocor", "SIGUA": "sigua", "LEND": "lend"}

#: names accepted by :func:`get_method` (and by ``fit(method=...)``)
METHOD_NAMES = ("ce", "standard", "gce", "coteaching", "coteaching+", "jocor", "sigua", "lend", "plc")


def get_method(name: str, **kwargs):
    """A method instance by name, e.g. ``get_method("coteaching+", noise_rate=0.35)``."""
    from .._validation import check_choice
    check_choice(name, METHOD_NAMES, name="method")
    cls = {"ce": "StandardCE", "standard": "StandardCE", "gce": "GCE", "coteaching": "CoTeaching",
           "coteaching+": "CoTeachingPlus", "jocor": "JoCoR", "sigua": "SIGUA", "lend": "LEND", "plc": "PLC"}[name]
    return __getattr__(cls)(**kwargs)


def __getattr__(name):
    if name in _WHERE:
        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
