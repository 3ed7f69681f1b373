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
# # 1. Which wrong labels do networks learn?
#
# A network trained on noisy labels ends up predicting many of the wrong labels of its training set. It can get
# there in two ways. It can **{term}`memorize <memorization>`** an example: predict its wrong label only because that very example
# was in the training set. Or the wrong label can be **learned**: the network predicts it even when the example
# was left out, because similar images carry the same wrong label. Feldman and Zhang's memorization score
# {cite}`feldman2020neural` tells the two apart:
#
# $$\mathrm{mem}(i) = \underbrace{P[h(x_i) = y_i \mid i \in \text{train}]}_{\text{inclusion}} -
#   \underbrace{P[h(x_i) = y_i \mid i \notin \text{train}]}_{\text{exclusion}},$$
#
# where $y_i$ is the *given* (possibly wrong) label. We estimate both probabilities by subsampling: train $m$
# models, each on a random subset, and average each example's correctness over the runs that included it and
# over the runs that left it out ({term}`inclusion probability` and {term}`exclusion probability`).
#
# Lim et al. {cite}`lim2025soft` used this to compare **human** label noise (CIFAR-10N `random_label1`
# {cite}`wei2022cifarn`, one annotator per image) with **synthetic class-dependent** noise drawn from the *same*
# {term}`transition matrix`. Their design: a {term}`held-out set` of all wrongly labelled images of `random_label1`
# plus as many correctly labelled ones; every run keeps a random 70% of it and always trains on everything else;
# 1,500 ResNet34 runs on pixels (80 epochs each, the setting of the authors' public repository). This chapter
# counts the wrong labels of its own label files below. Their findings: correct labels are hardly memorized;
# synthetic wrong labels "show a greater proportion with low memorization scores" than human ones; yet, split
# into inclusion and exclusion, the human wrong labels are denser in the top-right corner (inclusion > 0.6 *and*
# exclusion > 0.6; the authors report 222 human labels there): they are
# {term}`learned <incorrectly learned label>` from their neighbours, because human errors cluster in feature space.
#
# This chapter reruns the experiment in the **frozen-feature lane**: the $m$ models are small heads on frozen
# encoder features, trained many at once as batched matrix products (`labnoise.memorization`). The encoder is
# raw pixels in the `smoke` profile (sklearn digits), EfficientNet-Lite0 {cite}`tan2019efficientnet` in
# `offline` (CIFAR-10) and CLIP ViT-B/32 in `full`; the profile that produced this page is printed below.
# Digits have no human labels, so the `smoke` profile uses a clearly labelled **stand-in** for human noise (see
# below). The profiles differ in scale, and none is the paper's model: `smoke` trains a few dozen random-feature
# heads per label set on digits, `offline` and `full` as many MLP heads per label set as the paper trained models
# (1,500), on CIFAR-10 Lite0 or CLIP features, for fewer epochs than the paper (Lim et al.: 1,500 ResNet34s on
# pixels, 80 epochs in their public code). The configuration printed below says exactly what this run used.
#
# The human label set is a parameter, `label_set`: CIFAR-10N `random1` (the paper's, default), `random2`,
# `random3`, `aggre` or `worse`; for CIFAR-100 the CIFAR-100N `noisy` set. The synthetic set is always matched to
# the chosen human set.

# %% tags=["parameters"]
profile = "smoke"  # smoke | offline | full
results_path = "results.json"  # where this chapter writes its results.json
data_root = None  # data root (None: $LABNOISE_DATA or ~/.cache/labnoise)
seed = None  # seed of every random choice (designs, subsets, initialisations, synthetic labels)
dataset = None  # digits | cifar10
encoder = None  # pixels | efficientnet-lite0 | clip
device = None  # auto | cpu | cuda
m = None  # runs (models) per label set
keep = None  # fraction of the held-out set each run trains on (0.7 in the paper)
head_kind = None  # mlp (own hidden layer per head) | random_features (shared random layer) | linear
hidden = None  # hidden width (mlp) or number of random features (random_features)
epochs = None  # epochs per run
lr = None  # Adam learning rate of the heads
batch_size = None  # mini-batch size (shared by the heads of a chunk)
matmul_dtype = None  # auto (bfloat16 where the CPU or GPU has native bf16, else float32) | float32 | bfloat16
chunk_size = None  # heads trained at once (and runs per checkpoint)
pca_dim = None  # reduce the features to this many principal components first (None: keep all)
threshold = None  # "incorrectly learned": inclusion > threshold and exclusion > threshold (0.6 in the paper)
low_mem = None  # "low memorization": mem < low_mem (our cut-off; the paper reads it off a histogram)
label_set = None  # human labels: random1 (paper) | random2 | random3 | aggre | worse (CIFAR-10N); noisy (CIFAR-100N)
standin_rate = None  # noise rate of the human stand-in when no human labels exist (digits)
tsne_points = None  # points on the 2-D map (all incorrectly learned ones are always included)
benchmark_runs = None  # runs in the batched vs one-at-a-time comparison (0: skip)
benchmark_examples = None  # examples in that comparison (a subset)
threads = None  # torch CPU threads (None: torch's default; 1 can be faster on a busy machine)
checkpoint = None  # save completed runs under <data root>/cache/memorization and resume from them

# %% tags=["remove-cell"]
# Colab: install labnoise without touching the preinstalled torch
import sys, subprocess, importlib.util
if "google.colab" in sys.modules and importlib.util.find_spec("labnoise") is None:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "labnoise[colab] @ git+https://github.com/labnoise/labnoise"], check=True)

# %%
import numpy as np
from IPython.display import Markdown, display

from labnoise import cache, data, features, memorization as mem
from labnoise.experiments import memorization as study
from labnoise.experiments.common import markdown_table, start
from labnoise.tsne import tsne_map
from labnoise.viz import heatmaps, memorization as vm

cfg, run = start("01_memorization", globals())
print(f"profile {cfg.profile}: {cfg.dataset} + {cfg.encoder}, m={cfg.m} runs per label set, "
      f"{cfg.head_kind} heads, data root from {data.describe_root(cfg.data_root)}")

# %% [markdown]
# ## Two label sets with the same transition matrix
#
# The **human** set is the CIFAR-N label set `label_set` (CIFAR-10N `random_label1` by default) where it exists. The **synthetic** set has the same
# class-to-class transition matrix $T$ (the row-normalised confusion of the human labels against the clean ones),
# but every label is drawn independently from $T[y_i]$ with a seeded generator: same classes confused, same
# rates, none of the image-dependence.
#
# *Stand-in (digits, and CIFAR-10 without the CIFAR-10N files):* no human labels exist, so the "human-like" set
# is made by relabelling the {py:func}`standin_rate <labnoise.noise.confusable_noise>` fraction of images
# that a weak, strongly regularised classifier finds most confusable with the class it confuses them with —
# structured, instance-dependent noise, **not** human annotation.

# %%
with run.timer("labels"):
    ds = data.load_dataset(cfg.dataset, root=cfg.data_root)
    feats = features.embed(ds, "train", cfg.encoder, root=cfg.data_root, device=cfg.device, progress=True)
    sets = study.build_label_sets(ds, feats, label_set=cfg.label_set, standin_rate=cfg.standin_rate,
                                  seed=cfg.seed, profile=cfg.profile, root=cfg.data_root)
clean, human, human_name = sets.clean, sets.human, sets.human_name
run.metrics["label_sets"] = sets.metrics(cfg.label_set)
display(sets.table())
fig = heatmaps({k: np.array(v["T"]) for k, v in sets.stats.items()}, classes=ds.classes,
               suptitle="transition matrices T[clean, given]")

# %% [markdown]
# Lim et al. released their synthetic set (`cifar_rand1_syn_labels.csv`). Ours is a fresh draw from the same
# $T$, so the two should agree in rate and transition matrix but not label by label.

# %%
cmp = study.compare_with_paper_synthetic(sets, dataset=cfg.dataset, label_set=cfg.label_set,
                                         profile=cfg.profile, root=cfg.data_root)
if cmp is not None:
    run.metrics["paper_synthetic"] = cmp
    display(markdown_table([[k, f"{v:.4f}"] for k, v in cmp.items()], ["comparison", "value"]))
else:
    print("NOTE: the paper's synthetic label file is not available here (needs CIFAR-10, CIFAR-10N and the "
          "reference files): comparison skipped.")

# %% [markdown]
# ## Held-out design and the estimate
#
# For each label set: the held-out set is every wrongly labelled example plus as many correctly labelled ones
# (seeded); each of the $m$ runs keeps a random `keep` fraction of it and trains on everything else. The runs
# are heads on the frozen features, trained a chunk at a time with batched matrix products; completed chunks are
# checkpointed, so an interrupted estimate resumes where it stopped with identical results.

# %%
x, head = study.head_inputs(feats, cfg.pca_dim), study.head_config(cfg)
est = study.estimate(x, sets, num_classes=ds.num_classes, head=head, m=cfg.m, keep=cfg.keep, seed=cfg.seed,
                     device=cfg.device, checkpoint=cfg.checkpoint, root=cfg.data_root, run=run)
display(est.table())

# %% [markdown]
# ## Fig 1 — memorization, correct vs incorrect labels

# %%
fig = vm.memorization_histograms(est.pairs())
means = study.mean_metrics(est, sets.short)
run.metrics["m"] = int(cfg.m)
run.metrics.update(means)
display(study.mean_table(means))

# %% [markdown]
# ## Fig 2 — inclusion against exclusion
#
# Memorization alone hides *why* a wrong label is predicted. Splitting it into its two terms does: an example in
# the top-right corner is predicted with its wrong label whether or not the model saw it — it is
# **incorrectly learned**, supported by its neighbours.

# %%
fig = vm.inclusion_exclusion_density(est.pairs(), threshold=cfg.threshold)
learned = study.learned(est, sets.short, cfg.threshold)
run.metrics["incorrectly_learned"] = {k: int(v.size) for k, v in learned.items()}
run.metrics["threshold"] = cfg.threshold
display(study.learned_table(run.metrics["incorrectly_learned"], cfg.threshold))

# %% [markdown]
# ## Fig 3 — where the incorrectly learned labels sit
#
# A 2-D t-SNE map (openTSNE {cite}`policar2024opentsne`, seeded and cached) of the encoder features, coloured by
# the *clean* class; the incorrectly learned examples of each label set are ringed. Lim et al. found the human
# ones in sub-clusters inside their true class, labelled as the neighbouring class.

# %%
sub = study.map_points(learned, len(clean), cfg.tsne_points, seed=cfg.seed)
with run.timer("tsne"):
    xy = tsne_map(feats[sub], seed=cfg.seed, cache=cache.cache_dir("tsne", root=data.data_root(cfg.data_root)))
fig = vm.incorrectly_learned_map(xy, clean[sub], study.map_marks(sub, learned), classes=ds.classes)

# %% [markdown]
# ## Fig 4 — the closest incorrectly learned human labels
#
# For the five classes with the most incorrectly learned human (or stand-in) labels, the ten such images
# closest to their group's medoid in encoder space; the red title is the given label.

# %%
fig = vm.closest_learned_grid(ds.train_images, feats, learned["human"], clean, human, ds.classes,
                              per_class=10, n_classes=5, label_name=human_name)
pairs = mem.confusion_pairs(human[learned["human"]], clean[learned["human"]], classes=ds.classes, top=8)
run.metrics["incorrectly_learned_human_top_pairs"] = pairs
display(study.pairs_table(pairs))

# %% [markdown]
# ## Explore a region
#
# Drag the two range sliders to select a region of the inclusion–exclusion plane of the human labels; the images
# in it are shown with `given/clean` labels. (Interactive only in a live notebook; the static figure below shows
# the default region.)

# %%
try:
    display(vm.region_explorer(est.results[human_name], est.noisy[human_name], ds.train_images, clean, human,
                               ds.classes))
except Exception as e:  # no ipywidgets / no frontend: the static figure below stands in
    print(f"(interactive explorer unavailable: {type(e).__name__})")

# %%
fig = vm.region_figure(est.results[human_name], est.noisy[human_name], ds.train_images, clean, human, ds.classes,
                       inclusion=(cfg.threshold, 1.0), exclusion=(cfg.threshold, 1.0), seed=cfg.seed,
                       title=f"{human_name}: incorrectly learned (static)")

# %% [markdown]
# ## How fast is "many models at once"?
#
# The same heads trained one at a time (a `torch.nn` model, autograd and `torch.optim.AdamW` per run, same
# initialisation, batches and schedule) against the batched trainer, on a subset, in this process.

# %%
if cfg.benchmark_runs:
    with run.timer("benchmark"):
        b = study.benchmark(x, human, num_classes=ds.num_classes, head=head, runs=cfg.benchmark_runs,
                            examples=cfg.benchmark_examples, seed=cfg.seed, device=cfg.device)
    run.metrics["benchmark"], run.metrics["benchmark_ratio"] = b, b["ratio"]
    display(study.benchmark_table(b))
else:
    print("benchmark skipped (benchmark_runs = 0)")

# %% [markdown]
# ## Compared with the paper
#
# Lim et al. {cite}`lim2025soft` report **222** incorrectly learned human labels from 1,500 ResNet34 runs on
# pixels with augmentation (80 epochs per run in their public repository), fewer for the synthetic set, and *more* low-memorization mass for synthetic than for human wrong
# labels. What changes in the frozen-feature lane:
#
# * **Exclusion is set by the encoder.** A head never changes the features, so whether a left-out wrong label
#   is predicted depends on how many of the example's encoder-space neighbours carry the same wrong label. An
#   ImageNet encoder (or CLIP) groups images differently from a ResNet34 trained on the noisy CIFAR labels
#   themselves, so *which* and *how many* examples land in the top-right corner differ; the direction of the
#   effect (human > synthetic) is what to compare.
# * **Inclusion is set by the head's capacity and training length.** A ResNet34 trained as long as theirs fits
#   nearly every training label (inclusion close to 1, so memorization is about 1 - exclusion). A small head
#   trained for a few epochs fits only part of the wrong labels, so memorization of wrong labels is lower and
#   the human/synthetic comparison of *memorization* can flip: isolated synthetic flips are exactly the ones a
#   small head fails to fit. The inclusion/exclusion split does not have this problem.
# * **Estimator noise.** With $m$ runs an example is left out about $(1 - \text{keep})\,m$ times, so exclusion
#   is a frequency over that many runs: a few dozen runs give a coarse grid near the 0.6 threshold.
#
# The cell below states what this run found, from its own numbers.

# %%
found, low_share = study.findings(est, sets.short, run.metrics["incorrectly_learned"], means,
                                  threshold=cfg.threshold, low_mem=cfg.low_mem)
run.metrics["findings"], run.metrics["low_memorization_share_incorrect"] = found, low_share
display(Markdown(study.findings_markdown(found, human_name=human_name, m=cfg.m)))
run.metrics["paper"] = study.PAPER
run.metrics["head"] = {**head.__dict__, "pca_dim": cfg.pca_dim}
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
# ```{exercise} Implement: memorization from per-run correctness
# :label: ex-01-formula
#
# Given `correct[r, i]` (run `r` predicts the given label of `i`) and `included[r, i]` (run `r` trained on `i`),
# write the {term}`inclusion probability`, the {term}`exclusion probability` and {term}`memorization` in three lines
# of numpy and compare with {py:func}`labnoise.memorization.memorization_from_runs`. Look at the printed
# memorization scores of five toy examples.
# ```
#
# ````{solution} ex-01-formula
# :class: dropdown
#
# Inclusion is the mean of `correct` over the runs that included the example, exclusion over the runs that left it
# out, memorization their difference. Memorization can be negative (a toy with random correctness shows it); on real
# runs it is near 0 for correctly labelled examples.
#
# ```python
# seed = 0                       # try 1, 2: the claims below hold for every seed
# import numpy as np
# from labnoise.memorization import memorization_from_runs
# rng = np.random.default_rng(seed)
# m, N = 20, 5
# included = rng.random((m, N)).argsort(0) < 14     # each example in exactly 14 of the 20 runs (70%)
# correct = rng.random((m, N)) < 0.5
# inc = (correct & included).sum(0) / included.sum(0)
# exc = (correct & ~included).sum(0) / (~included).sum(0)
# lib_inc, lib_exc, lib_mem, _ = memorization_from_runs(correct, included)
# print(np.round(inc - exc, 3))
# assert np.allclose(inc, lib_inc, equal_nan=True) and np.allclose(inc - exc, lib_mem, equal_nan=True)
# ```
# ````

# %% [markdown]
# ```{exercise} Predict, then run: fewer epochs, less memorization?
# :label: ex-01-epochs
#
# The `smoke` profile trains each head for `epochs = 30`. Cut it to 3 and estimate memorization of the
# {term}`held-out set` again ({py:func}`labnoise.memorization.estimate_memorization`, 8 heads, 20% symmetric noise).
# Predict first: what happens to the mean memorization of the wrong labels? Of the right ones? Look at the printed
# means.
#
# **On a GPU / Colab:** with `profile="full"` the chapter trains 1,500 heads on CLIP features; set `epochs` in the
# parameters cell to 3 and compare Fig 1 with the default run.
# ```
#
# ````{solution} ex-01-epochs
# :class: dropdown
#
# A wrong label is memorized when the head fits it while training on it but not otherwise. Three epochs are not
# enough to fit many wrong labels, so their inclusion (and memorization) drops towards the exclusion level. Right
# labels are predicted whether or not they were trained on, so their memorization stays near 0 at any budget.
#
# ```python
# seed = 0                       # try 1, 2: the claims below hold for every seed
# import numpy as np
# from labnoise import data, features
# ds = data.load_dataset("digits")                       # the smoke profile's data
# x, y = features.embed("digits", "train", "pixels", progress=False), ds.train_labels
# from labnoise import noise, memorization as mem
# noisy = noise.symmetric(y, 0.2, seed=seed).noisy_labels
# held = mem.held_out_design(noisy, y, seed=seed)           # every wrong label + as many right ones
# wrong = noisy[held] != y[held]
# def mean_mem(epochs):
#     head = mem.HeadConfig(kind="random_features", hidden=1024, epochs=epochs, lr=0.003, batch_size=128)
#     r = mem.estimate_memorization(x, noisy, held, m=8, seed=seed, head=head, progress=False, device="cpu")
#     return np.nanmean(r.memorization[held][wrong]), np.nanmean(r.memorization[held][~wrong])
# long, short = mean_mem(30), mean_mem(3)
# print(f"wrong labels: 30 epochs {long[0]:.2f}, 3 epochs {short[0]:.2f}; right labels {long[1]:.2f}")
# assert long[0] > short[0]            # more epochs: more wrong labels fitted when included
# assert long[0] > long[1]             # wrong labels are memorized, right ones are not
# ```
# ````

# %% [markdown]
# ```{exercise} Interpret: where are the incorrectly learned labels in Fig 2?
# :label: ex-01-corner
#
# Fig 2 plots inclusion against exclusion. The chapter counts {term}`incorrectly learned labels <incorrectly learned
# label>` ({py:func}`labnoise.memorization.incorrectly_learned`, threshold 0.6). Which corner of Fig 2 holds them,
# and what is their memorization? Check on {term}`CBN` labels of digits, where wrong labels cluster.
# ```
#
# ````{solution} ex-01-corner
# :class: dropdown
#
# They sit in the top-right corner: predicted with their wrong label both when trained on (inclusion > 0.6) and when
# left out (exclusion > 0.6). Their memorization is therefore small (below 0.4 by construction, near 0 in practice):
# the network has *learned* these wrong labels from their similarly mislabelled neighbours rather than memorized
# them one by one, which is why clustered and human noise are hard.
#
# ```python
# seed = 0                       # try 1, 2: the claims below hold for every seed
# import numpy as np
# from labnoise import data, features
# ds = data.load_dataset("digits")                       # the smoke profile's data
# x, y = features.embed("digits", "train", "pixels", progress=False), ds.train_labels
# from labnoise import noise, memorization as mem
# from labnoise.tsne import tsne_map
# xy = tsne_map(x, seed=seed, cache=True)
# noisy = noise.cbn(map_2d=xy, labels=y, target_rate=0.35, seed=seed).noisy_labels   # clustered wrong labels
# held = mem.held_out_design(noisy, y, seed=seed)
# head = mem.HeadConfig(kind="random_features", hidden=1024, epochs=30, lr=0.003, batch_size=128)
# r = mem.estimate_memorization(x, noisy, held, m=8, seed=seed, head=head, progress=False, device="cpu")
# learned = mem.incorrectly_learned(r, noisy != y, threshold=0.6)
# print(f"{learned.size} of {(noisy != y).sum()} wrong labels are incorrectly learned; their memorization: "
#       f"{np.round(np.nanmean(r.memorization[learned]), 2)}")
# assert learned.size > 0
# assert np.all(r.inclusion[learned] > 0.6) and np.all(r.exclusion[learned] > 0.6)   # top-right of Fig 2
# assert np.all(r.memorization[learned] < 0.4)        # learned without being memorized
# ```
# ````
