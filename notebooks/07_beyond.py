# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
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
# 1. **Do the {term}`detectors <detector>` find Cluster-Based Noise ({term}`CBN`) as well as {term}`PMD <PMD noise>` and {term}`human noise <human label noise>` at equal rates?** DynaCor
#    {cite}`kim2024dynacor`, Confident Learning {cite}`northcutt2021cl`, SimiFeat {cite}`zhu2022simifeat` and AUM
#    {cite}`pleiss2020aum` (chapter 6, with chapter 6's settings) on three label sets of the same training images
#    at one noise rate.
# 2. **Do the CBN and SNLS conclusions depend on the encoder?** The same noisy labels, a cross-entropy MLP head
#    with and without {term}`SNLS` soft targets (chapter 4), on the features of different encoders.
# 3. **Does a crowd-aware consensus beat the vote?** cleanlab's CROWDLAB {cite}`goh2022crowdlab`
#    (`get_label_quality_multiannotator`)
#    on several annotators per image, against majority vote (and CIFAR-10N's released aggregate), scored on the
#    clean labels.
#
# **Profiles.** `offline`: CIFAR-10 with EfficientNet-Lite0 features; CBN and PMD are the seed paper's released
# CIFAR-10 label files, the human labels CIFAR-10N's, and the three CIFAR-10N annotators (random1/2/3) feed
# CROWDLAB. `smoke`: the 8x8 digits' pixels, with *generated* CBN and PMD, a *stand-in* for human noise
# ({term}`instance-dependent noise`, Xia et al. 2020) and three *simulated* annotators, because digits have no human
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

from labnoise import data, features
from labnoise.experiments import beyond
from labnoise.experiments.common import cpu_or, start

CHAPTER = "07_beyond"
cfg, run = start(CHAPTER, globals())
dev = cpu_or(cfg.device)
ds = data.load_dataset(cfg.dataset, root=cfg.data_root)
clean, K = np.asarray(ds.train_labels), ds.num_classes
print(f"profile {cfg.profile}: {cfg.dataset} ({clean.size} training images), encoder {cfg.encoder}, "
      f"detectors {', '.join(cfg.detectors)}, seeds {', '.join(map(str, cfg.seeds))}, "
      f"data root from {data.describe_root(cfg.data_root)}")

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
display(beyond.label_sets_table(sets))

# %%
opts = beyond.detector_settings(cfg.profile, dev)  # the detectors' settings: chapter 6's
subset = beyond.detector_subset(clean.size, cfg.detector_examples, seed=cfg.seed)
with run.timer("detectors"), warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)
    det = beyond.detector_f1(sets, x, detectors=cfg.detectors, options=opts, seeds=cfg.seeds,
                             flipped_features=xf, subset=subset)
n_det = clean.size if subset is None else subset.size
run.metrics.update(beyond.detector_metrics(det, sets, cfg.detectors, n_det))
display(Markdown(beyond.detector_table(det, cfg.detectors, n_examples=n_det, encoder=cfg.encoder,
                                       n_seeds=len(cfg.seeds))))

# %% tags=["keep-figure"]
fig = beyond.detector_figure(det, cfg.detectors, rate=cfg.rate, dataset=cfg.dataset)
plt.show()

# %% [markdown]
# ## 2. The encoder under CBN and SNLS
#
# The same noisy labels (section 1's CBN and PMD sets, and the clean labels as a ceiling), a CE head with and
# without SNLS soft targets (k neighbours in each encoder's own feature space), one row per encoder. Encoders
# in `optional_encoders` (CLIP) run only where their features are already cached.

# %%
with run.timer("encoder_features"):
    enc_feats, skipped = beyond.encoder_features(ds, cfg.encoders, cfg.optional_encoders, root=cfg.data_root,
                                                 device=cfg.device)
with run.timer("encoders"):
    enc = beyond.encoder_comparison(enc_feats, {"cbn": sets["cbn"]["labels"], "pmd": sets["pmd"]["labels"],
                                                "clean": clean}, ds.test_labels, seeds=cfg.seeds, k=cfg.snls_k,
                                    alpha=cfg.snls_alpha, device=dev,
                                    ce={"epochs": cfg.ce_epochs, "hidden": cfg.ce_hidden,
                                        "batch_size": cfg.ce_batch_size, "lr": cfg.ce_lr})
run.metrics["encoders"] = enc
run.metrics["encoders_skipped"] = {e: "features not cached (weights unavailable here)" for e in skipped}
display(Markdown(beyond.encoder_table(enc, skipped)))

# %% [markdown]
# ## 3. CROWDLAB on several annotators
#
# CROWDLAB weighs each annotator by an estimated quality and combines the votes with a model's out-of-sample
# predicted probabilities (here: cross-validation of an MLP head on the frozen features, trained on the
# majority-vote labels, the labels one actually has). Every consensus is scored on the clean labels.

# %%
with run.timer("crowdlab"), warnings.catch_warnings():
    warnings.simplefilter("ignore")
    ann = beyond.crowd_annotators(cfg.dataset, x, clean, annotators=cfg.annotators, seed=cfg.noise_seed,
                                  simulated_rates=cfg.simulated_annotator_rates, num_classes=K, root=cfg.data_root)
    crowd = beyond.crowdlab(ann["labels"], x, clean, annotator_names=ann["names"], aggregated=ann["aggregated"],
                            num_classes=K, folds=cfg.crowd_folds, model=cfg.crowd_model, epochs=cfg.crowd_epochs,
                            seed=cfg.seed, device=dev)
crowd["source"] = ann["source"]
run.metrics["crowdlab"] = crowd
display(Markdown(beyond.crowdlab_markdown(crowd, ann["names"])))

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
display(Markdown(beyond.guide_markdown(guide, profile=cfg.profile)))

# %%
run.save()

# %% [markdown]
# ## Exercises
#
# Three kinds: **predict, then run** (change one parameter, predict what happens, check), **implement** (a few lines
# against the library) and **interpret** (read a figure of this chapter). Each solution is hidden until you open it;
# its code runs in seconds on the `smoke` profile (digits, no data root) and ends with `assert`s that state its
# claim: `make test` runs every one of them (`tests/test_exercises.py`), so they cannot rot. Copy a solution into a
# new cell below to run it. The functions used are documented on the [API reference](../book/api.md) page; terms in
# the [glossary](../book/glossary.md).

# %% [markdown]
# ```{exercise} Predict, then run: a kNN detector on CBN
# :label: ex-07-cbn-detect
#
# Run SimiFeat ({py:func}`labnoise.detect.find_noisy`) on symmetric and on {term}`CBN` labels at the same 35% rate.
# Predict which one it finds better, then compare the two F1 scores; the chapter's first figure does this for every
# detector.
#
# **On a GPU / Colab:** the `full` profile's CLIP features and the CIFAR-10N human labels add the third, real kind
# of noise to the comparison.
# ```
#
# ````{solution} ex-07-cbn-detect
# :class: dropdown
#
# CBN flips whole patches of the map, so a wrong label's neighbours mostly carry the same wrong label and vote for
# it: a neighbour-voting detector misses most of them. Symmetric wrong labels are isolated and easy to spot.
#
# ```python
# seed = 0                       # try 1, 2: the claims below hold for every seed
# import numpy as np
# from labnoise import data, features
# ds = data.load_dataset("digits")                       # the smoke profile's data
# x, y = features.embed("digits", "train", "pixels", progress=False), ds.train_labels
# from labnoise import noise
# from labnoise.detect import find_noisy, f1_noisy
# from labnoise.tsne import tsne_map
# xy = tsne_map(x, seed=seed, cache=True)
# sets = {"symmetric": noise.symmetric(y, 0.35, seed=seed).noisy_labels,
#         "cbn": noise.cbn(map_2d=xy, labels=y, target_rate=0.35, seed=seed).noisy_labels}
# f1 = {name: f1_noisy(find_noisy(n, x, method="simifeat", seed=seed).is_noisy, n, y) for name, n in sets.items()}
# print(f1)
# assert f1["cbn"] < f1["symmetric"]     # clustered wrong labels vote for each other
# ```
# ````

# %% [markdown]
# ```{exercise} Implement: majority vote of three annotators
# :label: ex-07-majority
#
# Simulate three annotators with 30% symmetric noise each (three seeds of {py:func}`labnoise.noise.symmetric`) and
# combine them by majority vote (annotator 0 breaks ties). Compare the vote's noise rate with each annotator's;
# CIFAR-10N's `aggre` label set is such a vote.
# ```
#
# ````{solution} ex-07-majority
# :class: dropdown
#
# With independent, uniform errors two annotators rarely agree on the same wrong class, so the vote is wrong far
# less often than any annotator. Human errors are correlated (the same confusing images), which is why `aggre` is
# still noisy (chapter 0 measures how noisy) and why CROWDLAB weighs annotators by the data.
#
# ```python
# seed = 0                       # try 1, 2: the claims below hold for every seed
# import numpy as np
# from labnoise import data, features
# ds = data.load_dataset("digits")                       # the smoke profile's data
# x, y = features.embed("digits", "train", "pixels", progress=False), ds.train_labels
# from labnoise import noise
# votes = np.stack([noise.symmetric(y, 0.3, seed=seed + a).noisy_labels for a in range(3)])
# counts = np.stack([np.bincount(v, minlength=10) for v in votes.T])
# majority = np.where(counts.max(1) > 1, counts.argmax(1), votes[0])   # no majority: annotator 0
# err = (votes != y).mean(1)
# print(f"annotators {np.round(err, 3)}, majority vote {(majority != y).mean():.3f}")
# assert (majority != y).mean() < err.min()
# ```
# ````

# %% [markdown]
# ```{exercise} Interpret: the encoder under CBN and SNLS
# :label: ex-07-snls
#
# Section 2 asks whether SNLS still helps under CBN. Compute the gain in label accuracy of SNLS's argmax
# ({py:func}`labnoise.methods.snls.snls_targets`) over the given labels, under symmetric noise and under CBN at 35%.
# ```
#
# ````{solution} ex-07-snls
# :class: dropdown
#
# Under symmetric noise SNLS gains a lot; under CBN much less, because the neighbourhood SNLS trusts carries the
# same wrong label. Clustered noise defeats any method that relies on neighbours voting, detector or soft label.
#
# ```python
# seed = 0                       # try 1, 2: the claims below hold for every seed
# import numpy as np
# from labnoise import data, features
# ds = data.load_dataset("digits")                       # the smoke profile's data
# x, y = features.embed("digits", "train", "pixels", progress=False), ds.train_labels
# from labnoise import noise
# from labnoise.methods.snls import snls_targets
# from labnoise.tsne import tsne_map
# xy = tsne_map(x, seed=seed, cache=True)
# sets = {"symmetric": noise.symmetric(y, 0.35, seed=seed).noisy_labels,
#         "cbn": noise.cbn(map_2d=xy, labels=y, target_rate=0.35, seed=seed).noisy_labels}
# gain = {name: (snls_targets(x, n, k=100, alpha=0.3).argmax(1) == y).mean() - (n == y).mean()
#         for name, n in sets.items()}
# print({k: f"{v:+.1%}" for k, v in gain.items()})
# assert gain["symmetric"] > gain["cbn"]
# ```
# ````
