"""Chapter-level experiment drivers: they combine the library's algorithms into the runs a chapter reports.

* :mod:`labnoise.experiments.label_sets` -- the PMD/CBN label sets of chapters 03 and 04 (one builder).
* :mod:`labnoise.experiments.tables` -- the papers' reference tables, the CBN-vs-PMD verdicts and the chapters'
  generated readings.
* :mod:`labnoise.experiments.snls` -- SNLS targets on two hosts (chapter 04).
* :mod:`labnoise.experiments.lend` -- chapter 05's training grid (through :mod:`labnoise.grid`'s cache), its
  dilution-rule and T analyses.
* :mod:`labnoise.experiments.dynacor` -- chapter 06's settings, detector options, paper tables and readings.
* :mod:`labnoise.experiments.common` -- what every chapter does first (:func:`~labnoise.experiments.common.start`:
  settings, results, threads) and Markdown tables.
* :mod:`labnoise.experiments.data_encoders` (00), :mod:`~labnoise.experiments.memorization` (01),
  :mod:`~labnoise.experiments.cbn` (02), :mod:`~labnoise.experiments.table1` (03),
  :mod:`~labnoise.experiments.beyond` (07) -- each chapter's loops and plumbing, one call per cell.

Algorithms live in :mod:`labnoise.methods`, :mod:`labnoise.noise` and :mod:`labnoise.detect`; figures in
:mod:`labnoise.viz`. Nothing here is imported by the algorithms (no cycles: ``tests/test_imports.py``).
"""
