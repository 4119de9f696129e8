"""Shared fixtures.

The torch stack is imported here, before pytest-qt or napari can create an OpenGL context:
with the CUDA torch wheel, loading triton after Mesa's llvmpipe made a GL context segfaults.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "xcb")

try:  # torch first, see module docstring
    import torch  # noqa: F401
    import torchvision.ops  # noqa: F401
except ImportError:  # engine-only environments without torch still run the pure-numpy tests
    pass

SHARED_DATA = Path(os.environ.get("EQ_SHARED_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data")).resolve()


def shared_dataset(name: str) -> Path:
    """Path of a real dataset in ../shared/data, or skip the test with the reason."""
    path = SHARED_DATA / name
    if not path.is_dir():
        pytest.skip(f"real dataset {name!r} not found at {path} (set EQ_SHARED_DATA)")
    return path


@pytest.fixture
def shared_data():
    return shared_dataset


@pytest.fixture(autouse=True)
def _runs_dir_in_tmp(monkeypatch, tmp_path_factory):
    """Run records go to a temporary folder, never into the user's data directory."""
    monkeypatch.setenv("EQ_RUNS_DIR", str(tmp_path_factory.mktemp("eq_runs")))


def pytest_collection_modifyitems(config, items):
    """`gpu` tests skip cleanly without a CUDA device."""
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except ImportError:
        has_cuda = False
    if has_cuda:
        return
    skip = pytest.mark.skip(reason="needs a CUDA device; none available")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
