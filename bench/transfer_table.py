"""Transfer vs scratch with few annotated glomeruli images, scored on other animals.

For each number of training images N and seed: N images drawn (seeded) from the training animals
plus one more for best-epoch selection, then ``transfer_train(..., compare_scratch=True)`` from
the mitochondria model ``--base`` (same split, seed and epochs for both arms), and both models
are scored with ``evaluate`` on every image of the held-out animals (pooled Dice, object F1).

    .venv/bin/python bench/transfer_table.py --base mito.eqm --out-dir /tmp/eq_transfer \\
        --sizes 2 4 8 --seeds 0 1 2

Training animals T19, T20; held-out animals T21, T26 (kidney_preeclampsia_mouse_he). Writes
``rows.csv`` and ``table.json`` and prints mean +- sd per N and arm.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("EQ_SHARED_DATA", ROOT / ".." / "shared" / "data")).resolve()
TRAIN_ANIMALS, TEST_ANIMALS = ("T19", "T20"), ("T21", "T26")


def one_run(pairs, test, n: int, seed: int, args, out: Path) -> list[dict]:
    from eq_engine.config import EvalConfig, TrainConfig, TransferConfig
    from eq_engine.evaluation import evaluate
    from eq_engine.training.transfer import transfer_train

    rng = np.random.default_rng(seed)
    chosen = [pairs[i] for i in rng.choice(len(pairs), size=n + 1, replace=False)]
    valid_stem = chosen[-1].stem
    tcfg = TrainConfig(task="glomeruli", valid_pattern=f"^{valid_stem}$", seed=seed,
                       crops_per_image=args.crops, device=args.device)
    cfg = TransferConfig(base_model=str(args.base), train=tcfg, freeze_epochs=args.freeze_epochs,
                         unfreeze_epochs=args.unfreeze_epochs, compare_scratch=True)
    t0 = time.perf_counter()
    result = transfer_train(chosen, cfg, out=out / f"n{n}_s{seed}.eqm")
    rows = []
    for arm, trained in (("transfer", result.transfer), ("scratch", result.scratch)):
        report = evaluate(test, EvalConfig(n_overlays=0), model=trained.model_path)
        pooled = report.aggregates["pooled"]
        rows.append({"n_train": n, "seed": seed, "arm": arm, "pooled_dice": pooled["dice"],
                     "pooled_iou": pooled["iou"], "object_f1": pooled["object_f1"],
                     "inner_valid_dice": trained.best.get("dice"),
                     "train_seconds": trained.seconds, "scale": trained.metadata["scale"],
                     "train_images": " ".join(p.stem for p in chosen[:-1]),
                     "valid_image": valid_stem})
        print(f"N={n} seed={seed} {arm}: held-out Dice {pooled['dice']:.4f} object F1 "
              f"{pooled['object_f1']:.4f} ({trained.seconds:.0f} s)", flush=True)
    print(f"  run took {time.perf_counter() - t0:.0f} s", flush=True)
    return rows


def table(rows: list[dict]) -> dict:
    out = {}
    for n in sorted({r["n_train"] for r in rows}):
        entry = {}
        for arm in ("transfer", "scratch"):
            d = [r["pooled_dice"] for r in rows if r["n_train"] == n and r["arm"] == arm]
            entry[arm] = {"mean": float(np.mean(d)), "sd": float(np.std(d, ddof=1)) if len(d) > 1
                          else None, "n_seeds": len(d)}
        diffs = [a["pooled_dice"] - b["pooled_dice"] for a in rows for b in rows
                 if a["n_train"] == b["n_train"] == n and a["seed"] == b["seed"]
                 and a["arm"] == "transfer" and b["arm"] == "scratch"]
        entry["transfer_minus_scratch"] = {
            "mean": float(np.mean(diffs)),
            "sd": float(np.std(diffs, ddof=1)) if len(diffs) > 1 else None}
        out[str(n)] = entry
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base", required=True, type=Path, help="mitochondria model (.eqm)")
    p.add_argument("--out-dir", type=Path, default=Path("/tmp/eq_transfer_table"))
    p.add_argument("--sizes", type=int, nargs="+", default=[2, 4, 8])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--crops", type=int, default=8, help="crops per image and epoch")
    p.add_argument("--freeze-epochs", type=int, default=2)
    p.add_argument("--unfreeze-epochs", type=int, default=4)
    p.add_argument("--device", default="auto")
    args = p.parse_args()
    root = DATA / "kidney_preeclampsia_mouse_he"
    if not root.is_dir():
        print(f"real data not found under {DATA} (set EQ_SHARED_DATA)", file=sys.stderr)
        return 2
    from eq_engine.evaluation.report import rows_to_csv
    from eq_engine.io.datasets import find_pairs

    pairs = find_pairs(root)
    train = [q for q in pairs if q.stem.split("_")[0] in TRAIN_ANIMALS]
    test = [q for q in pairs if q.stem.split("_")[0] in TEST_ANIMALS]
    args.out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in args.sizes:
        for seed in args.seeds:
            rows += one_run(train, test, n, seed, args, args.out_dir)
            (args.out_dir / "rows.csv").write_text(rows_to_csv(rows))
    result = table(rows)
    (args.out_dir / "table.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
