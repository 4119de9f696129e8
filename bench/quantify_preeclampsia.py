"""Endotheliosis grading on the preeclampsia mouse H&E set, left-one-animal-out, from true masks
and from masks predicted by glomeruli models that never saw the held-out animal.

Per-image grades (``grades.csv``: image, animal, endotheliosis_grade, animal_pathologist_score)
are the truth. Two grade models are cross-validated by animal (4 folds of 12 images):

- ``default``: the ordinal model on ``QuantConfig().grade_features`` (fixed before these data);
- ``nested``: inside each outer fold, the single feature (or the default trio) with the best
  within-animal Spearman in an inner leave-one-animal-out over the 3 training animals is chosen,
  then fitted on them and scored on the held-out animal, which never takes part in the choice.

With ``--fold-models DIR`` (an ``eq cv`` output folder, or files ``glom_no<ANIMAL>.eqm`` from
``eq train glomeruli`` on the other three animals) every image is segmented by the model that did
not see its animal; segmentation agreement with the true masks (Dice, object F1 at IoU 0.5) and
the time to quantify one 2448 x 2048 field are reported too.

    .venv/bin/python bench/quantify_preeclampsia.py --out /tmp/eq_q
    .venv/bin/python bench/quantify_preeclampsia.py --fold-models /tmp/eq_i11 --out /tmp/eq_q
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "kidney_preeclampsia_mouse_he"
CANDIDATES = ("openness", "mask_openness", "lumen_density", "lumen_count", "lumen_area_mean",
              "lumen_area_median", "nuclear_fraction", "nuclear_density", "hematoxylin_mean",
              "eosin_mean", "area", "circularity")


def measure_true(data: Path, config):
    from eq_engine.quantification.pipeline import list_images, mask_reader, measure_images

    read = mask_reader(data / "masks")
    return measure_images(list_images(data / "images"), lambda stem, image: read(stem), config)


def fold_models(folder: Path) -> dict[str, Path]:
    """Held-out animal -> the model that never saw it: ``glom_no<ANIMAL>.eqm`` files, or the
    ``fold<k>/scratch.eqm`` models of ``eq cv`` output folders (their ``folds.csv`` names the
    held-out animal), searched in ``folder`` and its subfolders (``--only-fold`` parts)."""
    import csv

    found = {p.stem.removeprefix("glom_no"): p for p in folder.glob("glom_no*.eqm")}
    for table in sorted(folder.glob("**/folds.csv")):
        for row in csv.DictReader(table.open()):
            model = table.parent / f"fold{row['fold']}" / f"{row['arm']}.eqm"
            if row["arm"] == "scratch" and model.is_file() and " " not in row["held_out"]:
                found.setdefault(row["held_out"], model)
    return found


def measure_predicted(data: Path, models: Path, config, out: Path):
    """Glomerulus table from fold-model masks, plus per-image segmentation agreement rows and
    the seconds each field took (predict + measure)."""
    from eq_engine.config import PredictConfig
    from eq_engine.evaluation.metrics import dice, match_objects
    from eq_engine.io.images import read_image, read_mask
    from eq_engine.quantification.features import measure_glomeruli
    from eq_engine.quantification.filtering import flag_glomeruli
    from eq_engine.quantification.pipeline import list_images, model_segmenter
    from eq_engine.quantification.tables import QuantTable

    paths = list_images(data / "images")
    animals = sorted({p.stem.split("_")[0] for p in paths})
    found = fold_models(models)
    tables, seg_rows, seconds = [], [], []
    for animal in animals:
        if animal not in found:
            print(f"no fold model without {animal}: animal {animal} left out", file=sys.stderr)
            continue
        segment = model_segmenter(found[animal], PredictConfig())
        for path in [p for p in paths if p.stem.startswith(animal + "_")]:
            image = read_image(path)
            start = time.perf_counter()
            labels = segment(path.stem, image)
            tables.append(measure_glomeruli(image, labels, config, name=path.stem))
            seconds.append(time.perf_counter() - start)
            truth = read_mask(data / "masks" / f"{path.stem}_mask.png", binary=False)
            match = match_objects(labels, truth)
            seg_rows.append({"image": path.stem, "animal": animal,
                             "dice": dice(labels > 0, truth > 0), "object_f1": match.f1,
                             "n_pred": match.n_pred, "n_truth": match.n_truth, "tp": match.tp})
    QuantTable(seg_rows, "image").to_csv(out / "segmentation.csv")
    table = flag_glomeruli(QuantTable.concat(tables), exclude_border=config.exclude_border)
    return table, seg_rows, seconds


def nested_cv(training, subject_scores, n_boot: int):
    """Outer leave-one-animal-out; the feature set is chosen inside each outer training set."""
    from eq_engine.quantification.grading import grouped_folds
    from eq_engine.quantification.grading_metrics import combined_within_spearman
    from eq_engine.quantification.ordinal import fit_ordinal
    from eq_engine.quantification.validation import validate_predictions

    y, subjects = training.column("grade"), training.column("subject")
    columns = {f: training.column(f) for f in CANDIDATES}
    candidates = [(f,) for f in CANDIDATES] + [("openness", "lumen_density", "nuclear_fraction")]

    def design(names, idx):
        return np.column_stack([columns[f][idx] for f in names])

    def predict(names, train, test):
        model = fit_ordinal(design(names, train), y[train], names=names)
        return model.predict(design(names, test))

    out = {k: np.full(y.size, np.nan) for k in ("grade_expected", "grade_class", "p_grade_high",
                                                "baseline")}
    chosen = {}
    for train, test in grouped_folds(subjects):
        def inner(names, train=train):
            e = np.full(y.size, np.nan)
            for a, b in grouped_folds(subjects[train]):
                e[train[b]] = predict(names, train[a], train[b])["grade_expected"]
            return combined_within_spearman(y[train], e[train], subjects[train])

        best = max(candidates, key=inner)
        chosen[str(subjects[test][0])] = ",".join(best)
        pred = predict(best, train, test)
        for key in ("grade_expected", "grade_class", "p_grade_high"):
            out[key][test] = pred[key]
        ordered = np.sort(y[train])
        out["baseline"][test] = ordered[(ordered.size - 1) // 2]
    validation = validate_predictions(y, out["grade_expected"], out["grade_class"],
                                      out["p_grade_high"], out["baseline"], subjects,
                                      subject_scores=subject_scores, n_boot=n_boot)
    return validation, chosen


def report(name: str, table, config, sheet, n_boot: int) -> dict:
    from eq_engine.quantification.filtering import usage_summary
    from eq_engine.quantification.grading import fit_grade_model, training_table
    from eq_engine.quantification.scoresheet import sheet_subject_scores

    print(f"\n=== {name} masks: glomeruli {usage_summary(table)}")
    fit = fit_grade_model(table, sheet, config)
    print("--- default grade model, leave one animal out")
    print(fit.cv.validation.summary())
    for fold in fit.cv.folds:
        print("  fold", json.dumps({k: (round(v, 3) if isinstance(v, float) else v)
                                    for k, v in fold.items()}))
    training, _ = training_table(table, sheet, config, allow_missing=True)
    if len(set(training.column("subject").tolist())) < 3:
        print("--- nested feature choice needs 3 animals or more; skipped")
        return {"default": fit.cv.validation.to_dict(), "default_folds": fit.cv.folds}
    nested, chosen = nested_cv(training, sheet_subject_scores(sheet), n_boot)
    print("--- nested feature choice (inner LOAO on the 3 training animals)")
    print("  chosen per held-out animal:", chosen)
    print(nested.summary())
    return {"default": fit.cv.validation.to_dict(), "default_folds": fit.cv.folds,
            "nested": nested.to_dict(), "nested_chosen": chosen,
            "usage": usage_summary(table)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA.resolve())
    parser.add_argument("--out", type=Path, default=Path("/tmp/eq_quantify_preeclampsia"))
    parser.add_argument("--fold-models", type=Path, default=None,
                        help="folder with glom_no<ANIMAL>.eqm models, or `eq cv` output "
                        "(leave-one-animal-out fold models)")
    parser.add_argument("--bootstrap", type=int, default=2000)
    args = parser.parse_args(argv)
    if not (args.data / "grades.csv").is_file():
        print(f"dataset not found at {args.data}; skipping", file=sys.stderr)
        return 0

    from eq_engine.config import QuantConfig
    from eq_engine.quantification.filtering import flag_glomeruli
    from eq_engine.quantification.scoresheet import read_score_sheet
    from eq_engine.quantification.tables import QuantTable

    config = QuantConfig(n_bootstrap=args.bootstrap)
    sheet = read_score_sheet(args.data / "grades.csv")
    args.out.mkdir(parents=True, exist_ok=True)
    results = {}
    cache = args.out / "glomeruli_true.csv"
    table = QuantTable.read_csv(cache) if cache.is_file() else measure_true(args.data, config)
    table = flag_glomeruli(table, exclude_border=config.exclude_border)
    table.to_csv(cache)
    results["true"] = report("true", table, config, sheet, args.bootstrap)
    if args.fold_models is not None:
        table, seg, seconds = measure_predicted(args.data, args.fold_models, config, args.out)
        table.to_csv(args.out / "glomeruli_predicted.csv")
        for animal in sorted({r["animal"] for r in seg}):
            rows = [r for r in seg if r["animal"] == animal]
            print(f"segmentation {animal}: Dice {np.mean([r['dice'] for r in rows]):.3f}, "
                  f"object F1 {np.mean([r['object_f1'] for r in rows]):.3f} (mean of "
                  f"{len(rows)} images)")
        print(f"seconds per field (predict + measure, CPU): median {np.median(seconds):.2f}, "
              f"max {np.max(seconds):.2f}")
        results["predicted"] = report("predicted", table, config, sheet, args.bootstrap)
        done = {r["animal"] for r in seg}
        if len(done) < 4:  # compare on the same animals
            same = QuantTable([r for r in QuantTable.read_csv(cache).rows
                               if r["image"].split("_")[0] in done])
            same = flag_glomeruli(same, exclude_border=config.exclude_border)
            results["true_same_animals"] = report(f"true ({sorted(done)} only)", same, config,
                                                  sheet, args.bootstrap)
        results["seconds_per_field"] = seconds
        results["segmentation"] = seg
    from eq_engine.jsonsafe import jsonable

    (args.out / "validation.json").write_text(json.dumps(jsonable(results), indent=2))
    print("written:", args.out / "validation.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
