"""Choose the learned minimum object size on some leave-one-animal-out folds, confirm on others.

The minimum is a fraction of the smallest whole training object (``MIN_SIZE_FRACTION`` in
``eq_engine/data/objects.py``). From the per-object tables that ``eq cv`` wrote for the
selection folds, each candidate fraction drops the predicted objects under it (a matched object
dropped becomes a miss); the choice is the smallest fraction with the best pooled object F1.
Only then are the confirmation folds touched: their fold models are re-evaluated for real with
that minimum. The table for every fold is printed too, for the record.

    .venv/bin/python bench/min_size_selection.py cv_glom --select 0 1 --confirm 2 3

``cv_glom`` holds ``partK/foldK/`` (``--only-fold K --out cv_glom/partK`` runs) or ``foldK/``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

FRACTIONS = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5)
DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "kidney_preeclampsia_mouse_he"


def fold_dir(root: Path, k: int) -> Path:
    return next(d for d in (root / f"part{k}" / f"fold{k}", root / f"fold{k}") if d.is_dir())


def counts(fold: Path, fraction: float) -> tuple[int, int, int]:
    """(TP, FP, FN) of a fold's objects when predictions under ``fraction`` x the smallest
    whole training object are dropped."""
    import pandas as pd

    from eq_engine.io.models import read_metadata

    smallest = read_metadata(fold / "scratch.eqm")["postprocess"]["from"]["min_training_area"]
    table = pd.read_csv(fold / "eval_scratch" / "per_object.csv")
    kept = table.pred_area >= fraction * smallest
    matched = table.kind == "matched"
    tp = int((matched & kept).sum())
    fp = int(((table.kind == "false_positive") & kept).sum())
    fn = int((table.kind == "missed").sum() + (matched & ~kept).sum())
    return tp, fp, fn


def f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / max(1, 2 * tp + fp + fn)


def pooled(root: Path, folds: list[int], fraction: float) -> tuple[float, tuple]:
    per_fold = [counts(fold_dir(root, k), fraction) for k in folds]
    total = [sum(c) for c in zip(*per_fold, strict=True)]
    return f1(*total), tuple(total)


def rescore(root: Path, k: int, fraction: float, *, tta: bool = False) -> dict:
    """Fold ``k``'s model re-evaluated on its held-out images with ``min_size`` = ``fraction`` x
    its smallest whole training object (and flip TTA when asked): pooled scores."""
    import pandas as pd

    from eq_engine.config import EvalConfig, PredictConfig
    from eq_engine.evaluation import evaluate
    from eq_engine.io.datasets import find_pairs
    from eq_engine.io.models import read_metadata

    fold = fold_dir(root, k)
    model = fold / "scratch.eqm"
    smallest = read_metadata(model)["postprocess"]["from"]["min_training_area"]
    held_out = set(pd.read_csv(fold / "eval_scratch" / "per_image.csv").image)
    test = [p for p in find_pairs(DATA) if p.stem in held_out]
    min_size = int(fraction * smallest)
    report = evaluate(test, EvalConfig(n_overlays=0), model=model,
                      predict_config=PredictConfig(min_size=min_size, tta=tta))
    got = report.aggregates["pooled"]
    return {"fold": k, "images": len(test), "min_size": min_size,
            **{m: round(got[m], 4) for m in ("dice", "iou", "object_precision", "object_recall",
                                              "object_f1")}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cv", type=Path, help="eq cv output folder")
    parser.add_argument("--select", type=int, nargs="+", required=True, help="fold indices")
    parser.add_argument("--confirm", type=int, nargs="+", required=True, help="fold indices")
    args = parser.parse_args()
    if set(args.select) & set(args.confirm):
        parser.error("a fold cannot both select and confirm")
    scores = {f: pooled(args.cv, args.select, f) for f in FRACTIONS}
    best = max(scores.values())[0]
    chosen = min(f for f, (score, _) in scores.items() if score == best)
    for f, (score, tp_fp_fn) in scores.items():
        print(f"select folds {args.select}: fraction {f}: object F1 {score:.3f} (TP/FP/FN {tp_fp_fn})")
    print(f"chosen fraction: {chosen}", flush=True)
    for f in FRACTIONS:  # the record only, after the choice
        score, tp_fp_fn = pooled(args.cv, args.confirm, f)
        print(f"confirm folds {args.confirm} (table): fraction {f}: object F1 {score:.3f} "
              f"(TP/FP/FN {tp_fp_fn})")
    for k in args.confirm:
        print(json.dumps(rescore(args.cv, k, chosen)), flush=True)


if __name__ == "__main__":
    main()
