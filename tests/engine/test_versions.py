"""library_versions: one record of the library versions, read from package metadata."""

import platform
import subprocess
import sys

import eq_engine
from eq_engine.versions import library_versions


def test_versions_name_python_eq_and_installed_libraries():
    versions = library_versions()
    assert versions["python"] == platform.python_version()
    assert versions["eq"] == eq_engine.__version__
    import numpy

    assert versions["numpy"] == numpy.__version__
    assert "no-such-library" not in versions


def test_versions_import_no_heavy_library():
    code = ("from eq_engine.versions import library_versions; library_versions(); import sys; "
            "print(','.join(m for m in ('torch', 'fastai', 'skimage') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
