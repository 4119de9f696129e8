"""Does averaging models trained on different images pay, on animals none of them saw?

Each member model predicts every image of the held-out animals on its own (its own scale,
normalisation and clean-up); the ensemble averages the members' full-resolution probability
maps, thresholds at 0.5 and removes objects under the members' median learned minimum size.
Members and ensemble are scored with ``evaluate`` on the same images (pooled Dice, object F1).
This is the measurement behind ensembling fold models (each trained on other subjects): the
members here are the transfer table's seed models, trained on different images of T19/T20.

    .venv/bin/python bench/ensemble_gain.py --models n4_s0.eqm n4_s1.eqm n4_s2.eqm \\
        --animals T21 T26 --out /tmp/eq_ensemble --json ensemble.json
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("EQ_SHARED_DATA", ROOT / ".." / "shared" / "data")).resolve()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, nargs="+", required=True)
    parser.add_argument("--animals", nargs="+", default=["T21", "T26"])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    from eq_engine.config import EvalConfig, PredictConfig
    from eq_engine.evaluation import evaluate
    from eq_engine.inference import predict
    from eq_engine.inference.postprocessing import postprocess
    from eq_engine.inference.predictor import model_min_size
    from eq_engine.io.datasets import find_pairs
    from eq_engine.io.images import read_image, write_mask
    from eq_engine.models.loading import load_model

    test = [p for p in find_pairs(DATA / "kidney_preeclampsia_mouse_he")
            if p.stem.split("_")[0] in args.animals]
    members = [load_model(m, device="cpu") for m in args.models]
    config = PredictConfig(tta=False)
    min_size = int(np.median([model_min_size(m.info, config) for m in members]))
    folders = {f"member{k}": args.out / f"member{k}" for k in range(len(members))}
    folders["ensemble"] = args.out / "ensemble"
    start = time.perf_counter()
    for pair in test:
        image = read_image(pair.image)
        probabilities = []
        for k, member in enumerate(members):
            prediction = predict(member, image, config)
            probabilities.append(prediction.probability)
            write_mask(folders[f"member{k}"] / f"{pair.stem}_mask.png", prediction.mask)
        mask, _ = postprocess(np.mean(probabilities, axis=0), threshold=0.5, min_size=min_size)
        write_mask(folders["ensemble"] / f"{pair.stem}_mask.png", mask)
        print(f"{pair.stem}: {time.perf_counter() - start:.0f} s", flush=True)
    rows = {}
    for name, folder in folders.items():
        report = evaluate(test, EvalConfig(n_overlays=0), predictions=folder)
        pooled = report.aggregates["pooled"]
        rows[name] = {m: round(pooled[m], 4) for m in ("dice", "iou", "object_f1")}
        print(name, json.dumps(rows[name]), flush=True)
    member_dice = [rows[f"member{k}"]["dice"] for k in range(len(members))]
    summary = {"models": [str(m) for m in args.models], "animals": args.animals,
               "images": len(test), "ensemble_min_size": min_size, "rows": rows,
               "ensemble_minus_member_mean_dice": rows["ensemble"]["dice"] - float(np.mean(member_dice)),
               "ensemble_minus_best_member_dice": rows["ensemble"]["dice"] - max(member_dice)}
    print(json.dumps(summary))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
