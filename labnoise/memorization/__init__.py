"""Label memorization by subsampling (Feldman & Zhang 2020; Lim et al. 2025's held-out design).

For a training example ``i`` with given (possibly noisy) label ``y_i``::

    mem(i) = P[h(x_i) = y_i | i in train] - P[h(x_i) = y_i | i not in train]
           =        inclusion(i)          -        exclusion(i)

estimated by training ``m`` models, each on a random subset, and averaging per-example correctness (against
the *given* label) over the runs that included ``i`` and over the runs that excluded it. Lim et al. only
subsample a *held-out set* (all wrongly labelled examples plus as many correctly labelled ones); every run keeps
a random ``keep = 70%`` of the held-out set and always trains on everything else.

One module per concern:

=====================  ======================================================================================
:mod:`.design`         the held-out set, per-run seeds, subsets, batch orders and training weights
:mod:`.estimate`       :func:`memorization_from_runs`, :class:`MemorizationResult`, the chunked and
                       checkpointed :func:`subsample_estimate`, :func:`estimate_memorization` (heads) and
                       :func:`estimate_memorization_pixels`
:mod:`.heads`          :class:`HeadConfig`, :class:`HeadTrainer`: a chunk of heads trained at once on frozen
                       features, forward, backward and Adam written by hand as batched products
:mod:`.pixels`         :class:`PixelConfig`, :class:`PixelTrainer`: FastCifarNet runs on the device (GPUs)
:mod:`.bench`          :func:`sequential_reference` (the same heads one at a time with torch.nn + autograd)
                       and :func:`benchmark_heads`
:mod:`.stats`          :func:`label_set_stats`, :func:`confusion_pairs`
=====================  ======================================================================================

The case study's two label generators live with the other generators and return
:class:`labnoise.noise.NoiseResult`: :func:`labnoise.noise.matched_synthetic` (same transition matrix as a given
label set) and :func:`labnoise.noise.confusable_noise` (a stand-in for human noise); the PCA is
:func:`labnoise.linalg.pca`.

Every random choice of run ``r`` (its subset, its initialisation, its batch order) is derived from ``(seed, r)``
alone, so the estimate does not depend on how runs are grouped into chunks. Completed chunks are written
atomically to ``checkpoint_dir``; an interrupted estimate resumes where it stopped and gives byte-identical arrays.

    >>> design = held_out_design(labels, clean_labels, seed=0)                 # doctest: +SKIP
    >>> res = estimate_memorization(features, labels, design, m=200, seed=0)   # doctest: +SKIP
    >>> res.memorization[design]                                                # doctest: +SKIP

Speed (CPU): small tensors on a busy machine run much faster with ``torch.set_num_threads(1)`` than with
oversubscribed threads; ``matmul_dtype="bfloat16"`` is several times faster on CPUs with AVX512-BF16/AMX. See
``benchmarks/bench_memorization.py``.
"""
from .bench import benchmark_heads, sequential_reference
from .design import held_out_design, inclusion_weights, run_batch_orders, run_seed, subset_masks
from .estimate import (MemorizationResult, estimate_memorization, estimate_memorization_pixels, incorrectly_learned,
                       memorization_from_runs, subsample_estimate)
from .heads import HeadConfig, HeadTrainer
from .pixels import PixelConfig, PixelTrainer
from .stats import closest_to_medoid, confusion_pairs, label_set_stats, region_indices

__all__ = [
    "HeadConfig", "PixelConfig", "MemorizationResult", "HeadTrainer", "PixelTrainer",
    "held_out_design", "run_seed", "run_batch_orders", "subset_masks", "inclusion_weights", "memorization_from_runs",
    "subsample_estimate", "estimate_memorization", "estimate_memorization_pixels", "incorrectly_learned",
    "sequential_reference", "benchmark_heads", "label_set_stats", "confusion_pairs", "region_indices",
    "closest_to_medoid",
]
