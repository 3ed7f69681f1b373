# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 7. Beyond the papers
#
# The seed papers each answer their own question. This chapter asks three that none of them ran, with the
# library the earlier chapters built, and ends with a short guide whose every sentence is printed from the
# numbers measured here.
#
# 1. **Do the detectors find Cluster-Based Noise as well as PMD and human noise at equal rates?** DynaCor
#    {cite}`kim2024dynacor`, Confident Learning {cite}`northcutt2021cl`, SimiFeat {cite}`zhu2022simifeat` and AUM
#    {cite}`pleiss2020aum` (chapter 6, with chapter 6's settings) on three label sets of the same training images
#    at one noise rate.
# 2. **Do the CBN and SNLS conclusions depend on the encoder?** The same noisy labels, a cross-entropy MLP head
#    with and without SNLS soft targets (chapter 4), on the features of different encoders.
# 3. **Does a crowd-aware consensus beat the vote?** cleanlab's CROWDLAB {cite}`goh2022crowdlab`
#    (`get_label_quality_multiannotator`)
#    on several annotators per image, against majority vote (and CIFAR-10N's released aggregate), scored on the
#    clean labels.
#
# **Profiles.** `offline`: CIFAR-10 with EfficientNet-Lite0 features; CBN and PMD are the seed paper's released
# CIFAR-10 label files, the human labels CIFAR-10N's, and the three CIFAR-10N annotators (random1/2/3) feed
# CROWDLAB. `smoke`: the 8x8 digits' pixels, with *generated* CBN and PMD, a *stand-in* for human noise
# (instance-dependent noise, Xia et al. 2020) and three *simulated* annotators, because digits have no human
# labels; its numbers check the code path, not the question. Each section says which label sets it used.

# %% tags=["parameters"]
profile = "smoke"  # smoke | offline | full
results_path = "results.json"  # where this chapter writes its results.json
data_root = None  # data root (None: $LABNOISE_DATA or ~/.cache/labnoise)
dataset = None  # digits | cifar10
encoder = None  # encoder of the detector and CROWDLAB sections: pixels | efficientnet-lite0 | clip
seed = None  # seed of the subsets, the human-rate thinning and the cross-validation folds
seeds = None  # detector and training seeds, e.g. [0, 1, 2]
noise_seed = None  # seed of generated noise (smoke)
rate = None  # the common noise rate of the detector comparison (the released files: 0.35 or 0.7)
detectors = None  # subset of ["dynacor", "confident", "simifeat", "aum", "avg_encoder", "cores"]
detector_examples = None  # run the detectors on a seeded random subset of this many examples (None: all)
human_set = None  # CIFAR-10N set for "human": auto (closest rate) | aggre | worse | random1 | random2 | random3
match_human_rate = None  # thin the human set's mistakes to `rate` when it is noisier (True) or use it as is
use_reference = None  # cifar10: the seed paper's released CBN/PMD files: True (require them) | "auto" (when present) | False (generate)
pmd_epochs = None  # generated PMD: epochs of the clean-label head (None: about 1,000 steps)
encoders = None  # encoders of the encoder comparison, e.g. ["pixels:pca128", "efficientnet-lite0"]
optional_encoders = None  # encoders compared only where their features are already cached, e.g. ["clip"]
snls_k = None  # SNLS neighbours (paper: 100)
snls_alpha = None  # SNLS trust in the given label (paper: 0.3)
ce_epochs = None  # CE head epochs
ce_hidden = None  # CE head hidden units
ce_batch_size = None  # CE head batch size
ce_lr = None  # CE head Adam learning rate
annotators = None  # CIFAR-10N annotator label sets for CROWDLAB
simulated_annotator_rates = None  # smoke: noise rate of each simulated annotator
crowd_folds = None  # folds of the out-of-sample pred_probs for CROWDLAB
crowd_model = None  # mlp | logreg (the cross-validated model)
crowd_epochs = None  # epochs of each cross-validation MLP
other_results = None  # auto (results.json of the other chapters next to results_path, same profile) | a folder | none
threads = None  # torch CPU threads (None: torch default)
device = None  # auto | cpu | cuda

# %% tags=["remove-cell"]
# Colab: install labnoise without touching the preinstalled torch.
import importlib.util
import subprocess
import sys

if "google.colab" in sys.modules and importlib.util.find_spec("labnoise") is None:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "labnoise[colab] @ git+https://github.com/labnoise/labnoise"], check=True)

# %%
import warnings

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display

from labnoise import data, detect, features, profiles, results
from labnoise.experiments import beyond
from labnoise.experiments import dynacor as dynacor_chapter

CHAPTER = "07_beyond"
cfg = profiles.from_parameters(CHAPTER, globals())
run = results.Results(CHAPTER, cfg, path=results_path)
if cfg.threads:
    import torch
    torch.set_num_threads(int(cfg.threads))
dev = "cpu" if cfg.device == "auto" else cfg.device
det_cfg = profiles.config("06_dynacor", cfg.profile)  # the detectors' settings: chapter 6's
opts = dynacor_chapter.detector_options(det_cfg)
for m, o in opts.items():
    if m != "simifeat":
        o["device"] = dev
ds = data.load_dataset(cfg.dataset, root=cfg.data_root)
clean = np.asarray(ds.train_labels)
K = ds.num_classes
print(f"profile {cfg.profile}: {cfg.dataset} ({clean.size} training images), encoder {cfg.encoder}, "
      f"detectors {cfg.detectors}, seeds {cfg.seeds}, data root from {data.describe_root(cfg.data_root)}")

# %% [markdown]
# ## 1. Detectors on CBN, PMD and human noise at one rate
#
# CBN flips whole sub-clusters of look-alike images to the nearest other class; PMD flips the examples a
# classifier finds ambiguous; human mistakes are whatever annotators did. At the same rate, does a detector
# find all three equally well? F1 counts *noisy* as the positive class.

# %%
with run.timer("features"):
    x = features.embed(ds, "train", cfg.encoder, root=cfg.data_root, device=cfg.device)
    xf = features.embed(ds, "train", cfg.encoder, flip=True, root=cfg.data_root, device=cfg.device)
with run.timer("label_sets"), warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)
    sets = beyond.detection_label_sets(cfg.dataset, x, clean, rate=cfg.rate, human=cfg.human_set,
                                       match_human_rate=cfg.match_human_rate, use_reference=cfg.use_reference,
                                       seed=cfg.noise_seed if cfg.dataset == "digits" else cfg.seed,
                                       num_classes=K, pmd_epochs=cfg.pmd_epochs, root=cfg.data_root)
run.metrics["label_sets"] = {k: {"realised_rate": v["realised_rate"], "source": v["source"]} for k, v in sets.items()}
display(Markdown("| noise | realised rate | labels |\n|---|---|---|\n" + "".join(
    f"| {k} | {100 * v['realised_rate']:.1f}% | {v['source']} |\n" for k, v in sets.items())))

# %%
subset = None
if cfg.detector_examples and cfg.detector_examples < clean.size:
    subset = np.sort(np.random.default_rng(cfg.seed).choice(clean.size, int(cfg.detector_examples), replace=False))
with run.timer("detectors"), warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)
    det = beyond.detector_f1(sets, x, detectors=cfg.detectors, options=opts, seeds=cfg.seeds,
                             flipped_features=xf, subset=subset)
run.metrics["detector_f1"] = det["f1"]
run.metrics["detector_f1_sd"] = det["f1_sd"]
run.metrics["detector_precision_recall"] = {m: {k: [det["precision"][m][k], det["recall"][m][k]] for k in sets}
                                            for m in cfg.detectors}
run.metrics["detector_examples"] = int(clean.size if subset is None else subset.size)
run.metrics["detector_seconds_per_run"] = det["seconds"]
run.metrics["detector_noise_rate"] = det["realised_rate"]
L = beyond.DETECTOR_LABELS
display(Markdown(
    f"**F1 (%) per detector and noise kind** ({run.metrics['detector_examples']} examples, {cfg.encoder} "
    f"features, {len(cfg.seeds)} seed{'s' if len(cfg.seeds) > 1 else ''}).\n\n| detector | "
    + " | ".join(f"{k} ({100 * det['realised_rate'][k]:.1f}% noise)" for k in sets) + " |\n|---|"
    + "---|" * len(sets) + "\n" + "".join(
        f"| {L[m]} | " + " | ".join(f"{100 * det['f1'][m][k]:.1f}" for k in sets) + " |\n" for m in cfg.detectors)))

# %% tags=["keep-figure"]
fig, ax = plt.subplots(figsize=(6.5, 3.6))
w = 0.8 / len(sets)
for j, k in enumerate(sets):
    ax.bar(np.arange(len(cfg.detectors)) + (j - (len(sets) - 1) / 2) * w,
           [100 * det["f1"][m][k] for m in cfg.detectors], w, label=k)
ax.set_xticks(np.arange(len(cfg.detectors)), [L[m] for m in cfg.detectors], fontsize=11)
ax.set_ylabel("F1 (%)", fontsize=11)
ax.legend(title="noise", fontsize=10)
ax.set_title(f"detection F1 at {100 * cfg.rate:.0f}% noise ({cfg.dataset})", fontsize=11)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 2. The encoder under CBN and SNLS
#
# The same noisy labels (section 1's CBN and PMD sets, and the clean labels as a ceiling), a CE head with and
# without SNLS soft targets (k neighbours in each encoder's own feature space), one row per encoder. Encoders
# in `optional_encoders` (CLIP) run only where their features are already cached.

# %%
encs = list(cfg.encoders)
skipped = []
for e in cfg.optional_encoders:
    ok = all(features.is_cached(ds, s, e, root=cfg.data_root) for s in ("train", "test"))
    (encs if ok else skipped).append(e)
enc_feats = {}
with run.timer("encoder_features"):
    for e in encs:
        enc_feats[e] = (features.embed(ds, "train", e, root=cfg.data_root, device=cfg.device),
                        features.embed(ds, "test", e, root=cfg.data_root, device=cfg.device))
with run.timer("encoders"):
    enc = beyond.encoder_comparison(enc_feats, {"cbn": sets["cbn"]["labels"], "pmd": sets["pmd"]["labels"],
                                                "clean": clean}, ds.test_labels, seeds=cfg.seeds, k=cfg.snls_k,
                                    alpha=cfg.snls_alpha, device=dev,
                                    ce={"epochs": cfg.ce_epochs, "hidden": cfg.ce_hidden,
                                        "batch_size": cfg.ce_batch_size, "lr": cfg.ce_lr})
run.metrics["encoders"] = enc
run.metrics["encoders_skipped"] = {e: "features not cached (weights unavailable here)" for e in skipped}
display(Markdown(
    "**Test accuracy (%) of a CE head, without / with SNLS targets.**\n\n| encoder | CBN | PMD | clean | "
    "SNLS gain CBN | SNLS gain PMD |\n|---|---|---|---|---|---|\n" + "".join(
        f"| {e} | {r['ce']['cbn']:.1f} / {r['snls']['cbn']:.1f} | {r['ce']['pmd']:.1f} / {r['snls']['pmd']:.1f} "
        f"| {r['ce']['clean']:.1f} | {r['snls_gain']['cbn']:+.1f} | {r['snls_gain']['pmd']:+.1f} |\n"
        for e, r in enc.items())
    + (f"\n\nNot compared (features not cached here): {', '.join(skipped)}." if skipped else "")))

# %% [markdown]
# ## 3. CROWDLAB on several annotators
#
# CROWDLAB weighs each annotator by an estimated quality and combines the votes with a model's out-of-sample
# predicted probabilities (here: cross-validation of an MLP head on the frozen features, trained on the
# majority-vote labels, the labels one actually has). Every consensus is scored on the clean labels.

# %%
with run.timer("crowdlab"), warnings.catch_warnings():
    warnings.simplefilter("ignore")
    if cfg.dataset == "cifar10":
        A = np.stack([data.load_label_set("cifar10n", a, root=cfg.data_root) for a in cfg.annotators], axis=1)
        aggre = data.load_label_set("cifar10n", "aggre", root=cfg.data_root)
        names, crowd_source = list(cfg.annotators), "CIFAR-10N's three annotators (random1/2/3), aggregate 'aggre'"
    else:
        A = beyond.simulate_annotators(x, clean, cfg.simulated_annotator_rates, seed=cfg.noise_seed, num_classes=K)
        aggre = None
        names = [f"simulated_{r}" for r in cfg.simulated_annotator_rates]
        crowd_source = (f"three simulated annotators (instance-dependent noise at {cfg.simulated_annotator_rates}); "
                        "no released aggregate")
    crowd = beyond.crowdlab(A, x, clean, annotator_names=names, aggregated=aggre, num_classes=K,
                            folds=cfg.crowd_folds, model=cfg.crowd_model, epochs=cfg.crowd_epochs,
                            seed=cfg.seed, device=dev)
crowd["source"] = crowd_source
run.metrics["crowdlab"] = crowd
ca = crowd["consensus_accuracy"]
display(Markdown(
    f"{crowd_source}; pred_probs: {crowd['pred_probs']}.\n\n| consensus | accuracy vs clean |\n|---|---|\n"
    + "".join(f"| {k} | {100 * v:.2f}% |\n" for k, v in ca.items())
    + "\n| annotator | accuracy vs clean | CROWDLAB quality |\n|---|---|---|\n"
    + "".join(f"| {n} | {100 * crowd['annotator_accuracy'][n]:.2f}% | {crowd['annotator_quality'][n]:.3f} |\n"
              for n in names)
    + f"\nCROWDLAB changes the majority's label on {100 * crowd['override_share']:.2f}% of the examples"
    + (f"; it is right on {100 * crowd['override_correct']:.1f}% of those, the majority on "
       f"{100 * crowd['majority_correct_where_overridden']:.1f}%" if crowd["override_correct"] is not None else "")
    + (f". Its consensus quality score separates wrong from right consensus labels with AUROC "
       f"{crowd['quality_auroc']:.3f}." if crowd["quality_auroc"] is not None else ".")))

# %% [markdown]
# ## 4. A decision guide for practitioners
#
# Every sentence below is generated from the metrics above (and, where their results.json files exist for
# this profile, from the other chapters' results).

# %%
others = beyond.load_other_results(cfg.other_results, results_path, profile=cfg.profile, exclude=CHAPTER)
guide = beyond.decision_guide(run.metrics, other_results=others)
run.metrics["decision_guide"] = guide
run.metrics["other_results_read"] = sorted(others)
display(Markdown("\n".join(f"- {s}" for s in guide)
                 + ("\n\n*Smoke profile: digits, generated noise and simulated annotators; a check of the code "
                    "path, not advice.*" if cfg.profile == "smoke" else "")))

# %%
run.save()
