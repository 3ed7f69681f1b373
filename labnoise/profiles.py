"""Profiles: ``smoke`` (embedded digits, pixels, seconds), ``offline`` (CIFAR-10 from a local data root,
EfficientNet-Lite0 features, minutes on a CPU) and ``full`` (downloads, CLIP ViT-B/32, a GPU). ``full`` runs the
papers' data and encoder, not every paper's training budget: memorization uses frozen-feature heads, Table I a
small CIFAR net for 40 epochs; each chapter says what its profiles run.

Every chapter takes its defaults from :func:`config`; papermill parameters (or keyword overrides) replace
single values. A value of ``None`` means "the profile's default".

    >>> cfg = config("02_cluster_based_noise", "smoke", seed=1)
    >>> cfg.dataset, cfg.seed
    ('digits', 1)
"""
from __future__ import annotations

import copy

from ._validation import check_rate
from .data import DATASETS, LABEL_SETS
from .features import ENCODERS

PROFILE_NAMES = ("smoke", "offline", "full")

#: Settings several chapters share, per profile; each chapter names the ones it takes (``common=``).
COMMON = {
    "smoke": {"dataset": "digits", "encoder": "pixels", "device": "auto", "seeds": [0], "data_root": None},
    "offline": {"dataset": "cifar10", "encoder": "efficientnet-lite0", "device": "auto", "seeds": [0, 1, 2],
                "data_root": None},
    "full": {"dataset": "cifar10", "encoder": "clip", "device": "auto", "seeds": [0, 1, 2], "data_root": None},
}


def _per_profile(shared: dict, *, common: tuple = ("dataset", "encoder", "device", "seeds", "data_root"),
                 smoke: dict, offline: dict, full: dict) -> dict[str, dict]:
    """One chapter's settings: the ``common`` ones it takes from :data:`COMMON`, those ``shared`` by every
    profile, plus each profile's own (later ones win)."""
    own = {"smoke": smoke, "offline": offline, "full": full}
    return {p: {**{k: COMMON[p][k] for k in common}, **shared, **own[p]} for p in PROFILE_NAMES}


#: Per-chapter settings, per profile. Each chapter owns its block.
CHAPTERS: dict[str, dict[str, dict]] = {
    # ---- 00_setup_data_encoders ------------------------------------------------------------------------------
    "00_setup_data_encoders": _per_profile(
        {"seed": 0, "knn_k": 10, "knn_references": None}, common=("dataset", "device", "data_root"),
        smoke={"encoders": ["pixels"], "tsne_points": 1000, "grid_images": 16},
        offline={"encoders": ["pixels", "efficientnet-lite0"], "tsne_points": 10000, "grid_images": 24},
        full={"encoders": ["pixels", "efficientnet-lite0", "clip"], "tsne_points": 50000, "grid_images": 24}),
    # ---- 01_memorization -------------------------------------------------------------------------------------
    "01_memorization": _per_profile(
        {"seed": 0, "keep": 0.7, "threshold": 0.6, "low_mem": 0.2, "label_set": "random1", "standin_rate": 0.173,
         "benchmark_runs": 8}, common=("dataset", "encoder", "device", "data_root"),
        smoke={"m": 40, "head_kind": "random_features", "hidden": 1024, "epochs": 30, "lr": 0.003,
               "batch_size": 128, "matmul_dtype": "float32", "chunk_size": 40, "pca_dim": None,
               "tsne_points": 2000, "benchmark_examples": 1000, "torch_threads": 1, "checkpoint": False},
        offline={"m": 1000, "head_kind": "mlp", "hidden": 256, "epochs": 8, "lr": 0.01, "batch_size": 512,
                 "matmul_dtype": "bfloat16", "chunk_size": 40, "pca_dim": 128, "tsne_points": 10000,
                 "benchmark_examples": 5000, "torch_threads": 1, "checkpoint": True},
        full={"m": 1500, "head_kind": "mlp", "hidden": 512, "epochs": 20, "lr": 0.01, "batch_size": 512,
              "matmul_dtype": "bfloat16", "chunk_size": 100, "pca_dim": None, "tsne_points": 50000,
              "benchmark_examples": 5000, "torch_threads": None, "checkpoint": True}),
    # ---- 02_cluster_based_noise ------------------------------------------------------------------------------
    "02_cluster_based_noise": _per_profile(
        {"seed": 0, "rates": [0.35, 0.7], "pmd_kind": "I", "pmd_epochs": None, "tsne_points": None,
         "blob_points": 2000, "blob_rate": 0.2, "blob_n": 10, "r_start": 2.0},
        common=("dataset", "encoder", "device", "data_root"),
        smoke={"pmd_hidden": 128, "explorer_ns": [1, 2, 4, 8, 16, 32, 64]},
        offline={"pmd_hidden": 256, "explorer_ns": [5, 10, 20, 40, 80, 160, 320]},
        full={"pmd_hidden": 256, "explorer_ns": [5, 10, 20, 40, 80, 160, 320]}),
    # ---- 03_pmd_vs_cbn ---------------------------------------------------------------------------------------
    "03_pmd_vs_cbn": _per_profile(
        {"methods": ["ce", "gce", "coteaching+", "plc", "lra_diffusion", "lra_snls"], "noises": ["pmd", "cbn"],
         "rates": [0.35, 0.7], "optimizer": "sgd", "weight_decay": 0.0005, "use_reference": "auto",
         "pmd_kind": "I", "noise_seed": 0, "lra_k": 10, "lra_inference": "zero", "lra_samples": 10,
         "snls_alpha": 0.3},
        smoke={"lane": "features", "model": "mlp", "hidden": [256], "epochs": 15, "batch_size": 64, "lr": 0.05,
               "augment": None, "lra_epochs": 10, "snls_k": 20, "threads": 1, "cache_dir": None,
               "precision": None},
        offline={"lane": "features", "model": "mlp", "hidden": [512], "epochs": 10, "batch_size": 128,
                 "lr": 0.05, "augment": None, "lra_epochs": 10, "snls_k": 100, "threads": 1,
                 "cache_dir": "auto", "precision": "bf16"},
        full={"lane": "pixels", "model": "fastcifar", "hidden": [512], "epochs": 40, "batch_size": 256,
              "lr": 0.1, "augment": "crop_flip", "lra_epochs": 30, "snls_k": 100, "threads": None,
              "cache_dir": "auto", "precision": "auto"}),
    # ---- 04_snls ---------------------------------------------------------------------------------------------
    "04_snls": _per_profile(
        {"seed": 0, "k": 100, "alpha": 0.3, "noise_kinds": ["cbn", "pmd"], "rates": [0.35, 0.7],
         "use_reference": "auto", "alpha_sweep": [0.0, 0.1, 0.3, 0.5, 0.7, 1.0], "sweep_train": True,
         "hosts": ["ce", "lra_diffusion"], "lra_k": 10, "lra_inference": "zero", "lra_samples": 1,
         "lra_avg_samples": [1, 5, 10],
         "panel_k": 100, "browser": True},
        smoke={"k_sweep": [1, 3, 10, 30, 100, 300], "model_k_sweep": [10, 30, 100, 300],
               "model_alpha_sweep": [0.0, 0.3, 0.7, 1.0], "seeds": [0], "ce_epochs": 30, "ce_hidden": 256,
               "lra_epochs": 20, "lra_hidden": 128, "lra_batch_size": 128, "threads": 1, "precision": None},
        offline={"k_sweep": [1, 3, 10, 30, 100, 300], "model_k_sweep": [10, 30, 100, 300],
                 "model_alpha_sweep": [0.0, 0.3, 0.7, 1.0], "seeds": [0, 1, 2], "ce_epochs": 10, "ce_hidden": 256,
                 "lra_epochs": 10, "lra_hidden": 256, "lra_batch_size": 512, "threads": 1, "precision": "bf16"},
        full={"k_sweep": [1, 3, 10, 30, 100, 300, 1000], "model_k_sweep": [10, 30, 100, 300, 1000],
              "model_alpha_sweep": [0.0, 0.1, 0.3, 0.5, 0.7, 1.0], "seeds": [0, 1, 2], "ce_epochs": 30,
              "ce_hidden": 512, "lra_epochs": 50, "lra_hidden": 512, "lra_batch_size": 256, "threads": None,
              "precision": "auto"}),
    # ---- 05_lend ---------------------------------------------------------------------------------------------
    "05_lend": _per_profile(
        {"methods": ["ce", "coteaching", "gce", "jocor", "sigua", "lend"], "optimizer": "sgd",
         "momentum": 0.9, "weight_decay": 0.0005, "schedule": "step", "noise_seed": 0, "lend_k": 8,
         "lend_gamma": 3.0, "lend_alpha": 0.99, "lend_beta": 0.9, "lend_steps": 5, "ramp_epochs": 10,
         "batch_sizes": [32, 64, 128, 256, 512], "toy_points": 240},
        smoke={"lane": "features", "model": "mlp", "hidden": [256], "epochs": 30, "batch_size": 128, "lr": 0.05,
               "augment": None, "sym_rates": [0.4], "asym_rates": [0.3], "lend_warmup": 3, "last_k": 5,
               "threads": 1, "precision": "fp32"},
        offline={"lane": "features", "model": "mlp", "hidden": [256], "epochs": 10, "batch_size": 256,
                 "ramp_epochs": 5, "lr": 0.05, "augment": None, "sym_rates": [0.4, 0.5, 0.6],
                 "asym_rates": [0.2, 0.3, 0.4],
                 "seeds": [0, 1, 2], "lend_warmup": 2, "last_k": 3, "threads": 1, "precision": "bf16"},
        full={"lane": "pixels", "model": "resnet18", "hidden": [512], "epochs": 200, "batch_size": 256,
              "lr": 0.05, "augment": "crop_flip", "sym_rates": [0.4, 0.5, 0.6], "asym_rates": [0.2, 0.3, 0.4],
              "seeds": [0, 1, 2, 3, 4], "lend_warmup": 10, "last_k": 10, "threads": None, "precision": "auto"}),
    # ---- 06_dynacor -------------------------------------------------------------------------------------------
    # DynaCor as its public code (which produced the paper's Table 1) runs it: hidden [512] (the code's
    # MLP([512, 512], C) is Linear 512 -> ReLU -> Linear, one hidden layer; the paper's text describes two,
    # hidden [512, 512]), DEC target recomputed per mini-batch ("batch"), evaluation with squared Euclidean
    # distance, copies drawn from the 90% not held out and Eq. 9 over the originals that have a copy. The
    # training detectors share `hidden`. encoder_lr: the paper's 1e-5 (offline, full); on 1,297 digits it barely
    # moves the sequence encoder, so smoke uses 1e-4. cores_epochs 9: an MLP head on frozen features memorises the
    # noisy labels before the end of a 30-epoch run's warm-up third (see labnoise/detect/cores.py).
    # precision "auto": bf16 where the hardware has native bf16 units, else fp32 (results.json records which).
    "06_dynacor": _per_profile(
        {"methods": ["dynacor", "avg_encoder", "aum", "confident", "simifeat", "cores"], "noise_seed": 0,
         "corruption_rate": 0.1, "holdout": 0.1, "alpha": 0.5, "target": "batch", "distance": "sqeuclidean",
         "selection_over": "copied", "hidden": [512], "lr": 0.02, "batch_size": 128, "encoder_batch_size": 1024,
         "encoder_weight_decay": 0.0001, "embed_dim": 512, "simifeat_k": 10, "simifeat_passes": 5,
         "simifeat_variant": "rank1", "cl_folds": 5, "cl_model": "mlp", "aum_percentile": 99.0, "map_points": 1500,
         "figure_examples": 40, "alphas": [0.0, 0.05, 0.5], "precision": "auto"},
        common=("encoder", "device", "seeds", "data_root"),
        smoke={"settings": ["digits/sym-0.6", "digits/asym-0.3", "digits/inst-0.4"], "epochs": 10,
               "encoder_epochs": 10, "encoder_lr": 0.0001, "cores_epochs": 9, "cl_epochs": 5,
               "gammas": [0.05, 0.1, 0.2], "seeds": [0], "threads": 1},
        offline={"settings": ["cifar10/sym-0.6", "cifar10/asym-0.3", "cifar10/inst-0.4", "cifar10n/aggre",
                              "cifar10n/worse"], "epochs": 20, "encoder_epochs": 15, "encoder_lr": 1e-5,
                 "cores_epochs": 9, "cl_epochs": 10, "gammas": [0.05, 0.1, 0.2], "seeds": [0, 1, 2, 3, 4],
                 "threads": 1},
        full={"settings": ["cifar10/sym-0.6", "cifar10/asym-0.3", "cifar10/inst-0.4", "cifar10n/aggre",
                           "cifar10n/worse", "cifar100/sym-0.6", "cifar100/asym-0.3", "cifar100/inst-0.4",
                           "cifar100n/noisy"], "epochs": 20, "encoder_epochs": 15, "encoder_lr": 1e-5,
              "cores_epochs": 9, "cl_epochs": 10, "gammas": [0.05, 0.1, 0.2, 0.3], "seeds": [0, 1, 2, 3, 4],
              "threads": None}),
    # ---- 07_beyond -------------------------------------------------------------------------------------------
    # The detectors' own settings are chapter 06's (one source of truth); 07 picks which detectors, how many
    # examples and seeds. optional_encoders run only where their features are already cached (CLIP weights).
    # offline detector_examples 10000: measured on 5k CIFAR-10 Lite0 examples (one thread, busy 2-core machine)
    # DynaCor 34 s, CL 29 s, AUM 33 s, SimiFeat 13 s per noise kind; all 50k would take ~35 min per kind.
    "07_beyond": _per_profile(
        {"seed": 0, "noise_seed": 0, "rate": 0.35, "detectors": ["dynacor", "confident", "simifeat", "aum"],
         "human_set": "auto", "match_human_rate": True, "use_reference": True, "snls_alpha": 0.3,
         "annotators": ["random1", "random2", "random3"], "crowd_folds": 5, "crowd_model": "mlp",
         "ce_batch_size": 256, "ce_lr": 0.001, "other_results": "auto"},
        smoke={"seeds": [0], "detector_examples": None, "encoders": ["pixels", "pixels:pca16"],
               "optional_encoders": [], "snls_k": 20, "ce_epochs": 20, "ce_hidden": 256, "pmd_epochs": 60,
               "simulated_annotator_rates": [0.15, 0.25, 0.35], "crowd_epochs": 5, "threads": 1},
        offline={"seeds": [0], "detector_examples": 10000, "encoders": ["pixels:pca128", "efficientnet-lite0"],
                 "optional_encoders": ["clip"], "snls_k": 100, "ce_epochs": 10, "ce_hidden": 256, "pmd_epochs": None,
                 "simulated_annotator_rates": [0.15, 0.25, 0.35], "crowd_epochs": 10, "threads": 1},
        full={"seeds": [0, 1, 2], "detector_examples": None,
              "encoders": ["pixels:pca128", "efficientnet-lite0", "clip"], "optional_encoders": [],
              "snls_k": 100, "ce_epochs": 30, "ce_hidden": 512, "pmd_epochs": None,
              "simulated_annotator_rates": [0.15, 0.25, 0.35], "crowd_epochs": 10, "threads": None}),
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
    cfg = Config(copy.deepcopy(CHAPTERS[chapter][profile]))
    extra = []
    for k, v in overrides.items():
        if v is None:
            continue
        if k not in cfg:
            extra.append(k)
        cfg[k] = v
    check_data_choices(cfg, chapter=chapter)
    cfg["profile"] = profile
    cfg["chapter"] = chapter
    if extra:
        cfg["extra_parameters"] = sorted(extra)
    return cfg


#: the noise kinds of chapters 03 and 04 (parameters ``noises`` / ``noise_kinds``)
TABLE_I_NOISES = ("pmd", "cbn")
#: the human label sets a chapter may name (CIFAR-N; "clean" is not noise)
HUMAN_LABEL_SETS = {"cifar10": tuple(s for s in LABEL_SETS["cifar10n"] if s != "clean"),
                    "cifar100": tuple(s for s in LABEL_SETS["cifar100n"] if s != "clean")}


def _bad(chapter, name, value, want: str) -> ValueError:
    got = "" if repr(value) in want else f" (got {value!r})"
    return ValueError(f"parameter {name} of chapter {chapter}: {want}{got}; set another value "
                      f"(`labnoise run {chapter} -p {name} VALUE`) or None for the profile's default.")


def _check_encoder(chapter, name, value):
    if not isinstance(value, str) or value.partition(":")[0] not in ENCODERS:
        raise _bad(chapter, name, value, f"unknown encoder {value!r}; choose one of {', '.join(ENCODERS)} "
                                         "(pixels:pcaN and clip:MODEL[:PRETRAINED] take options)")


def _check_int(chapter, name, value):
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(chapter, name, value, "expected an integer seed")


def _check_rates(chapter, name, value, *, allow_empty: bool = False):
    if not isinstance(value, (list, tuple)) or (not value and not allow_empty):
        raise _bad(chapter, name, value, "expected a non-empty list of noise rates, e.g. [0.35, 0.7]")
    for r in value:
        if isinstance(r, bool):
            raise _bad(chapter, name, value, "noise rates are numbers, not booleans")
        try:
            check_rate(r, name=f"each of {name}")
        except ValueError as e:
            raise _bad(chapter, name, value, str(e)) from None
        if float(r) == 0.0:
            raise _bad(chapter, name, value, "a noise rate of 0 flips nothing; use rates in (0, 1)")


def check_data_choices(cfg: dict, *, chapter: str = "this chapter") -> None:
    """Raise one ValueError naming the parameter, its value and the values it may take, for every data choice
    of ``cfg`` that the package does not know: ``dataset``, ``encoder`` / ``encoders``, ``seed`` / ``seeds``,
    ``rate`` / ``rates`` / ``sym_rates`` / ``asym_rates``, ``noises`` / ``noise_kinds``, ``pmd_kind``, ``label_set``,
    ``human_set`` / ``annotators`` (07), ``settings`` (06), ``use_reference`` (03, 04, 07).
    :func:`config` calls it, so a chapter fails in its first cell."""
    get = cfg.get
    if "dataset" in cfg and get("dataset") not in DATASETS:
        raise _bad(chapter, "dataset", get("dataset"),
                   f"unknown dataset {get('dataset')!r}; choose one of {', '.join(DATASETS)}")
    if "encoder" in cfg:
        _check_encoder(chapter, "encoder", get("encoder"))
    if "encoders" in cfg:
        if not isinstance(get("encoders"), (list, tuple)) or not get("encoders"):
            raise _bad(chapter, "encoders", get("encoders"), f"expected a non-empty list of encoders from {ENCODERS}")
        for e in get("encoders"):
            _check_encoder(chapter, "encoders", e)
    if "seed" in cfg:
        _check_int(chapter, "seed", get("seed"))
    if "noise_seed" in cfg:
        _check_int(chapter, "noise_seed", get("noise_seed"))
    if "seeds" in cfg:
        seeds = get("seeds")
        if not isinstance(seeds, (list, tuple)) or not seeds:
            raise _bad(chapter, "seeds", seeds, "expected a non-empty list of integer seeds, e.g. [0, 1, 2]")
        if any(isinstance(sd, bool) or not isinstance(sd, int) for sd in seeds):
            raise _bad(chapter, "seeds", seeds, "expected a non-empty list of integer seeds, e.g. [0, 1, 2]")
    if "rates" in cfg:
        _check_rates(chapter, "rates", get("rates"))
    for name in ("sym_rates", "asym_rates"):
        if name in cfg:
            _check_rates(chapter, name, get(name), allow_empty=True)
    if "sym_rates" in cfg and "asym_rates" in cfg and not (get("sym_rates") or get("asym_rates")):
        raise _bad(chapter, "sym_rates", get("sym_rates"), "sym_rates and asym_rates are both empty: nothing to run")
    for name in ("noises", "noise_kinds"):
        if name in cfg:
            v = get(name)
            if not isinstance(v, (list, tuple)) or not v or any(x not in TABLE_I_NOISES for x in v):
                raise _bad(chapter, name, v, f"expected a non-empty list from {list(TABLE_I_NOISES)}")
    if "label_set" in cfg:
        v = get("label_set")
        allowed = HUMAN_LABEL_SETS.get(get("dataset"))
        if allowed is None:  # no human labels for this dataset (digits): any known name, the stand-in is used
            allowed = tuple(dict.fromkeys(x for sets in HUMAN_LABEL_SETS.values() for x in sets))
        if v not in allowed:
            raise _bad(chapter, "label_set", v, f"expected a human label set of {get('dataset')}: one of "
                                                f"{', '.join(allowed)}")
    if "use_reference" in cfg and not (get("use_reference") == "auto" or isinstance(get("use_reference"), bool)):
        raise _bad(chapter, "use_reference", get("use_reference"),
                   "expected 'auto' (the paper's released files when present), True (require them) or False "
                   "(generate the noise)")
    if "rate" in cfg:
        _check_rates(chapter, "rate", [get("rate")])
    if "pmd_kind" in cfg:
        from .noise.pmd import PMD_KINDS

        if get("pmd_kind") not in PMD_KINDS:
            raise _bad(chapter, "pmd_kind", get("pmd_kind"), f"expected a PMD type, one of {', '.join(PMD_KINDS)}")
    if "human_set" in cfg and get("human_set") not in ("auto",) + HUMAN_LABEL_SETS["cifar10"]:
        raise _bad(chapter, "human_set", get("human_set"),
                   f"expected 'auto' or a CIFAR-10N label set: {', '.join(HUMAN_LABEL_SETS['cifar10'])}")
    if "annotators" in cfg:
        v = get("annotators")
        single = tuple(x for x in HUMAN_LABEL_SETS["cifar10"] if x.startswith("random"))
        if not isinstance(v, (list, tuple)) or not v or any(x not in single for x in v):
            raise _bad(chapter, "annotators", v, f"expected a non-empty list of the single-annotator sets "
                                                 f"{list(single)}")
    if "settings" in cfg:
        v = get("settings")
        if not isinstance(v, (list, tuple)) or not v:
            raise _bad(chapter, "settings", v, "expected a non-empty list such as ['cifar10/sym-0.6']")
        for s in v:
            _check_setting(chapter, s)


def _check_setting(chapter, setting):
    from .experiments.dynacor import parse_setting  # torch-free; imported here so that the runner stays light

    try:
        name, kind, rate = parse_setting(setting) if isinstance(setting, str) else (None, None, None)
    except ValueError as e:
        raise _bad(chapter, "settings", setting, str(e)) from None
    human = {"cifar10n": LABEL_SETS["cifar10n"], "cifar100n": LABEL_SETS["cifar100n"]}
    if name in human:
        if kind not in human[name] or kind == "clean":
            raise _bad(chapter, "settings", setting, f"{name} has the label sets "
                                                     f"{', '.join(x for x in human[name] if x != 'clean')}")
    elif name in DATASETS:
        if rate is None:
            raise _bad(chapter, "settings", setting, "a generated setting needs a rate, e.g. 'cifar10/sym-0.6'")
        _check_rates(chapter, "settings", [rate])
    else:
        raise _bad(chapter, "settings", setting, f"the part before '/' must be one of "
                                                 f"{', '.join(DATASETS + tuple(human))}")


def known_settings(chapter: str) -> set[str]:
    """Every setting name ``chapter`` has under any profile: the names its parameters cell lists."""
    if chapter not in CHAPTERS:
        raise ValueError(f"unknown chapter {chapter!r}; choose one of: {', '.join(CHAPTERS)}.")
    names = set()
    for p in PROFILE_NAMES:
        names |= set(CHAPTERS[chapter][p])
    return names


def from_parameters(chapter: str, namespace: dict) -> Config:
    """The chapter's :func:`config`, read once from its parameters cell: ``from_parameters(CHAPTER, globals())``.

    ``namespace["profile"]`` picks the profile; every other name of ``namespace`` that is a setting of the
    chapter (:func:`known_settings`) and is not ``None`` overrides the profile's default. So the parameters
    cell is the only list of parameters: no forwarding list in the chapter.
    """
    profile = namespace.get("profile", "smoke")
    names = known_settings(chapter)
    overrides = {k: namespace[k] for k in names if k in namespace and namespace[k] is not None}
    return config(chapter, profile, **overrides)
