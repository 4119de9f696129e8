"""Evaluation: metrics (the single implementation), ``evaluate`` reports, threshold sweeps.

Public names load lazily: ``evaluate``, ``evaluate_arrays``, ``EvalReport``, ``threshold_sweep``,
``save_threshold``, and the metrics (``dice``, ``iou``, ``confusion``, ``match_objects``, ...)
from :mod:`eq_engine.evaluation.metrics`.
"""

import lazy_loader as _lazy

# public names: __init__.pyi (editors and type checkers read it; nothing loads until used)
__getattr__, __dir__, __all__ = _lazy.attach_stub(__name__, __file__)
