"""Tiled prediction, post-processing and batch prediction.

Public names load lazily (``predict`` imports torch on first use, not on import):
``predict_tiled``, ``predict``, ``Prediction``, ``postprocess``, ``predict_large``,
``predict_batch``, ``BatchResult``.
"""

import lazy_loader as _lazy

# public names: __init__.pyi (editors and type checkers read it; nothing loads until used)
__getattr__, __dir__, __all__ = _lazy.attach_stub(__name__, __file__)
