"""Real-data training: EM mitochondria pretraining, then glomeruli transfer vs scratch.

Stage A trains a mitochondria U-Net on ``em_cdeep3m_mouse_brain`` (SBEM, 1024 px slices):
training on the ``training_*`` slices, validating on ``validation_050..053``, a block of
consecutive slices ~22 sections away from every training slice. ``validation_054..059`` are left
out: they touch the validation block in z and would leak into training.

Stage B transfers that encoder to ``kidney_preeclampsia_mouse_he`` (H&E 2448x2048 fields,
resized by 0.25 so glomeruli are ~40-75 px), split by animal with ``^(T\\d+)_`` (one of four
animals held out), and trains the same U-Net from scratch on the same split, seed and epochs.

    .venv/bin/python bench/real_data_training.py --out-dir /tmp/eq_real

Writes ``mito.eqm``, ``glomeruli.eqm``, ``glomeruli_scratch.eqm`` and ``summary.json`` there
and prints the numbers for BENCHMARKS.md. Data is read from ``$EQ_SHARED_DATA`` or
``../shared/data``; never copied.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("EQ_SHARED_DATA", ROOT / ".." / "shared" / "data")).resolve()
EM_VALID = r"^validation_05[0-3]$"
EM_LEFT_OUT = r"^validation_05[4-9]$"


def mito_config(args):
    from eq_engine.config import TrainConfig

    return TrainConfig(task="mitochondria", arch=args.arch, size=args.size, scale=args.em_scale,
                       batch_size=args.batch_size, epochs=args.mito_epochs, lr=args.lr,
                       crops_per_image=args.mito_crops, valid_pattern=EM_VALID, seed=args.seed,
                       device=args.device)


def transfer_config(args, base: Path):
    from eq_engine.config import TrainConfig, TransferConfig

    train = TrainConfig(task="glomeruli", arch="auto", size=args.size, scale=args.he_scale,
                        batch_size=args.batch_size, lr=args.lr, crops_per_image=args.he_crops,
                        group_pattern=r"^(T\d+)_", valid_fraction=0.25, seed=args.seed,
                        device=args.device)
    return TransferConfig(base_model=str(base), train=train, freeze_epochs=args.freeze_epochs,
                          unfreeze_epochs=args.unfreeze_epochs, compare_scratch=True)


def em_pairs(root: Path):
    from eq_engine.io.datasets import find_pairs

    return [p for p in find_pairs(root) if not re.search(EM_LEFT_OUT, p.stem)]


def _epoch_line(event) -> None:
    from eq_engine.events import EpochEnd

    if isinstance(event, EpochEnd):
        m = event.metrics
        print(f"  epoch {event.epoch}/{event.n_epochs} [{event.stage}] train {event.train_loss:.4f} "
              f"valid {event.valid_loss:.4f} dice {m['dice']:.4f} iou {m['iou']:.4f} "
              f"({event.seconds:.0f} s)", flush=True)


def run(args) -> dict:
    from eq_engine.training import train
    from eq_engine.training.transfer import transfer_train

    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    print("stage A: mitochondria on em_cdeep3m_mouse_brain", flush=True)
    mito = train(em_pairs(DATA / "em_cdeep3m_mouse_brain"), mito_config(args),
                 out=out / "mito.eqm", on_event=_epoch_line)
    summary = {"mito": {"best": mito.best, "seconds": mito.seconds,
                        "valid": mito.metadata["split"]["valid"], "device": mito.device}}
    print(f"  best valid Dice {mito.best['dice']:.4f} IoU {mito.best['iou']:.4f} "
          f"(epoch {mito.best['epoch']}, {mito.seconds:.0f} s)", flush=True)
    if args.skip_transfer:
        return summary
    print("stage B: transfer to kidney_preeclampsia_mouse_he (+ scratch)", flush=True)
    result = transfer_train(DATA / "kidney_preeclampsia_mouse_he", transfer_config(args, out / "mito.eqm"),
                            out=out / "glomeruli.eqm", on_event=_epoch_line)
    print(result.copy_report.summary())
    print(result.table_text, flush=True)
    summary["transfer"] = {"best": result.transfer.best, "seconds": result.transfer.seconds,
                           "valid_groups": result.transfer.metadata["split"]["valid_groups"]}
    summary["scratch"] = {"best": result.scratch.best, "seconds": result.scratch.seconds}
    summary["table"] = result.table
    summary["total_seconds"] = time.perf_counter() - t0
    return summary


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out-dir", default="/tmp/eq_real_training")
    p.add_argument("--device", default="auto")
    p.add_argument("--arch", default="resnet18")
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--em-scale", type=float, default=0.5)
    p.add_argument("--mito-epochs", type=int, default=8)
    p.add_argument("--mito-crops", type=int, default=12)
    p.add_argument("--he-scale", type=float, default=0.25)
    p.add_argument("--he-crops", type=int, default=4)
    p.add_argument("--freeze-epochs", type=int, default=1)
    p.add_argument("--unfreeze-epochs", type=int, default=3)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: leave as is)")
    p.add_argument("--skip-transfer", action="store_true")
    return p.parse_args(argv)


def main() -> int:
    args = parse_args()
    logging.basicConfig(level=logging.WARNING)
    if not (DATA / "em_cdeep3m_mouse_brain").is_dir():
        print(f"real data not found under {DATA} (set EQ_SHARED_DATA)", file=sys.stderr)
        return 2
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    summary = run(args)
    (Path(args.out_dir) / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
