"""lazy_exports: the module-level __getattr__/__dir__ every package __init__ uses."""

import pytest

import eq_engine
import eq_engine.quantification
from eq_engine.lazy import lazy_exports


def test_resolves_absolute_relative_and_bare_submodule_names():
    from eq_engine.io import atomic, datasets, images

    getattr_, _ = lazy_exports("eq_engine.io", {
        "find_pairs": "eq_engine.io.datasets", "atomic_path": ".atomic", "read_mask": "images"})
    assert getattr_("find_pairs") is datasets.find_pairs
    assert getattr_("atomic_path") is atomic.atomic_path
    assert getattr_("read_mask") is images.read_mask


def test_unknown_name_raises_like_a_plain_module():
    getattr_, _ = lazy_exports("eq_engine.io", {})
    with pytest.raises(AttributeError, match=r"^module 'eq_engine.io' has no attribute 'nope'$"):
        getattr_("nope")
    with pytest.raises(AttributeError, match="module 'eq_engine.quantification' has no attribute"):
        eq_engine.quantification.nope  # noqa: B018


def test_dir_lists_module_globals_and_public_names():
    names = dir(eq_engine)
    assert names == sorted(names)
    assert {"train", "predict", "read_image", "__version__"} <= set(names)
    assert eq_engine.measure_glomeruli is eq_engine.quantification.measure_glomeruli
