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
# # 2. Cluster-based noise
#
# Human annotators do not flip labels at random: they mislabel images that *look like* another class, and
# such images come in groups (a sub-population of deer photographed like horses, of airplanes over water like
# ships). Lim et al. {cite}`lim2025soft` turn this observation into a synthetic noise model, **Cluster-Based
# Noise ({term}`CBN`)** (their Algorithm 1): embed the images, draw a 2-D t-SNE map, sample `n` sub-cluster centres in
# every class and give every point within radius `r` of one of them the label of the *nearest other class*.
# The result is noise that is dense in patches of feature space and concentrated on one or two target classes
# per class.
#
# This chapter builds CBN step by step and sets it beside the noise it is meant to improve on:
#
# * **uniform ({term}`symmetric <symmetric noise>`)** noise: a random fraction of labels moved to a random other class;
# * **{term}`PMD <PMD noise>`** noise of PLC {cite}`zhang2021plc`: feature-dependent noise that flips a label to the classifier's
#   runner-up class with a probability that diminishes polynomially with the classifier's margin;
#
# first on a toy 2-D example (the seed paper's Fig 5), then on the profile's data set at the paper's rates of
# 35% and 70%, and finally on the paper's released label files when they are in the data root.
#
# **Which encoder produced which figure.** In the `smoke` profile the features are the raw pixels of
# scikit-learn's 8x8 digits; in `offline` they are EfficientNet-Lite0 {cite}`tan2019efficientnet` features of
# the 50,000 CIFAR-10 training images; in `full` CLIP ViT-B/32 {cite}`radford2021clip` features, the paper's
# own setting. The t-SNE maps are computed with openTSNE {cite}`policar2024opentsne` (seeded, cached); the
# rendered book shows the profile printed below the first code cell.

# %% tags=["parameters"]
profile = "smoke"  # smoke | offline | full
results_path = "results.json"  # where this chapter writes its results.json
data_root = None  # data root (None: $LABNOISE_DATA or ~/.cache/labnoise)
seed = None  # seed of every random choice in this chapter
dataset = None  # digits | cifar10 | cifar100
encoder = None  # pixels | efficientnet-lite0 | clip
rates = None  # target noise rates, e.g. [0.35, 0.70]
pmd_kind = None  # PMD noise function: "I", "II" or "III"
pmd_epochs = None  # epochs of the clean-label MLP head for PMD (None: about 1,000 optimisation steps)
pmd_hidden = None  # hidden units of that MLP head
tsne_points = None  # points on the t-SNE map (None: the whole training split)
blob_points = None  # points of the toy 2-D blob (Fig 5)
blob_rate = None  # noise rate of the toy example
blob_n = None  # CBN sub-centres per class on the toy example (the radius is solved for the rate)
r_start = None  # starting radius of the CBN calibration, in map units (the paper used r 2)
explorer_ns = None  # values of n in the rate-vs-radius figure and on the explorer's n slider
device = None  # auto | cpu | cuda (the PMD classifier)

# %% tags=["remove-cell"]
# Colab: install labnoise without touching the preinstalled torch.
import importlib.util
import subprocess
import sys

if "google.colab" in sys.modules and importlib.util.find_spec("labnoise") is None:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "labnoise[colab] @ git+https://github.com/labnoise/labnoise"], check=True)

# %%
from IPython.display import Markdown, display

from labnoise import data
from labnoise.experiments import cbn as study
from labnoise.experiments.common import start
from labnoise.tsne import map_quality
from labnoise.viz import noise as vn

cfg, run = start("02_cluster_based_noise", globals())
print(f"profile {cfg.profile}: dataset {cfg.dataset}, encoder {cfg.encoder}, rates {', '.join(f'{r:.0%}' for r in cfg.rates)}, "
      f"PMD type {cfg.pmd_kind}, data root from {data.describe_root(cfg.data_root)}")

# %% [markdown]
# ## Fig 5: three kinds of noise on one blob
#
# One 2-D Gaussian blob, split into two classes by the vertical line x = 0. We corrupt the same fraction of
# labels three ways. **Uniform** noise picks the flipped points at random. **PMD** needs class probabilities
# from a classifier trained on the clean labels (here a small MLP on the two coordinates): with top class `u`,
# runner-up `s` and margin Δ = η_u − η_s, the label stays `u` with probability (1 − τ(Δ)) / f, where τ is
# PLC's type-I function ½ − ½Δ² and the factor f is solved for the rate. **CBN** samples `n` centres per
# class (the blob's coordinates *are* the map here) and flips every point within radius `r` of one of them;
# `r` is solved for the rate. Flipped points are ringed.

# %%
with run.timer("fig5"):
    xy, yb, blob = study.blob_example(cfg.blob_points, cfg.blob_rate, n=cfg.blob_n, pmd_kind=cfg.pmd_kind,
                                      seed=cfg.seed)
fig = vn.noise_panels(xy, {"clean": yb, **blob}, suptitle=f"the same blob at {100 * cfg.blob_rate:.0f}% noise")
run.metrics["blob"] = {k: v.summary() for k, v in blob.items()}

# %% [markdown]
# Uniform noise is salt and pepper; PMD thickens towards the boundary, where the classifier is least sure (with
# type I it also keeps a floor of noise everywhere, 1 − 1/f); CBN is made of solid discs that can sit anywhere
# inside a class, far from the boundary. A classifier can learn CBN's discs as if they were real structure.
#
# ## The chapter's data and its t-SNE map
#
# Algorithm 1 works on a 2-D t-SNE map of the encoder features. {py:func}`labnoise.tsne.tsne_map` reduces the
# features to 50 principal components, finds approximate neighbours (Annoy) and optimises the map with
# FFT-accelerated gradients for 100 + 250 iterations, chosen for speed over the paper's scikit-learn t-SNE at
# 50,000 points (`benchmarks/bench_cbn.py` measures the difference; this page does not; the module's
# documentation lists what each choice costs in map quality). The quality numbers printed below are the fraction of each point's 10 nearest map
# neighbours with the same class (`knn_label_agreement`) and the fraction of its 10 nearest feature-space
# neighbours that stay among its 10 nearest map neighbours (`neighbour_preservation`).

# %%
with run.timer("features"):
    ds = data.load_dataset(cfg.dataset, root=cfg.data_root)
    x, y = study.chapter_features(ds, cfg.encoder, points=cfg.tsne_points, seed=cfg.seed, device=cfg.device,
                                  root=cfg.data_root)
print(f"{cfg.dataset} train: {x.shape[0]} images, {cfg.encoder} features of dimension {x.shape[1]}")
with run.timer("tsne"):
    m = study.chapter_map(x, seed=cfg.seed, profile=cfg.profile, root=cfg.data_root)
quality = map_quality(x, m, y, k=10, sample=2000, seed=cfg.seed)
run.metrics["map"] = {"points": int(len(y)), **quality}
display(study.quality_table(quality))

# %% [markdown]
# ## Algorithm 1, step by step
#
# 1. The class centre of each class is the mean of its map points (clean labels; stars).
# 2. `n` sub-cluster centres are sampled among each class's points (crosses), each with a disc of radius `r`.
# 3. Every point inside a disc of its own class takes the label of the nearest *other* class centre.
#
# The paper's CIFAR-10 settings (n = 57, r = 2 → 34.9%; n = 190, r = 2 → 70.2%) refer to the scale of its own,
# unseeded scikit-learn map. Here {py:func}`labnoise.noise.cbn` calibrates: a bisection over `n` at the
# starting radius, then an exact solve of `r` when a step of `n` is too coarse. The `(n, r)` it found is in
# the title of the middle panel and in the table above the figure.

# %%
with run.timer("cbn"):
    cbn_res = study.cbn_at_rates(m, y, cfg.rates, seed=cfg.seed, r_start=cfg.r_start)
display(study.calibration_table(cbn_res))
fig = vn.algorithm_steps(cbn_res[f"{cfg.rates[0]:.2f}"], ds.classes, seed=cfg.seed)

# %% [markdown]
# ## CBN and PMD at 35% and 70%
#
# PMD's probabilities come from an MLP head trained on the same features with the clean labels (the
# frozen-feature lane; PLC trained a PreAct-ResNet34 on pixels for 25 epochs, see
# {py:func}`labnoise.noise.pmd_probs`). The head trains for about 1,000 steps only, so that, like PLC's
# network, it does not fit the training set perfectly: saturated probabilities would give every image the same
# margin and turn PMD into a constant flip rate. Its factor is solved so that the realised rate is the target
# (PLC reports factors of about 1.43 for 35% and 3.40 for 70% on CIFAR-10).

# %%
with run.timer("pmd"):
    probs, pmd_res = study.pmd_at_rates(x, y, cfg.rates, kind=cfg.pmd_kind, epochs=cfg.pmd_epochs,
                                        hidden=cfg.pmd_hidden, seed=cfg.seed, device=cfg.device)
run.metrics["pmd_classifier"] = {"train_accuracy_last_epoch": round(float((probs.argmax(1) == y).mean()), 4)}
ours = {f"{name} {k}": res for k in cbn_res for name, res in (("CBN", cbn_res[k]), ("PMD", pmd_res[k]))}
display(vn.summary_table(ours))
fig = vn.transition_panels(ours, ds.classes, suptitle=f"T[clean, noisy] on {cfg.dataset} ({cfg.encoder})")

# %% [markdown]
# How many different wrong classes does each class's noise go to? CBN sends a class's flipped labels to the
# class whose centre is nearest to the flipped *point*, so most of them go to one or two neighbours of the
# class on the map; PMD follows each image's own runner-up class and should spread further. Whether it does in
# this run is stated below the figure, after the table of each label set's most frequent flips, from the numbers.

# %%
fig = vn.targets_per_class_bars(ours, ds.classes, title="distinct target classes per clean class")

# %%
display(vn.top_flips(ours, ds.classes, k=5))
run.metrics["cbn"] = {k: v.summary() for k, v in cbn_res.items()}
run.metrics["pmd"] = {k: v.summary() for k, v in pmd_res.items()}
run.metrics["cbn_more_concentrated"] = study.concentration(cbn_res, pmd_res)
display(Markdown(study.concentration_markdown(run.metrics["cbn_more_concentrated"])))

# %% [markdown]
# ## The paper's released label files
#
# Lim et al. released their CIFAR-10 CBN and PMD labels at 35% and 70%, together with the clean training
# labels they started from (`given`; the cell below compares them with CIFAR-10N's `clean` when those files are
# present).
# Their statistics are computed here when the files are in the data root; the chapter skips this part with a
# note otherwise.

# %%
if data.has_files("reference", root=cfg.data_root):
    ref, run.metrics["reference"], same = study.reference_label_sets(cfg.data_root)
    if same is not None:
        print(f"paper's given labels == CIFAR-10N clean labels for {100 * same:.2f}% of the images")
    cifar_names = ds.classes if cfg.dataset == "cifar10" else None
    display(vn.summary_table(ref))
    fig = vn.transition_panels(ref, cifar_names, suptitle="the paper's released CIFAR-10 label files")
    fig = vn.targets_per_class_bars(ref, cifar_names, title="paper's files: distinct target classes per class")
    display(vn.top_flips(ref, cifar_names, k=5))
else:
    print("Skipped: the paper's released label files are not in the data root "
          f"({data.describe_root(cfg.data_root)}); they are downloaded in the full profile, or copied from ../shared by "
          ".ci/run (see the setup chapter).")

# %% [markdown]
# ## Explore n and r
#
# The noise rate grows with both the number of sub-centres and the radius. The figure shows the realised rate
# against `r` for several `n` on this chapter's map (the dashed lines are the target rates). In the explorer
# below it, the sliders pick one `n` and one radius of that grid (every third one) and the map shows which
# points flip. Its results were computed by the library's CBN code when the page was built, so it works on the
# static page as well as in a notebook.

# %%
ns, rs, grid = study.rate_grid(m, y, cfg.explorer_ns, seed=cfg.seed)
fig = vn.rate_grid_figure(grid, ns, rs, targets=cfg.rates, title=f"CBN rate on the {cfg.dataset} map")
run.metrics["rate_grid"] = study.rate_grid_metrics(ns, rs, grid)

# %%
display(vn.cbn_explorer_html(m, y, ns, rs[::3], seed=cfg.seed, classes=ds.classes, start_rate=cfg.rates[0],
                             about=f"t-SNE of the {cfg.encoder} features of {cfg.dataset}, this run"))

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
# ```{exercise} Predict, then run: CBN's radius
# :label: ex-02-radius
#
# In {term}`CBN`, a point flips when it lies within radius `r` of one of `n` sub-centres. Predict how the realised
# rate changes as `r` grows from 1 to 6 map units, at `n = 2` and `n = 8`, then compute the grid with
# {py:func}`labnoise.noise.cbn_rate_grid` on the chapter's t-SNE map. Look at the printed rows (one per `n`); the
# chapter's "Explore n and r" figure is the same grid, drawn.
#
# **On a GPU / Colab:** on the `full` profile's CLIP map of 50,000 CIFAR-10 images, rerun the chapter with
# `explorer_ns` of your choice: the same monotone rise, on the paper's data.
# ```
#
# ````{solution} ex-02-radius
# :class: dropdown
#
# The rate never falls as `r` grows: with the sub-centres fixed, a larger disc contains every point of a smaller
# one. It rises faster with more sub-centres. Calibration (`target_rate=`) exploits this monotonicity: it solves for
# the `r` (or `n`) that gives the target.
#
# ```python
# seed = 0                       # try 1, 2: the claims below hold for every seed
# import numpy as np
# from labnoise import data, features
# ds = data.load_dataset("digits")                       # the smoke profile's data
# x, y = features.embed("digits", "train", "pixels", progress=False), ds.train_labels
# from labnoise.noise import cbn_rate_grid
# from labnoise.tsne import tsne_map
# xy = tsne_map(x, seed=seed, cache=True)
# rs = [1.0, 2.0, 3.0, 4.0, 6.0]
# grid = cbn_rate_grid(xy, y, ns=[2, 8], rs=rs, seed=seed)     # realised rate, one row per n
# print(np.round(grid, 3))
# assert np.all(np.diff(grid, axis=1) >= 0)        # a larger radius only adds points: the rate never falls
# assert grid[:, -1].min() > grid[:, 0].max()      # and over this range it rises
# ```
# ````

# %% [markdown]
# ```{exercise} Implement: a nearest-class noise generator
# :label: ex-02-generator
#
# Write a generator that flips each label with probability `rate` to the class whose feature centroid is nearest to
# the example's class centroid, returning a {py:class}`labnoise.noise.NoiseResult` via `NoiseResult.from_labels`.
# Compare its `targets_per_class()` with {term}`symmetric noise` at the same rate.
# ```
#
# ````{solution} ex-02-generator
# :class: dropdown
#
# Each class flips to exactly one target, so the top-2 share of the flipped labels is 1 (symmetric noise spreads
# them over nine targets). Such class-level {term}`asymmetric noise` is concentrated like CBN's, but not clustered:
# which examples flip is still random, independent of where they sit in feature space.
#
# ```python
# seed = 0                       # try 1, 2: the claims below hold for every seed
# import numpy as np
# from labnoise import data, features
# ds = data.load_dataset("digits")                       # the smoke profile's data
# x, y = features.embed("digits", "train", "pixels", progress=False), ds.train_labels
# from labnoise.noise import NoiseResult, symmetric
# def nearest_class_noise(x, y, rate, *, seed):
#     rng = np.random.default_rng(seed)
#     centres = np.stack([x[y == c].mean(0) for c in range(y.max() + 1)])
#     d = ((centres[:, None] - centres[None]) ** 2).sum(-1); np.fill_diagonal(d, np.inf)
#     flip = rng.random(len(y)) < rate
#     return NoiseResult.from_labels(y, np.where(flip, d.argmin(1)[y], y), kind="nearest-class", seed=seed)
# ours, sym = nearest_class_noise(x, y, 0.35, seed=seed), symmetric(y, 0.35, seed=seed)
# print(ours.realised_rate, ours.targets_per_class().mean, sym.targets_per_class().mean)
# assert ours.targets_per_class().top2_share == 1.0 and sym.targets_per_class().top2_share < 0.5
# ```
# ````

# %% [markdown]
# ```{exercise} Interpret: the distinct-targets bars
# :label: ex-02-targets
#
# The bar chart "distinct target classes per clean class" compares CBN and PMD. Reproduce its CBN bar and set it
# beside symmetric noise at 35%, counting only targets that get at least 5% of a class's flips
# ({py:meth}`labnoise.noise.NoiseResult.targets_per_class` with `min_fraction=0.05`). Look at the mean number of
# targets and the top-2 share.
# ```
#
# ````{solution} ex-02-targets
# :class: dropdown
#
# CBN gives each sub-cluster the label of the nearest other class, so a class's flips go to one or two neighbours on
# the map (a high top-2 share), while symmetric noise uses all nine other classes. This concentration is what makes
# CBN resemble human noise (chapter 0's CIFAR-10N matrices).
#
# ```python
# seed = 0                       # try 1, 2: the claims below hold for every seed
# import numpy as np
# from labnoise import data, features
# ds = data.load_dataset("digits")                       # the smoke profile's data
# x, y = features.embed("digits", "train", "pixels", progress=False), ds.train_labels
# from labnoise.noise import cbn, symmetric
# from labnoise.tsne import tsne_map
# xy = tsne_map(x, seed=seed, cache=True)
# c = cbn(map_2d=xy, labels=y, target_rate=0.35, seed=seed)
# s = symmetric(y, 0.35, seed=seed)
# tc, ts = c.targets_per_class(0.05), s.targets_per_class(0.05)
# print(f"CBN {c.realised_rate:.3f}: {tc.mean:.1f} targets/class, top-2 share {tc.top2_share:.2f}; "
#       f"symmetric: {ts.mean:.1f}, {ts.top2_share:.2f}")
# assert tc.top2_share > ts.top2_share + 0.3 and tc.mean < ts.mean
# ```
# ````
