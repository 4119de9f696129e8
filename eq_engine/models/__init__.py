"""Models: the U-Net builder, encoder access and loading a runnable model from a model file.

``build_unet``, ``encoder`` and ``load_model`` load lazily, so importing this package does not
import torch or fastai. Encoder transfer training lives in :mod:`eq_engine.training.transfer`.
"""

import lazy_loader as _lazy

# public names: __init__.pyi (editors and type checkers read it; nothing loads until used)
__getattr__, __dir__, __all__ = _lazy.attach_stub(__name__, __file__)
