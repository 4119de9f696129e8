"""The engine's import graph has no cycles (function-level imports included)."""

import graphlib

import grimp


def test_eq_engine_has_no_import_cycles():
    graph = grimp.build_graph("eq_engine")
    edges = {m: graph.find_modules_directly_imported_by(m) for m in graph.modules}
    try:
        graphlib.TopologicalSorter(edges).prepare()
    except graphlib.CycleError as exc:
        raise AssertionError(f"import cycle in eq_engine: {' -> '.join(exc.args[1])}") from None


def test_the_model_file_format_does_not_build_models():
    graph = grimp.build_graph("eq_engine")
    assert not graph.chain_exists(importer="eq_engine.io", imported="eq_engine.models",
                                  as_packages=True)
    assert not graph.chain_exists(importer="eq_engine.models", imported="eq_engine.training",
                                  as_packages=True)
