"""Fault test: kill -9 `eq train` at random moments and check that no model is lost.

A tiny synthetic EM dataset (4 slices of 64 px) and a previous model at ``--out`` (a valid EQ
file). One uninterrupted run (``--overwrite``) measures how long a run takes; then ``--kills``
runs are killed with SIGKILL at a uniformly random moment of that duration (import, data
preparation, an epoch, a checkpoint write, the final write). After every kill:

- ``--out`` holds the previous model byte for byte, or a complete new one (its metadata says
  ``complete: true`` and every tensor byte its header promises is there);
- anything else beside it is an EQ temporary of a killed run (``.<name>.<pid>.*``), which the
  next run into the folder removes: no foreign ``.tmpXXXX`` or half-written file.

A final uninterrupted run must leave ``--out`` alone in the folder. With ``--runs-dir`` the
check also reads the run records of the killed runs (``eq runs list``).

    .venv/bin/python bench/kill_train.py --kills 10 --seed 0
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TRAIN = ["--epochs", "2", "--size", "32", "--batch-size", "2", "--crops-per-image", "2",
         "--device", "cpu", "--overwrite"]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _eq() -> list[str]:
    return [sys.executable, "-c", "import sys; from eq_engine.cli import main; sys.exit(main())"]


def _train(data: Path, out: Path, env: dict) -> subprocess.Popen:
    return subprocess.Popen([*_eq(), "train", "mito", str(data), "--out", str(out), *TRAIN],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _check_out(out: Path, old_sha: str) -> str:
    """"old" or "new"; raises AssertionError when --out is neither."""
    from eq_engine.io.models import read_metadata

    if _sha(out) == old_sha:
        return "old"
    meta = read_metadata(out)  # refuses truncated files (header vs size)
    assert meta.get("complete") is True, f"{out} is an incomplete model: {meta.get('complete')}"
    return "new"


def _leftovers(folder: Path, out: Path) -> list[str]:
    from eq_engine.io.atomic import _TEMPORARY

    others = [p.name for p in folder.iterdir() if p != out]
    foreign = [n for n in others if not _TEMPORARY.match(n)]
    assert not foreign, f"files that are not EQ temporaries beside {out}: {foreign}"
    return others


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", default=None, help="work folder (default: a temporary one)")
    args = parser.parse_args()
    rng = random.Random(args.seed)

    from eq_engine.data.synthetic import write_em_dataset
    from eq_engine.io.models import save_model
    from eq_engine.models.unet import build_unet

    work = Path(args.work or tempfile.mkdtemp(prefix="eq_kill_"))
    data = write_em_dataset(work / "em", n_slices=4, size=64, seed=0)
    models = work / "models"
    out = models / "mito.eqm"
    meta = {"task": "mitochondria", "arch": "resnet18", "in_channels": 1, "n_classes": 2,
            "normalization": {}, "tile_size": 32, "scale": 1.0, "threshold": 0.5}
    save_model(out, build_unet("resnet18", in_channels=1), meta)
    old_sha = _sha(out)
    env = {**os.environ, "EQ_RUNS_DIR": str(work / "runs"), "OMP_NUM_THREADS": "1"}

    t0 = time.perf_counter()
    first = _train(data, work / "models" / "first.eqm", env)
    _, err = first.communicate()
    duration = time.perf_counter() - t0
    assert first.returncode == 0, err.decode()
    (models / "first.eqm").unlink()
    print(f"uninterrupted run: {duration:.1f} s; killing {args.kills} runs at random moments")

    results = []
    for k in range(args.kills):
        delay = rng.uniform(0.0, duration)
        proc = _train(data, out, env)
        time.sleep(delay)
        finished = proc.poll() is not None
        if not finished:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
        state = _check_out(out, old_sha)
        left = _leftovers(models, out)
        results.append({"kill": k + 1, "at_s": round(delay, 1), "finished_first": finished,
                        "out": state, "temporaries_left": left})
        print(json.dumps(results[-1]))
        if state == "new":
            old_sha = _sha(out)  # a complete new model is now the one to keep

    final = _train(data, out, env)
    _, err = final.communicate()
    assert final.returncode == 0, err.decode()
    assert _check_out(out, "") == "new"
    remaining = sorted(p.name for p in models.iterdir())
    assert remaining == [out.name], f"left beside {out}: {remaining}"
    print(json.dumps({"kills": args.kills, "out_ok_after_every_kill": True,
                      "old_kept": sum(r["out"] == "old" for r in results),
                      "new_complete": sum(r["out"] == "new" for r in results),
                      "final_folder": remaining, "seconds_per_run": round(duration, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
