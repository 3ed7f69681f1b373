"""Label-noise generators. Every generator is seeded, validates its inputs and returns a
:class:`NoiseResult` (noisy and clean labels, realised rate, per-class rates, row-normalised transition matrix,
parameters, seed, kind).

=============================  ===========================================================================
:func:`symmetric`              uniform over the other classes, exact count
:func:`pairflip`               class i -> i + 1 (mod C), exact count
:func:`asymmetric`             CIFAR-10 pairs (truck -> automobile, bird -> airplane, deer -> horse, cat <-> dog)
:func:`transition`             per-example draw from ``T[y]``; :func:`transition_from` estimates ``T``
:func:`instance_dependent`     Xia et al. 2020 (per-example flip rate, random per-class projection)
:func:`pmd`                    PLC's PMD noise (types I/II/III), factor solved for a target rate;
                               :func:`pmd_probs` trains the clean-label MLP head that supplies ``eta(x)``
:func:`cbn`                    Cluster-Based Noise (Algorithm 1), ``(n, r)`` calibrated for a target rate
:func:`human`                  CIFAR-10N / CIFAR-100N label sets
:func:`matched_synthetic`      per-example draw from the transition matrix of a given label set (chapter 01)
:func:`confusable_noise`       stand-in for human noise: flips to the class a weak classifier confuses with
=============================  ===========================================================================
"""
from .base import NoiseResult, TargetCounts
from .cbn import cbn, cbn_loop, cbn_rate_grid
from .human import human
from .matched import confusable_noise, matched_synthetic
from .pmd import PMD_KINDS, pmd, pmd_noise_function, pmd_probs
from .synthetic import (CIFAR10_ASYMMETRIC, asymmetric, clustered_features, instance_dependent, pairflip, symmetric,
                        transition, transition_from, two_class_blob)

__all__ = ["NoiseResult", "TargetCounts", "symmetric", "pairflip", "asymmetric", "transition", "transition_from",
           "instance_dependent", "pmd", "pmd_probs", "pmd_noise_function", "PMD_KINDS", "cbn", "cbn_loop",
           "cbn_rate_grid", "human", "matched_synthetic", "confusable_noise", "CIFAR10_ASYMMETRIC", "two_class_blob",
           "clustered_features"]
