"""Transfer vs scratch with few annotated glomeruli images, scored on other animals.

For each number of training images N and seed: N images drawn (seeded) from the training animals
plus one more for best-epoch selection, then one ``transfer_train`` from the mitochondria model
``--base`` per fine-tuning schedule (``F+U``: F epochs frozen, U unfrozen; ``F+U/D``: stage 2's
encoder learning rate is lr / D, default TransferConfig's) and one ``train`` from
scratch (``--scratch-epochs``, default the first schedule's total) on the same split and seed.
Every model is scored with ``evaluate`` on every image of the held-out animals (pooled Dice,
object F1).

    .venv/bin/python bench/transfer_table.py --base mito.eqm --out-dir /tmp/eq_transfer \\
        --sizes 2 4 8 --seeds 0 1 2
    .venv/bin/python bench/transfer_table.py --base mito.eqm --sizes 23 --seeds 0 \\
        --schedules 2+4 2+8 2+8/1 --scratch-epochs 10 --train-animals T21 T26 --test-animals T19 T20

Default animals: train T19, T20; held out T21, T26 (kidney_preeclampsia_mouse_he). Writes
``rows.csv`` and ``table.json`` and prints mean +- sd per N and arm, and each transfer arm minus
scratch (paired by seed).
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


def schedule(text: str) -> tuple[int, int, float | None]:
    """``"2+4"`` -> (2, 4, None); ``"2+8/1"`` -> (2, 8, 1.0)."""
    epochs, _, divisor = text.partition("/")
    try:
        freeze, unfreeze = (int(x) for x in epochs.split("+"))
        return freeze, unfreeze, float(divisor) if divisor else None
    except ValueError:
        raise argparse.ArgumentTypeError(f"schedule {text!r} is not F+U or F+U/D, e.g. 2+4") from None


def one_run(pairs, test, n: int, seed: int, args, out: Path) -> list[dict]:
    from eq_engine.config import EvalConfig, TrainConfig, TransferConfig
    from eq_engine.evaluation import evaluate
    from eq_engine.training import train
    from eq_engine.training.transfer import transfer_train

    rng = np.random.default_rng(seed)
    chosen = [pairs[i] for i in rng.choice(len(pairs), size=n + 1, replace=False)]
    valid_stem = chosen[-1].stem
    tcfg = TrainConfig(task="glomeruli", valid_pattern=f"^{valid_stem}$", seed=seed,
                       crops_per_image=args.crops, device=args.device,
                       scale_jitter=args.scale_jitter,
                       mixed_precision=not args.full_precision)
    t0 = time.perf_counter()
    runs = []
    for freeze, unfreeze, divisor in args.schedules:
        cfg = TransferConfig(base_model=str(args.base), train=tcfg, freeze_epochs=freeze,
                             unfreeze_epochs=unfreeze, copy_stages=args.copy_stages)
        if divisor is not None:
            cfg = cfg.replace(lr_divisor=divisor)
        tag = f"{freeze}+{unfreeze}" + (f"/{divisor:g}" if divisor is not None else "") \
            + (f"c{args.copy_stages}" if args.copy_stages != TransferConfig.copy_stages else "")
        path = out / f"n{n}_s{seed}_t{tag.replace('/', '_lr')}.eqm"
        runs.append((f"transfer {tag}", transfer_train(chosen, cfg, out=path).transfer))
    scratch_epochs = args.scratch_epochs
    if scratch_epochs is None:
        first = args.schedules[0] if args.schedules else None
        scratch_epochs = first[0] + first[1] if first else tcfg.epochs
    if scratch_epochs:
        runs.append((f"scratch {scratch_epochs}",
                     train(chosen, tcfg.replace(epochs=scratch_epochs),
                           out=out / f"n{n}_s{seed}_scratch{scratch_epochs}.eqm")))
    rows = []
    for arm, trained in runs:
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


def _mean_sd(values: list[float]) -> dict:
    return {"mean": float(np.mean(values)),
            "sd": float(np.std(values, ddof=1)) if len(values) > 1 else None, "n": len(values)}


def table(rows: list[dict]) -> dict:
    out = {}
    for n in sorted({r["n_train"] for r in rows}):
        at_n = [r for r in rows if r["n_train"] == n]
        arms = list(dict.fromkeys(r["arm"] for r in at_n))
        entry = {arm: _mean_sd([r["pooled_dice"] for r in at_n if r["arm"] == arm]) for arm in arms}
        scratch = {r["seed"]: r["pooled_dice"] for r in at_n if r["arm"].startswith("scratch")}
        for arm in arms:
            diffs = [r["pooled_dice"] - scratch[r["seed"]] for r in at_n
                     if r["arm"] == arm and arm.startswith("transfer") and r["seed"] in scratch]
            if diffs:
                entry[f"{arm} minus scratch"] = _mean_sd(diffs)
        out[str(n)] = entry
    return out


def main() -> int:
    from eq_engine.config import TrainConfig, TransferConfig

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base", required=True, type=Path, help="mitochondria model (.eqm)")
    p.add_argument("--out-dir", type=Path, default=Path("/tmp/eq_transfer_table"))
    p.add_argument("--sizes", type=int, nargs="+", default=[2, 4, 8])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--crops", type=int, default=0,
                   help="crops per image and epoch (0: auto, the default of eq train)")
    p.add_argument("--schedules", type=schedule, nargs="*", default=[(2, 4, None)],
                   help="transfer fine-tuning schedules F+U or F+U/D (lr divisor D; default "
                   "2+4; none: the scratch arm only)")
    p.add_argument("--scratch-epochs", type=int, default=None,
                   help="epochs of the scratch arm (default: the first schedule's total, or "
                   "TrainConfig.epochs without one; 0: none)")
    p.add_argument("--train-animals", nargs="+", default=["T19", "T20"])
    p.add_argument("--test-animals", nargs="+", default=["T21", "T26"])
    p.add_argument("--scale-jitter", type=float, default=TrainConfig.scale_jitter,
                   help="zoom augmentation range [1/F, F] of every arm (TrainConfig.scale_jitter)")
    p.add_argument("--copy-stages", type=int, default=TransferConfig.copy_stages,
                   help="encoder stages copied from the base after its stem (TransferConfig)")
    p.add_argument("--full-precision", action="store_true",
                   help="train in float32 (TrainConfig.mixed_precision=False)")
    p.add_argument("--device", default="auto")
    args = p.parse_args()
    root = DATA / "kidney_preeclampsia_mouse_he"
    if not root.is_dir():
        print(f"real data not found under {DATA} (set EQ_SHARED_DATA)", file=sys.stderr)
        return 2
    from eq_engine.evaluation.report import rows_to_csv
    from eq_engine.io.datasets import find_pairs

    pairs = find_pairs(root)
    train = [q for q in pairs if q.stem.split("_")[0] in args.train_animals]
    test = [q for q in pairs if q.stem.split("_")[0] in args.test_animals]
    if set(args.train_animals) & set(args.test_animals):
        p.error("an animal cannot be in training and test at once")
    if max(args.sizes) >= len(train):
        p.error(f"--sizes: at most {len(train) - 1} of the {len(train)} training images "
                "(one more is drawn for best-epoch selection)")
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
