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
           "get_method", "METHOD_NAMES", "registry", "display_name"]

#: The one table of the training methods: class -> (defining module, display name). A method's registry name is
#: its class's own ``name`` attribute (``GCE.name == "gce"``), read when the registry is first built.
_CLASSES = {"StandardCE": ("standard", "Standard"), "GCE": ("gce", "GCE"), "CoTeaching": ("coteaching", "Co-teaching"),
            "CoTeachingPlus": ("coteaching", "Co-teaching+"), "JoCoR": ("jocor", "JoCoR"), "SIGUA": ("sigua", "SIGUA"),
            "LEND": ("lend", "LEND"), "PLC": ("plc", "PLC")}
#: other accepted names of a registered method
_ALIASES = {"standard": "ce"}
#: display names of the methods that are estimators of their own, not ``fit()`` methods (grid names)
_OTHER_DISPLAY = {"lra_diffusion": "LRA-Diffusion", "lra_snls": "LRA-Diffusion+SNLS", "snls": "SNLS"}
_WHERE = {"Method": "standard", "cross_entropy": "standard", **{c: mod for c, (mod, _) in _CLASSES.items()}}
_REGISTRY: dict = {}


def registry() -> dict:
    """``{name: class}`` of every training method, names from the classes' ``name`` attributes (imports the
    method modules, hence torch, on first use)."""
    if not _REGISTRY:
        for cls_name in _CLASSES:
            cls = __getattr__(cls_name)
            if cls.name in _REGISTRY:
                raise RuntimeError(f"two method classes are named {cls.name!r}: {_REGISTRY[cls.name].__name__} and "
                                   f"{cls_name}")
            _REGISTRY[cls.name] = cls
    return _REGISTRY


def display_name(name: str) -> str:
    """How pages and figures name a method: ``display_name("coteaching+") == "Co-teaching+"``; also the
    aliases and the estimator methods (``"lra_snls"``); an unknown name is returned unchanged."""
    name = _ALIASES.get(name, name)
    if name in _OTHER_DISPLAY:
        return _OTHER_DISPLAY[name]
    cls = registry().get(name)
    return _CLASSES[cls.__name__][1] if cls is not None else name


def get_method(name: str, **kwargs):
    """A method instance by name, e.g. ``get_method("coteaching+", noise_rate=0.35)``."""
    from .._validation import check_choice
    check_choice(name, __getattr__("METHOD_NAMES"), name="method")
    return registry()[_ALIASES.get(name, name)](**kwargs)


def __getattr__(name):
    if name == "METHOD_NAMES":  # names accepted by get_method (and by fit(method=...)), aliases last
        return tuple(registry()) + tuple(_ALIASES)
    if name in _WHERE:
        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
