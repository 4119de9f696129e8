"""Decide flip test-time augmentation on some leave-one-animal-out folds, confirm on others.

Each fold model of an ``eq cv`` run scores its held-out animal twice, without and with
``PredictConfig(tta=True)`` (the mean over four flips), with the minimum object size of the
current default (``MIN_SIZE_FRACTION`` of the smallest whole training object), so the only
difference is TTA. The decision uses the selection folds only: TTA is worth its 4x prediction
time when it raises their pooled Dice by at least ``--min-gain`` without lowering object F1.
The confirmation folds are printed after the decision, for the record.

    .venv/bin/python bench/tta_selection.py cv_glom --select 0 1 --confirm 2 3 --json tta.json

``cv_glom`` holds ``partK/foldK/`` (``--only-fold K --out cv_glom/partK`` runs) or ``foldK/``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from min_size_selection import rescore  # noqa: E402


def score(root: Path, k: int, tta: bool) -> dict:
    """Pooled scores of fold ``k``'s model on its held-out images, with or without TTA."""
    from eq_engine.data.objects import MIN_SIZE_FRACTION

    start = time.perf_counter()
    row = rescore(root, k, MIN_SIZE_FRACTION, tta=tta)
    return {**row, "tta": tta, "seconds": round(time.perf_counter() - start, 1)}


def pooled_mean(rows: list[dict], metric: str) -> float:
    """Image-weighted mean of a pooled metric over folds."""
    return sum(r[metric] * r["images"] for r in rows) / sum(r["images"] for r in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cv", type=Path, help="eq cv output folder")
    parser.add_argument("--select", type=int, nargs="+", required=True, help="fold indices")
    parser.add_argument("--confirm", type=int, nargs="+", required=True, help="fold indices")
    parser.add_argument("--min-gain", type=float, default=0.005, help="pooled Dice gain needed")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = parser.parse_args()
    if set(args.select) & set(args.confirm):
        parser.error("a fold cannot both select and confirm")
    rows = []
    for k in args.select:
        for tta in (False, True):
            rows.append(score(args.cv, k, tta))
            print(json.dumps(rows[-1]), flush=True)
    chosen = [r for r in rows if r["fold"] in args.select]
    plain = [r for r in chosen if not r["tta"]]
    flipped = [r for r in chosen if r["tta"]]
    gain = pooled_mean(flipped, "dice") - pooled_mean(plain, "dice")
    f1_change = pooled_mean(flipped, "object_f1") - pooled_mean(plain, "object_f1")
    adopt = gain >= args.min_gain and f1_change >= 0
    print(f"select folds {args.select}: TTA changes Dice by {gain:+.4f} and object F1 by "
          f"{f1_change:+.4f}: {'adopt' if adopt else 'do not adopt'} TTA", flush=True)
    for k in args.confirm:  # the record only, after the decision
        for tta in (False, True):
            rows.append(score(args.cv, k, tta))
            print(json.dumps(rows[-1]), flush=True)
    if args.json:
        args.json.write_text(json.dumps({"select": args.select, "confirm": args.confirm,
                                         "dice_gain": gain, "object_f1_change": f1_change,
                                         "adopt": adopt, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
