"""The npe2 manifest validates, its commands import, and its samples and writer work."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import eq_gui

pytestmark = pytest.mark.gui
MANIFEST = Path(eq_gui.__file__).with_name("napari.yaml")


def test_manifest_validates_and_every_command_imports():
    from npe2 import PluginManifest

    manifest = PluginManifest.from_file(MANIFEST)
    manifest.validate_imports()  # raises if a python_name does not resolve
    widgets = {w.display_name for w in manifest.contributions.widgets}
    assert widgets == {"Data and Annotation", "Train", "Predict", "Evaluate", "Quantify"}
    assert {s.key for s in manifest.contributions.sample_data} == {"tissue", "em", "histology"}
    assert manifest.contributions.writers[0].layer_types == ["labels"]


def test_npe2_validate_cli_passes_for_the_installed_plugin():
    npe2 = Path(sys.executable).with_name("npe2")
    proc = subprocess.run([str(npe2), "validate", "eq"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0 and "valid" in proc.stdout, proc.stdout + proc.stderr


def test_importing_eq_gui_is_cheap():
    code = ("import sys, eq_gui; import eq_gui.workers; "
            "heavy = [m for m in ('torch', 'fastai', 'napari', 'qtpy', 'PySide6') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True).stdout.strip()
    assert out == "[]"


def test_samples_are_layer_data():
    from eq_gui.samples import em_sample, histology_sample

    (image, meta, kind), (mask, mask_meta, mask_kind) = em_sample()
    assert (kind, mask_kind) == ("image", "labels") and image.shape == mask.shape
    assert image.ndim == 3 and mask.any()
    (rgb, rgb_meta, _), (labels, labels_meta, _) = histology_sample()
    assert rgb.shape[-1] == 3 and rgb_meta["rgb"] and labels.shape == rgb.shape[:2]
    grades = labels_meta["metadata"]["grades"]
    assert set(grades) == set(np.unique(labels)) - {0}


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_writer_writes_masks_and_labels(tmp_path, suffix):
    from eq_engine.io.images import read_mask
    from eq_gui.writer import write_labels

    mask = np.zeros((20, 30), np.int32)
    mask[2:6, 3:9] = 1
    path = tmp_path / f"mask{suffix}"
    assert write_labels(str(path), mask, {}) == [str(path)]
    np.testing.assert_array_equal(read_mask(path), mask > 0)
    labels = mask.copy()
    labels[10:12, 10:12] = 7
    write_labels(str(path), labels, {})
    np.testing.assert_array_equal(read_mask(path, binary=False), labels)
