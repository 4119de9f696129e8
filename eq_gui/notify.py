"""napari notifications from the docks, short enough that the reason stays visible.

Engine messages name files by their full path and then say what is wrong; a notification shows
one line, so a long path used to push the reason out of sight. Paths are cut to their last parts
(``…/masks/T19_mask.png``); the reason is kept whole.
"""

from __future__ import annotations

import logging
import os
import re

log = logging.getLogger(__name__)

KEEP_PARTS = 2  # path components kept at the end of a shortened path
_PATH = re.compile(r"(?:~|[A-Za-z]:)?(?:[\\/][^\s\\/'\",;:()\[\]]+){3,}[\\/]?")


def shorten_path(path: str, *, keep: int = KEEP_PARTS) -> str:
    """``/home/ada/data/kidney/masks/T19.png`` -> ``…/masks/T19.png`` (``keep`` last parts)."""
    parts = [p for p in re.split(r"[\\/]", str(path)) if p]
    if len(parts) <= keep + 1:
        return str(path)
    return "…/" + "/".join(parts[-keep:])


def shorten_paths(text: str, *, keep: int = KEEP_PARTS) -> str:
    """``text`` with every long file path shortened by :func:`shorten_path`."""
    home = os.path.expanduser("~")
    if home and home != "/":
        text = text.replace(home, "~")
    return _PATH.sub(lambda m: shorten_path(m.group(0), keep=keep), text)


def message(context: str, error) -> str:
    """``"EQ <context>: <reason>"`` with paths shortened; ``error`` is an exception or text."""
    text = str(error) or type(error).__name__
    return f"EQ {context}: {shorten_paths(text)}"


def show_error(context: str, error) -> str:
    """Show ``error`` as a napari error notification; returns the text shown."""
    from napari.utils.notifications import show_error as napari_error

    text = message(context, error)
    log.info("%s (full: %s)", text, error)
    napari_error(text)
    return text


def show_info(text: str) -> str:
    """A napari info notification (paths shortened); returns the text shown."""
    from napari.utils.notifications import show_info as napari_info

    text = shorten_paths(text)
    napari_info(text)
    return text
