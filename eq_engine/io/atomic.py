"""Atomic file writing: output appears complete under its final name, or not at all.

Writers get a path inside a private temporary folder beside the target,
``.<name>.<pid>.<random>.part/``, so that whatever a library writes there (safetensors, for one,
writes its own ``.tmpXXXX`` file and renames it) goes away with the folder. Python removes the
folder on every exit path it sees; a process killed outright leaves it behind, and
:func:`remove_stale_temporaries` (called by the next run into that folder) removes it because
the process id in its name is no longer alive.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)

# .<name>.<pid>.<mkdtemp random>.part (atomic writes) and .<name>.<pid>.training<suffix>
# (training checkpoints, see eq_engine.training.output): the pid says who owns them.
_TEMPORARY = re.compile(r"^\..+\.(?P<pid>\d+)\.(?:[A-Za-z0-9_]+\.part|training(?:\.\w+)?)$")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` when the block succeeds.

    On error the temporary folder is removed and ``path`` is untouched. With ``overwrite=False``
    an existing ``path`` raises FileExistsError before anything is written. The writer may make
    a file or a folder (a Zarr store); an existing folder at ``path`` is replaced by the new one.
    """
    target = Path(path)
    if not overwrite and target.exists():
        raise FileExistsError(f"{target} exists; refusing to overwrite it")
    target.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f".{target.name}.{os.getpid()}.", suffix=".part",
                                   dir=target.parent))
    tmp_path = folder / target.name  # same name and suffix: writers that go by suffix still work
    try:
        yield tmp_path
        # mkstemp-style files are 0600; give the result the permissions open() would have
        os.chmod(tmp_path, (0o777 if tmp_path.is_dir() else 0o666) & ~_umask())
        if tmp_path.is_dir() and target.is_dir():
            shutil.rmtree(target)  # os.replace cannot replace a non-empty folder
        os.replace(tmp_path, target)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | os.PathLike, text: str, *, overwrite: bool = True) -> Path:
    with atomic_path(path, overwrite=overwrite) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def check_output_folder(path: str | os.PathLike, *, option: str = "--out") -> Path:
    """``path`` as a Path; DataError when it exists but is not a folder (checked before work)."""
    from ..errors import DataError

    path = Path(path)
    if path.exists() and not path.is_dir():
        raise DataError(f"{option} {path} is a file; give a folder for the outputs")
    return path


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def stale_temporaries(folder: str | os.PathLike) -> list[Path]:
    """EQ temporary files and folders in ``folder`` whose writing process no longer runs."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = []
    for entry in sorted(folder.iterdir()):
        match = _TEMPORARY.match(entry.name)
        if match and not _alive(int(match["pid"])):
            found.append(entry)
    return found


def remove_stale_temporaries(folder: str | os.PathLike) -> list[Path]:
    """Remove :func:`stale_temporaries` (left by killed runs), logging each; returns them."""
    removed = []
    for entry in stale_temporaries(folder):
        try:
            shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
        except OSError as exc:
            log.warning("could not remove %s, left by a run that was killed: %s", entry, exc)
            continue
        log.warning("removed %s, left by a run that was killed", entry)
        removed.append(entry)
    return removed
