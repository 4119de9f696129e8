"""Endotheliosis quantification: per-glomerulus features, the grade model, tables, pipeline.

Names resolve lazily (scikit-image and scipy load on first use)::

    table = measure_glomeruli(image, labels, QuantConfig(), name="T19_Image0")
    fit = fit_grade_model(table, "scores.csv")          # fit.cv.summary(), fit.model
    graded = grade(table, fit.model)                    # grade_expected, grade_class, grade_sd
    result = quantify("masks/", "images/", out="quant/", grades="scores.csv")
"""

import lazy_loader as _lazy

# public names: __init__.pyi (editors and type checkers read it; nothing loads until used)
__getattr__, __dir__, __all__ = _lazy.attach_stub(__name__, __file__)
