"""Engine exceptions. Every error the engine raises on purpose is an :class:`EngineError`."""

from __future__ import annotations


class EngineError(Exception):
    """Base class: an error the user can act on; the message names the file or value."""


class DataError(EngineError):
    """Unreadable, malformed or inconsistent input data (images, masks, datasets, tables)."""


class ConfigError(EngineError, ValueError):
    """A configuration value is invalid; the message names the field and the fix."""


class ModelError(EngineError):
    """A model file is unsafe, unreadable, or incompatible with the requested use."""


class Cancelled(EngineError):
    """The caller's CancelToken was set while a long call was running."""
