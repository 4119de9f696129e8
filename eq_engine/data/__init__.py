"""Data: normalisation, crops, augmentation, fastai DataLoaders, synthetic samples.

Public names load lazily (scipy and scikit-image load on first use): the sample generators
``make_em_stack``, ``make_histology_field``, ``write_em_dataset`` and
``write_histology_dataset`` from :mod:`eq_engine.data.synthetic`.
"""

import lazy_loader as _lazy

# public names: __init__.pyi (editors and type checkers read it; nothing loads until used)
__getattr__, __dir__, __all__ = _lazy.attach_stub(__name__, __file__)
