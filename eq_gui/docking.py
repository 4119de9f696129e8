"""Open, find and raise the EQ docks of a napari window, by their manifest names.

Docks are named as napari's Plugins menu names them ("Quantify (EQ studio)"), so the menu's check
marks follow the docks the launcher opened and the menu never opens a second copy. Dock classes
are looked up in the plugin manifest (``napari.yaml``) by display name, so this module imports
no dock: a dock may open another one (Train's "Load model in Predict") without importing it.
"""

from __future__ import annotations

import importlib
from functools import cache
from pathlib import Path

PLUGIN = "eq"
DOCKS = ("Data and Annotation", "Train", "Predict", "Evaluate", "Quantify")


@cache
def _manifest():
    """The EQ manifest: the registered one, else the file beside this module (source tree)."""
    from npe2 import PluginManager, PluginManifest

    try:
        return PluginManager.instance().get_manifest(PLUGIN)
    except KeyError:
        return PluginManifest.from_file(Path(__file__).with_name("napari.yaml"))


def plugin_display_name() -> str:
    return _manifest().display_name


def full_name(name: str) -> str:
    """The dock's title as napari's Plugins menu writes it: ``"<dock> (<plugin display>)"``."""
    from napari.plugins import menu_item_template

    return menu_item_template.format(plugin_display_name(), name)


def dock_class(name: str):
    """The widget class of EQ dock ``name`` (its manifest ``python_name``)."""
    manifest = _manifest()
    commands = {c.id: c.python_name for c in manifest.contributions.commands}
    for widget in manifest.contributions.widgets:
        if widget.display_name == name:
            module, _, attr = commands[widget.command].partition(":")
            return getattr(importlib.import_module(module), attr)
    raise KeyError(f"no EQ dock named {name!r}; known: {DOCKS}")


def show_dock(viewer, name: str, *, tabify: bool = True):
    """Open EQ dock ``name`` (or raise it if open) and return its widget."""
    from .resources import icon

    widget = viewer.window.dock_widgets.get(full_name(name))
    if widget is None:
        widget = dock_class(name)(viewer)
        dock = viewer.window.add_dock_widget(widget, name=full_name(name), area="right",
                                             tabify=tabify)
        dock.setWindowIcon(icon(name))  # shown on the dock's tab
    raise_dock(widget)
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
