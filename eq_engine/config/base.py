"""Shared behaviour of EQ's frozen, validated config dataclasses."""

from __future__ import annotations

import dataclasses
import typing
from typing import Any, TypeVar

from ..errors import ConfigError

C = TypeVar("C", bound="ConfigBase")


class ConfigBase:
    """Mixin for frozen dataclasses: ``to_dict``/``from_dict`` and validation helpers.

    Subclasses validate in ``__post_init__`` with :meth:`_check` and friends, so a bad value is
    rejected when the config is built, with a message that names the field and the fix.
    """

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if isinstance(value, ConfigBase):
                value = value.to_dict()
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls: type[C], data: dict[str, Any]) -> C:
        if not isinstance(data, dict):
            raise ConfigError(f"{cls.__name__}.from_dict expects a dict, got {type(data).__name__}")
        fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(data) - set(fields))
        if unknown:
            raise ConfigError(
                f"{cls.__name__}: unknown field(s) {unknown}; valid fields are {sorted(fields)}"
            )
        hints = typing.get_type_hints(cls)
        kwargs = {}
        for name, value in data.items():
            hint = hints.get(name)
            if isinstance(hint, type) and issubclass(hint, ConfigBase) and isinstance(value, dict):
                value = hint.from_dict(value)
            elif isinstance(value, list):
                value = tuple(value)
            kwargs[name] = value
        return cls(**kwargs)

    def replace(self: C, **changes: Any) -> C:
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]

    # -- validation helpers -------------------------------------------------------------
    def _check(self, ok: bool, field: str, message: str) -> None:
        if not ok:
            value = getattr(self, field)
            raise ConfigError(f"{type(self).__name__}.{field}={value!r}: {message}")

    def _check_choice(self, field: str, choices: tuple) -> None:
        self._check(getattr(self, field) in choices, field, f"must be one of {choices}")

    def _check_range(
        self, field: str, low: float | None = None, high: float | None = None, *,
        low_open: bool = False, high_open: bool = False,
    ) -> None:
        value = getattr(self, field)
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value == value
        if ok and low is not None:
            ok = value > low if low_open else value >= low
        if ok and high is not None:
            ok = value < high if high_open else value <= high
        lo = "" if low is None else ("(" if low_open else "[") + f"{low}"
        hi = "" if high is None else f"{high}" + (")" if high_open else "]")
        self._check(ok, field, f"must be a number in {lo or '(-inf'}, {hi or 'inf)'}")
