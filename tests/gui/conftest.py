"""GUI test fixtures: napari's ``make_napari_viewer`` (its pytest plugin is registered by napari),
pytest-qt's ``qtbot``, tiny synthetic data, and worker processes stopped at the end."""

from __future__ import annotations

import os
import shutil

import pytest

os.environ.setdefault("QT_API", "pyside6")


def pytest_configure(config):
    """A leaking PySide6 (6.12.0 loses a reference to None per void Qt call) would kill a full
    GUI run at exit with "none_dealloc"; the guard is the safety net (see eq_gui.pyside_guard)."""
    from eq_gui.pyside_guard import guard

    guard()


def pytest_collection_modifyitems(config, items):
    """Without a display (no Xvfb), GUI tests skip with the reason instead of crashing Qt."""
    has_display = bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    offscreen = os.environ.get("QT_QPA_PLATFORM") == "offscreen"
    if has_display or offscreen or shutil.which("Xvfb"):
        return
    skip = pytest.mark.skip(reason="no display and no Xvfb: install xvfb (see `make sysdeps`)")
    for item in items:
        if "gui" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def _stop_worker_processes():
    yield
    from eq_gui import workers

    workers.shutdown()


def tiny_train_config(**changes):
    """A training config that finishes in seconds on a CPU: resnet18, 64-px crops, 1 epoch."""
    from eq_engine.config import TrainConfig

    base = dict(task="mitochondria", arch="resnet18", size=64, batch_size=4, epochs=1,
                crops_per_image=2, augment=False, device="cpu")
    base.update(changes)
    return TrainConfig(**base)


@pytest.fixture
def train_config():
    """The factory :func:`tiny_train_config` (keyword overrides)."""
    return tiny_train_config


@pytest.fixture(scope="session")
def em_dataset(tmp_path_factory):
    """Four 64-px EM-like slices with masks in the dataset layout."""
    from eq_engine.data.synthetic import write_em_dataset

    return write_em_dataset(tmp_path_factory.mktemp("em") / "em", n_slices=4, size=64, seed=0)


@pytest.fixture(scope="session")
def em_model(em_dataset, tmp_path_factory):
    """A 1-epoch model file trained in an EQ worker process (which then stays warm)."""
    from eq_gui import workers

    out = tmp_path_factory.mktemp("model") / "em.eqm"
    job = workers.submit("train", {"data": str(em_dataset), "config": tiny_train_config(),
                                   "out": str(out)})
    result = job.wait(timeout=300)
    assert result.model_path is not None and out.is_file()
    return out
