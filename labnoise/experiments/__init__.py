"""Chapter-level experiment drivers: they combine the library's algorithms into the runs a chapter reports.

* :mod:`labnoise.experiments.snls` -- the CBN/PMD label sets of chapters 03-04, SNLS targets on two hosts.
* :mod:`labnoise.experiments.beyond` -- chapter 07: detectors per noise kind, encoders under CBN/SNLS, CROWDLAB,
  the generated decision guide.

Algorithms live in :mod:`labnoise.methods`, :mod:`labnoise.noise` and :mod:`labnoise.detect`; figures in the
``viz`` modules. Nothing here is imported by the algorithms (no cycles: ``tests/test_imports.py``).
"""
