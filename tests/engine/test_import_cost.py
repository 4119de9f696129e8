"""`import eq_engine` / `import eq_gui` stay cheap: napari imports plugins at start-up."""

import subprocess
import sys

import pytest

HEAVY = ("torch", "fastai", "torchvision", "skimage", "napari", "PySide6", "distributed")


@pytest.mark.parametrize(
    "statement",
    [
        "import eq_engine",
        "import eq_gui",
        "import eq_engine.config, eq_engine.events, eq_engine.errors, eq_engine.device",
        "import eq_engine.io, eq_engine.data, eq_engine.models, eq_engine.training",
        "import eq_engine.inference, eq_engine.evaluation, eq_engine.quantification",
        "import eq_engine.cli; eq_engine.cli.build_parser()",
    ],
)
def test_import_does_not_load_heavy_libraries(statement):
    code = f"{statement}\nimport sys\nprint(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"{statement!r} imported: {out.stdout.strip()}"
