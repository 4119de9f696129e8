"""Put the EQ docks into a napari window (tabbed), and find them again."""

from __future__ import annotations

DOCKS = ("Data and Annotation", "Train", "Predict", "Evaluate", "Quantify")


def _dock_class(name: str):
    from .data_dock import DataDock
    from .evaluate_dock import EvaluateDock
    from .predict_dock import PredictDock
    from .quantify_dock import QuantifyDock
    from .train_dock import TrainDock

    return {"Data and Annotation": DataDock, "Train": TrainDock, "Predict": PredictDock,
            "Evaluate": EvaluateDock, "Quantify": QuantifyDock}[name]


def show_dock(viewer, name: str, *, tabify: bool = True):
    """Open EQ dock ``name`` (or raise it if open) and return its widget.

    Goes through the plugin manifest so the Plugins menu knows the dock; without an installed
    manifest (a bare source checkout) the widget is docked directly.
    """
    existing = find_dock(viewer, _dock_class(name))
    if existing is not None:
        return existing
    try:
        _, widget = viewer.window.add_plugin_dock_widget("eq", name, tabify=tabify)
    except (KeyError, ValueError, LookupError):  # plugin not registered in this environment
        widget = _dock_class(name)(viewer)
        viewer.window.add_dock_widget(widget, name=name, area="right", tabify=tabify)
    return widget


def add_all_docks(viewer) -> dict:
    """All EQ docks, tabbed together on the right; the first one is raised."""
    docks = {name: show_dock(viewer, name, tabify=i > 0) for i, name in enumerate(DOCKS)}
    raise_dock(docks[DOCKS[0]])
    return docks


def find_dock(viewer, cls):
    """The docked widget of type ``cls`` in ``viewer``, or None."""
    for widget in viewer.window.dock_widgets.values():
        if isinstance(widget, cls):
            return widget
    return None


def raise_dock(widget) -> None:
    """Bring the tab holding ``widget`` to the front."""
    from qtpy.QtWidgets import QDockWidget

    dock = widget
    while dock is not None and not isinstance(dock, QDockWidget):
        dock = dock.parentWidget()
    if dock is not None:
        dock.show()
        dock.raise_()
