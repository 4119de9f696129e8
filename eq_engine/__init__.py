"""EQ engine: headless microscopy segmentation, transfer learning and endotheliosis quantification.

Importing this package is cheap: torch, fastai and scikit-image load only when a public function
is first used, e.g. ``eq_engine.train``. Every long call has the tail
``fn(data..., config, *, on_event=None, cancel=None) -> Result``.

Layers (``lint-imports`` enforces them; ``tests/engine/test_import_graph.py`` forbids cycles).
A module imports only from layers below its own; ``|`` separates independent neighbours::

    cli                 argument parsing -> config -> public call
    demo                the whole chain and its report
    quantification      measurements, grade model
    training            train(), transfer (uses evaluation's metrics every epoch)
    evaluation          metrics, evaluate() reports (runs inference on a model)
    inference           tiling, predict(), streaming, batch; thresholding (binarize)
    models              building U-Nets, loading a runnable model (models/loading.py)
    data                normalisation, crops, augmentation, loaders, synthetic data
    run_compare
    runs                run records: recorded_run()
    io                  files: images, datasets, the model file format, ModelInfo
    config | device | versions | jsonsafe
    events
    errors
"""

import lazy_loader as _lazy

__version__ = "0.1.0"

# public names: __init__.pyi (editors and type checkers read it; nothing loads until used)
__getattr__, __dir__, __all__ = _lazy.attach_stub(__name__, __file__)
