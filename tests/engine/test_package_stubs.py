"""Package public names come from ``__init__.pyi`` stubs (lazy_loader): each one resolves."""

import ast
import importlib
from pathlib import Path

import pytest

import eq_engine

STUBS = sorted(Path(eq_engine.__file__).parent.rglob("__init__.pyi"))


def _package(stub: Path) -> str:
    root = Path(eq_engine.__file__).parent.parent
    return ".".join(stub.parent.relative_to(root).parts)


def _stub_names(stub: Path) -> list[tuple[str, str]]:
    tree = ast.parse(stub.read_text())
    return [(node.module, alias.name) for node in tree.body if isinstance(node, ast.ImportFrom)
            for alias in node.names]


def test_every_lazy_package_has_a_stub():
    assert {_package(s) for s in STUBS} >= {
        "eq_engine", "eq_engine.models", "eq_engine.training", "eq_engine.inference",
        "eq_engine.evaluation", "eq_engine.quantification", "eq_engine.demo"}


@pytest.mark.parametrize("stub", STUBS, ids=_package)
def test_stub_names_resolve_to_their_modules(stub):
    package = importlib.import_module(_package(stub))
    names = _stub_names(stub)
    assert sorted(package.__all__) == sorted(name for _, name in names)
    assert set(package.__all__) <= set(dir(package))
    for module, name in names:
        defining = importlib.import_module(f"{package.__name__}.{module}")
        assert getattr(package, name) is getattr(defining, name)
    with pytest.raises(AttributeError):
        package.no_such_name  # noqa: B018
