"""Data: normalisation, crops, augmentation, fastai DataLoaders, synthetic samples.

Public names load lazily (scipy and scikit-image load on first use): the sample generators
``make_em_stack``, ``make_histology_field``, ``write_em_dataset`` and
``write_histology_dataset`` from :mod:`eq_engine.data.synthetic`.
"""

from __future__ import annotations

from ..lazy import lazy_exports

_PUBLIC = dict.fromkeys(("make_em_stack", "make_histology_field", "write_em_dataset",
                         "write_histology_dataset"), "eq_engine.data.synthetic")

__all__ = sorted(_PUBLIC)
__getattr__, __dir__ = lazy_exports(__name__, _PUBLIC)
