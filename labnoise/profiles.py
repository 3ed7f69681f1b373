"""Profiles: ``smoke`` (embedded digits, pixels, seconds), ``offline`` (CIFAR-10 from a local data root,
EfficientNet-Lite0 features, minutes on a CPU) and ``full`` (downloads, CLIP ViT-B/32, the papers' scale, GPU).

Every chapter takes its defaults from :func:`config`; papermill parameters (or keyword overrides) replace
single values. A value of ``None`` means "the profile's default".

    >>> cfg = config("02_cluster_based_noise", "smoke", seed=1)
    >>> cfg.dataset, cfg.seed
    ('digits', 1)
"""
from __future__ import annotations

import copy

PROFILE_NAMES = ("smoke", "offline", "full")

#: Settings every chapter shares, per profile.
COMMON = {
    "smoke": {"dataset": "digits", "encoder": "pixels", "device": "auto", "seeds": [0], "data_root": None},
    "offline": {"dataset": "cifar10", "encoder": "efficientnet-lite0", "device": "auto", "seeds": [0, 1, 2],
                "data_root": None},
    "full": {"dataset": "cifar10", "encoder": "clip", "device": "auto", "seeds": [0, 1, 2], "data_root": None},
}

#: Per-chapter settings, per profile. Each chapter owns its block.
CHAPTERS: dict[str, dict[str, dict]] = {
    # ---- 00_setup_data_encoders -------------------------------------------------------------------------
    "00_setup_data_encoders": {
        "smoke": {"encoders": ["pixels"], "knn_k": 10, "knn_references": None, "tsne_points": 1000,
                  "grid_images": 16},
        "offline": {"encoders": ["pixels", "efficientnet-lite0"], "knn_k": 10, "knn_references": None,
                    "tsne_points": 10000, "grid_images": 24},
        "full": {"encoders": ["pixels", "efficientnet-lite0", "clip"], "knn_k": 10, "knn_references": None,
                 "tsne_points": 50000, "grid_images": 24},
    },
    # ---- 01_memorization --------------------------------------------------------------------------------
    "01_memorization": {"smoke": {}, "offline": {}, "full": {}},
    # ---- 02_cluster_based_noise -------------------------------------------------------------------------
    "02_cluster_based_noise": {"smoke": {}, "offline": {}, "full": {}},
    # ---- 03_pmd_vs_cbn ----------------------------------------------------------------------------------
    "03_pmd_vs_cbn": {"smoke": {}, "offline": {}, "full": {}},
    # ---- 04_snls ----------------------------------------------------------------------------------------
    "04_snls": {"smoke": {}, "offline": {}, "full": {}},
}


class Config(dict):
    """A dict with attribute access (``cfg.seed``), produced by :func:`config`."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"config has no setting {name!r}; known: {', '.join(sorted(self))}") from None

    def __setattr__(self, name, value):
        self[name] = value


def config(chapter: str, profile: str = "smoke", **overrides) -> Config:
    """Settings of ``chapter`` under ``profile``; keyword overrides that are not ``None`` replace defaults.

    Unknown override names are accepted (a chapter may add parameters of its own) but a typo in a known
    chapter's parameter is easy to make, so names that the profile does not define are listed under
    ``cfg["extra_parameters"]``.
    """
    if profile not in PROFILE_NAMES:
        raise ValueError(f"unknown profile {profile!r}; choose one of: {', '.join(PROFILE_NAMES)}.")
    if chapter not in CHAPTERS:
        raise ValueError(f"unknown chapter {chapter!r}; choose one of: {', '.join(CHAPTERS)}.")
    cfg = Config(copy.deepcopy(COMMON[profile]))
    cfg.update(copy.deepcopy(CHAPTERS[chapter][profile]))
    extra = []
    for k, v in overrides.items():
        if v is None:
            continue
        if k not in cfg:
            extra.append(k)
        cfg[k] = v
    cfg["profile"] = profile
    cfg["chapter"] = chapter
    if extra:
        cfg["extra_parameters"] = sorted(extra)
    return cfg
