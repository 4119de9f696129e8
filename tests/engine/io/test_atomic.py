import os
import stat

import pytest

from eq_engine.io.atomic import atomic_path, atomic_write_text


def test_failed_write_leaves_nothing(tmp_path):
    target = tmp_path / "out.txt"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash mid-write")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_refuses_silent_overwrite(tmp_path):
    target = atomic_write_text(tmp_path / "a.txt", "one")
    with pytest.raises(FileExistsError):
        atomic_write_text(target, "two", overwrite=False)
    assert target.read_text() == "one"


def test_result_has_umask_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        path = atomic_write_text(tmp_path / "p.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_a_folder_written_atomically_replaces_the_old_folder(tmp_path):
    target = tmp_path / "labels.zarr"
    (target / "old").mkdir(parents=True)
    with atomic_path(target) as tmp:
        (tmp / "0").mkdir(parents=True)
        (tmp / "0" / "chunk").write_bytes(b"new")
        assert target.is_dir() and (target / "old").exists()  # untouched until the block ends
    assert (target / "0" / "chunk").read_bytes() == b"new" and not (target / "old").exists()
    assert os.access(target / "0", os.X_OK)  # a usable folder, not 0o666
    assert [p.name for p in tmp_path.iterdir()] == ["labels.zarr"]
