"""File input/output: images, datasets, model files, slides. Heavy libraries load on first use."""

import lazy_loader as _lazy

# public names: __init__.pyi (editors and type checkers read it; nothing loads until used)
__getattr__, __dir__, __all__ = _lazy.attach_stub(__name__, __file__)
