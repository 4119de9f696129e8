"""Training outputs: checkpoints beside --out, --out replaced once at the end, nothing left over.

Tiny runs as in test_train.py: resnet18 on 32-px crops of 64-px synthetic EM slices.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from eq_engine.config import TrainConfig
from eq_engine.errors import ConfigError
from eq_engine.events import CancelToken, CheckpointSaved
from eq_engine.io.atomic import atomic_path, remove_stale_temporaries, stale_temporaries
from eq_engine.io.models import read_metadata
from eq_engine.training import train
from eq_engine.training.output import check_output, temporary_checkpoint, training_outputs

TINY = TrainConfig(task="mitochondria", arch="resnet18", size=32, batch_size=2, epochs=2,
                   crops_per_image=1, seed=0)
OLD = b"the previous model, which must survive"


@pytest.fixture(scope="module")
def em_root(tmp_path_factory):
    from eq_engine.data.synthetic import write_em_dataset

    return write_em_dataset(tmp_path_factory.mktemp("em") / "em", n_slices=5, size=64, seed=0)


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_check_output_refuses_existing_file_folder_and_wrong_suffix(tmp_path):
    existing = tmp_path / "m.eqm"
    existing.write_bytes(OLD)
    with pytest.raises(ConfigError, match=r"m\.eqm exists.*--overwrite"):
        check_output(existing, overwrite=False)
    assert check_output(existing, overwrite=True) == existing
    with pytest.raises(ConfigError, match="is a folder"):
        check_output(tmp_path, overwrite=True)
    with pytest.raises(ConfigError, match="must end with"):
        check_output(tmp_path / "m.pth", overwrite=False)
    assert check_output(None, overwrite=False) is None


def test_temporary_checkpoint_is_removed_on_error(tmp_path):
    out = tmp_path / "m.eqm"
    with pytest.raises(RuntimeError), training_outputs([out], overwrite=False) as (temp,):
        assert temp == temporary_checkpoint(out) and temp.parent == tmp_path
        temp.write_bytes(b"half a checkpoint")
        raise RuntimeError("crash")
    assert list(tmp_path.iterdir()) == []


def test_stale_temporaries_of_dead_processes_are_removed_live_ones_kept(tmp_path):
    dead = _dead_pid()
    stale_file = tmp_path / f".m.eqm.{dead}.training.eqm"
    stale_file.write_bytes(b"checkpoint of a killed run")
    stale_dir = tmp_path / f".m.eqm.{dead}.a1b2c3d4.part"
    stale_dir.mkdir()
    (stale_dir / ".tmpXYZ").write_bytes(b"safetensors' own temporary")
    mine = tmp_path / f".m.eqm.{__import__('os').getpid()}.training.eqm"
    mine.write_bytes(b"this process is alive")
    other = tmp_path / ".hidden.txt"
    other.write_text("not ours")
    assert stale_temporaries(tmp_path) == sorted([stale_dir, stale_file])
    assert remove_stale_temporaries(tmp_path) == sorted([stale_dir, stale_file])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([mine.name, other.name])


def test_killed_atomic_write_leaves_only_a_removable_folder(tmp_path):
    code = ("import os, sys; from eq_engine.io.atomic import atomic_path\n"
            f"with atomic_path({str(tmp_path / 'm.eqm')!r}) as tmp:\n"
            "    tmp.write_bytes(b'half'); (tmp.parent / '.tmp123').write_bytes(b'lib temp')\n"
            "    os._exit(9)\n")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 9
    left = list(tmp_path.iterdir())
    assert len(left) == 1 and left[0].is_dir() and left[0].name.endswith(".part")
    assert remove_stale_temporaries(tmp_path) == left and list(tmp_path.iterdir()) == []
    with atomic_path(tmp_path / "ok.txt") as tmp:
        tmp.write_text("done")
    assert [p.name for p in tmp_path.iterdir()] == ["ok.txt"]


def test_existing_out_is_refused_before_any_work(em_root, tmp_path):
    out = tmp_path / "m.eqm"
    out.write_bytes(OLD)
    with pytest.raises(ConfigError, match="exists"):
        train(tmp_path / "no such dataset", TINY, out=out)
    assert out.read_bytes() == OLD


def test_checkpoints_go_beside_out_and_out_is_replaced_once_at_the_end(em_root, tmp_path):
    out = tmp_path / "m.eqm"
    out.write_bytes(OLD)
    token, seen = CancelToken(), []

    def on_event(event):
        if isinstance(event, CheckpointSaved):
            seen.append((event.path, out.read_bytes() == OLD,
                         read_metadata(event.path)["complete"]))
            token.cancel()  # cancel after the first checkpoint: the best so far is kept

    result = train(em_root, TINY, out=out, overwrite=True, on_event=on_event, cancel=token)
    assert seen == [(str(temporary_checkpoint(out)), True, False)]
    meta = read_metadata(out)
    assert result.cancelled and result.model_path == out
    assert meta["cancelled"] is True and meta["complete"] is False
    assert [p.name for p in tmp_path.iterdir()] == ["m.eqm"]


def test_a_run_that_fails_leaves_out_untouched_and_no_temporaries(em_root, tmp_path,
                                                                   monkeypatch):
    from eq_engine.training import trainer

    out = tmp_path / "m.eqm"
    out.write_bytes(OLD)
    saved = []

    def crash(session):  # the run dies after its checkpoints, before writing out
        saved.append(session.checkpoint.exists())
        raise RuntimeError("disk full, say")

    monkeypatch.setattr(trainer, "finish", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        train(em_root, TINY, out=out, overwrite=True)
    assert saved == [True]
    assert out.read_bytes() == OLD
    assert [p.name for p in tmp_path.iterdir()] == ["m.eqm"]


def test_a_finished_run_is_marked_complete(em_root, tmp_path):
    out = tmp_path / "m.eqm"
    result = train(em_root, TINY.replace(epochs=1), out=out)
    meta = read_metadata(out)
    assert not result.cancelled and meta["complete"] is True and meta["cancelled"] is False
    assert [p.name for p in tmp_path.iterdir()] == ["m.eqm"]


def test_training_refuses_a_split_without_foreground(tmp_path):
    import numpy as np

    from eq_engine.errors import DataError

    image = np.random.default_rng(0).integers(0, 255, (64, 64), dtype=np.uint8)
    fg = np.zeros((64, 64), np.uint8)
    fg[10:30, 10:30] = 1
    data = [(f"s{i}", image, fg if i < 4 else np.zeros_like(fg)) for i in range(5)]
    config = TINY.replace(valid_pattern="^s4$")
    with pytest.raises(DataError, match=r"validation split has no foreground pixel.*s4"):
        train(data, config, out=tmp_path / "m.eqm")
    data = [(f"s{i}", image, np.zeros_like(fg) if i < 4 else fg) for i in range(5)]
    with pytest.raises(DataError, match=r"training split has no foreground pixel.*s0, s1"):
        train(data, config, out=tmp_path / "m.eqm")
    assert list(tmp_path.iterdir()) == []
