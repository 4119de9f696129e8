"""Where a training run writes: checkpoints to a temporary file beside ``out``, ``out`` only at
the end.

A run that is killed, crashes or turns out worse never destroys the model already at ``out``:
while it runs, the best epoch is checkpointed to ``.<out name>.<pid>.training<suffix>`` beside
it (metadata ``complete: false``), and ``out`` is replaced once, when the run finishes or is
cancelled (the best epoch's weights; ``complete`` says which). The temporary file is removed on
every exit Python sees; one left by a killed process is removed by the next run into the folder
(see :func:`eq_engine.io.atomic.remove_stale_temporaries`).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path

from ..errors import ConfigError
from ..io.atomic import remove_stale_temporaries

log = logging.getLogger(__name__)


def temporary_checkpoint(out: Path) -> Path:
    """The checkpoint file this process uses while it trains towards ``out``."""
    return out.with_name(f".{out.name}.{os.getpid()}.training{out.suffix}")


def check_output(out: str | os.PathLike | None, *, overwrite: bool) -> Path | None:
    """``out`` as a Path, checked before any work: a model file name, not a folder, and not an
    existing file unless ``overwrite``."""
    if out is None:
        return None
    from ..io.models import SUFFIXES

    out = Path(out)
    if out.is_dir():
        raise ConfigError(f"out={str(out)!r} is a folder; give a model file path such as "
                          f"{out / 'model.eqm'}")
    if out.suffix.lower() not in SUFFIXES:
        raise ConfigError(f"out={str(out)!r}: a model file must end with one of {SUFFIXES}")
    if out.exists() and not overwrite:
        raise ConfigError(f"{out} exists; training would replace that model. Choose another "
                          "output file, or allow it (eq train --overwrite, overwrite=True); "
                          "the old model stays until the new run finishes or is cancelled")
    return out


@contextlib.contextmanager
def training_outputs(outs: list[Path | None], *, overwrite: bool) -> Iterator[list[Path | None]]:
    """Check every ``out``, clean stale temporaries from their folders, and yield each one's
    temporary checkpoint path (None where ``out`` is None); remove those on exit."""
    checked = [check_output(out, overwrite=overwrite) for out in outs]
    for folder in {out.parent for out in checked if out is not None}:
        remove_stale_temporaries(folder)
    temps = [temporary_checkpoint(out) if out is not None else None for out in checked]
    try:
        yield temps
    finally:
        for temp in temps:
            if temp is not None and temp.exists():
                temp.unlink()
