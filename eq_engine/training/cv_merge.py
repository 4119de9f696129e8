"""Combine ``eq cv --only-fold K`` runs (one output folder each) into one summary.

::

    python -m eq_engine.training.cv_merge cv/fold0 cv/fold1 cv/fold2 cv/fold3 --out cv/

reads each folder's ``folds.csv``, ``per_image.csv`` and ``summary.json`` (which must describe
the same folds and config, apart from ``only_folds``) and writes the combined ``folds.csv``,
``per_image.csv``, ``summary.json`` and ``folds.png`` into ``--out``. With ``--ensemble`` (or
when the parts were run with it) it also writes ``ensemble.json`` over the first arm's fold models,
as ``eq cv --ensemble`` does for a whole run.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

from ..errors import DataError


def _value(text: str):
    if text == "":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _table(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return [{k: _value(v) for k, v in row.items()} for row in csv.DictReader(fh)]


def merge_folders(folders: list[Path], out: Path, *, ensemble: bool = False) -> dict:
    """The combined summary of ``folders`` (also written into ``out``); ``ensemble`` (or the
    parts' config) also writes ``out/ensemble.json`` over the first arm's fold models."""
    from ..config import CVConfig
    from .cv_summary import summarize, write_outputs

    parts = [json.loads((Path(f) / "summary.json").read_text(encoding="utf-8")) for f in folders]
    configs = [{**p["config"], "only_folds": []} for p in parts]
    if any(c != configs[0] for c in configs) or any(p["folds"] != parts[0]["folds"] for p in parts):
        raise DataError(f"{folders}: these cross-validation runs differ in config or folds; "
                        "only parts of one run can be merged")
    rows = [r for f in folders for r in _table(Path(f) / "folds.csv")]
    images = [r for f in folders for r in _table(Path(f) / "per_image.csv")]
    seen = [(r["fold"], r["arm"]) for r in rows]
    if len(set(seen)) != len(seen):
        raise DataError(f"{folders}: a fold appears in more than one folder")
    config = CVConfig.from_dict(configs[0])
    summary = summarize(rows, images, config, folds=parts[0]["folds"],
                        cancelled=any(p["cancelled"] for p in parts),
                        seconds=sum(p["seconds"] for p in parts))
    summary["merged_from"] = [str(f) for f in folders]
    write_outputs(Path(out), sorted(rows, key=lambda r: (r["fold"], r["arm"])), images, summary)
    if ensemble or config.ensemble:
        _write_ensemble(folders, rows, config, parts[0]["folds"], Path(out))
    return summary


def _write_ensemble(folders, rows: list[dict], config, folds: list, out: Path) -> None:
    from ..models.ensemble import write_ensemble

    members = sorted((r["fold"], r["model"]) for r in rows if r["arm"] == config.arms[0])
    if len(members) != len(folds) or any(not m for _, m in members):
        raise DataError(f"{folders}: an ensemble needs every fold's {config.arms[0]} model; "
                        f"these parts hold folds {[f for f, _ in members]} of {len(folds)}")
    write_ensemble(out / "ensemble.json", [Path(m) for _, m in members])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("folders", nargs="+", type=Path)
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--ensemble", action="store_true",
                   help="also write ensemble.json over the fold models of the first arm")
    args = p.parse_args(argv)
    summary = merge_folders(args.folders, args.out, ensemble=args.ensemble)
    for arm, data in summary["arms"].items():
        f = data["folds"]["pooled_dice"]
        print(f"{arm}: {f['n']} folds, pooled Dice mean {f['mean']}, sd {f['sd']}, "
              f"held-out pooled {data['pooled'].get('dice')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
