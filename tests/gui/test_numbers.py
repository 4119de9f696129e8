"""Numbers are rounded to what they mean."""

from __future__ import annotations

import math

import numpy as np

from eq_gui.numbers import format_metrics, format_number


def test_scores_counts_rates_and_missing_values():
    assert format_number(0.3908161131401948, "dice") == "0.391"
    assert format_number(0.0001, "lr") == "1.0e-04"
    assert format_number(1234.0, "area") == "1234"
    assert format_number(np.float32(103.6), "centroid_y") == "104"
    assert format_number(12.345, "seconds") == "12.3"
    assert format_number(math.nan, "iou") == "n/a"
    assert format_number(None) == "" and format_number(True) == "yes"
    assert format_number(7, "epoch") == "7" and format_number("T19", "image") == "T19"


def test_metrics_line():
    assert format_metrics({"dice": 0.91234, "epoch": 3, "lr": 3e-4}) == (
        "dice 0.912, epoch 3, lr 3.0e-04")
    assert format_metrics(None) == "n/a"
