"""Training: ``train(data, config, *, out=None, resume_from=None, on_event=None, cancel=None)``.

Public names load lazily so that importing this package does not import torch or fastai.
The implementation lives in ``trainer.py`` (not ``train.py``): a submodule named like the
function would replace ``eq_engine.training.train`` with the module once imported.
"""

import lazy_loader as _lazy

# public names: __init__.pyi (editors and type checkers read it; nothing loads until used)
__getattr__, __dir__, __all__ = _lazy.attach_stub(__name__, __file__)
