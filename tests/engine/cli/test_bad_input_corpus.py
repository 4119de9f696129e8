"""The shared corpus of bad inputs, run against every `eq` command that reads user files.

Each case is built from the synthetic generators plus byte-level damage. For every case the
command must exit with the expected code, print a message naming the file and the cause, print
no traceback, and leave its output folder byte-identical. Everything fails before any training
or prediction starts, so the corpus runs in seconds, in-process through ``eq_engine.cli.main``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from eq_engine.cli import main
from eq_engine.data.synthetic import write_em_dataset, write_histology_dataset
from eq_engine.io.images import write_image

META = {"format": "eq-model", "format_version": 1, "task": "mitochondria", "arch": "resnet18",
        "in_channels": 1, "n_classes": 2, "tile_size": 64, "scale": 1.0, "threshold": 0.5,
        "normalization": {"method": "percentile-standardize", "low": 1.0, "high": 99.8,
                          "channels": 1, "mean": [0.0], "std": [1.0]}}


def _model_file(path: Path, **changes) -> Path:
    """A small safetensors file with EQ metadata (``changes`` applied): enough for every check
    that runs before the weights are used."""
    import torch
    from safetensors.torch import save_file

    save_file({"w": torch.arange(4096.0)}, str(path),
              metadata={"eq": json.dumps({**META, **changes})})
    return path


def _copy_dataset(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest)
    return dest


@dataclass(frozen=True)
class Case:
    argv: list[str]  # the eq command line; {root} is the corpus folder
    names: str  # the file (relative to root) the message must name
    cause: str  # words of the cause the message must give
    out: str  # output folder (or folder of the output file) that must stay byte-identical
    code: int = 1
    stream: str = "err"  # where the message goes: "err" (eq: error) or "out" (a report)


def _build(root: Path) -> None:
    em = write_em_dataset(root / "em", n_slices=4, size=64)
    he = write_histology_dataset(root / "he", n_images=4, size=128, n_glomeruli=2)

    empty = _copy_dataset(em, root / "empty")  # every mask empty
    for mask in (empty / "masks").iterdir():
        write_image(mask, np.zeros((64, 64), np.uint8))

    dup = _copy_dataset(em, root / "dup")  # a.png + a.tif: duplicate stems
    shutil.copy(dup / "images" / "em_z00.tif", dup / "images" / "em_z00.png")

    three = _copy_dataset(em, root / "three")  # a 3-valued mask
    mask = np.zeros((64, 64), np.uint8)
    mask[:20], mask[20:40] = 128, 255
    write_image(three / "masks" / "em_z01.png", mask)

    small = _copy_dataset(em, root / "small")  # mask smaller than its image
    write_image(small / "masks" / "em_z02.png", np.full((32, 64), 255, np.uint8))

    stack = _copy_dataset(em, root / "stack")  # a 3D stack with a 2D mask
    write_image(stack / "images" / "em_z03.tif", np.zeros((5, 64, 64), np.uint8))

    cut = _copy_dataset(em, root / "cut")  # an image truncated to half its bytes
    data = (cut / "images" / "em_z00.tif").read_bytes()
    (cut / "images" / "em_z00.tif").write_bytes(data[: len(data) // 2])

    models = root / "models"
    models.mkdir()
    full = _model_file(models / "ok.eqm")
    (models / "truncated.eqm").write_bytes(full.read_bytes()[:-5000])
    _model_file(models / "channels.eqm", in_channels="abc")
    _model_file(models / "threshold.eqm", threshold="high")
    import pickle

    (models / "pickled.pth").write_bytes(pickle.dumps({"conv": object.__new__(Case)}))
    (models / "existing.eqm").write_bytes(b"the previous model")

    for name in ("out", "reports", "quant"):
        (root / name).mkdir()
        (root / name / "earlier.txt").write_text("an earlier run's result\n")
    (root / "afile").write_text("not a folder\n")
    del he


TRAIN = ["--epochs", "1", "--size", "32", "--batch-size", "2", "--crops-per-image", "1",
         "--device", "cpu"]
CASES = {
    "check-empty-truth": Case(["data", "check", "{root}/empty"], "empty", "every mask is empty",
                              "out", stream="out"),
    "check-truncated-image": Case(["data", "check", "--decode", "{root}/cut"],
                                  "images/em_z00.tif", "truncated", "out", stream="out"),
    "check-duplicate-stem": Case(["data", "check", "{root}/dup"], "images/em_z00.png",
                                 "share stem", "out", stream="out"),
    "train-empty-truth": Case(["train", "mito", "{root}/empty", "--out", "{root}/out/m.eqm",
                               *TRAIN], "em_z0", "no foreground pixel", "out"),
    "train-duplicate-stem": Case(["train", "mito", "{root}/dup", "--out", "{root}/out/m.eqm",
                                  *TRAIN], "images/em_z00.tif", "share stem", "out"),
    "train-three-valued-mask": Case(["train", "mito", "{root}/three", "--out",
                                     "{root}/out/m.eqm", *TRAIN], "three/masks/em_z01.png",
                                    "3 distinct values", "out"),
    "train-size-mismatch": Case(["train", "mito", "{root}/small", "--out", "{root}/out/m.eqm",
                                 *TRAIN], "small/masks/em_z02.png", "(32, 64) differ", "out"),
    "train-stack-with-2d-mask": Case(["train", "mito", "{root}/stack", "--out",
                                      "{root}/out/m.eqm", *TRAIN], "stack/images/em_z03.tif",
                                     "image shape (5, 64, 64)", "out"),
    "train-existing-out": Case(["train", "mito", "{root}/em", "--out",
                                "{root}/models/existing.eqm", *TRAIN], "models/existing.eqm",
                               "--overwrite", "models"),
    "train-out-is-folder": Case(["train", "mito", "{root}/em", "--out", "{root}/out", *TRAIN],
                                "out", "is a folder", "out"),
    "train-pickled-weights": Case(["train", "mito", "{root}/em", "--out", "{root}/out/m.eqm",
                                   "--weights", "{root}/models/pickled.pth", *TRAIN],
                                  "models/pickled.pth", "never unpickles", "out"),
    "train-resume-truncated": Case(["train", "mito", "{root}/em", "--out", "{root}/out/m.eqm",
                                    "--resume", "{root}/models/truncated.eqm", *TRAIN],
                                   "models/truncated.eqm", "truncated", "out"),
    "predict-truncated-model": Case(["predict", "{root}/models/truncated.eqm", "{root}/em",
                                     "--out", "{root}/out"], "models/truncated.eqm",
                                    "truncated", "out"),
    "predict-out-is-a-file": Case(["predict", "{root}/models/ok.eqm", "{root}/em", "--out",
                                   "{root}/afile"], "afile", "is a file", "out"),
    "predict-missing-images": Case(["predict", "{root}/models/ok.eqm", "{root}/nothing_here",
                                    "--out", "{root}/out"], "nothing_here", "no image files",
                                   "out"),
    "evaluate-bad-in-channels": Case(["evaluate", "{root}/models/channels.eqm", "{root}/em",
                                      "--out", "{root}/reports"], "models/channels.eqm",
                                     "'in_channels'='abc'", "reports"),
    "evaluate-out-is-a-file": Case(["evaluate", "--pred", "{root}/em/masks", "--truth",
                                    "{root}/em", "--out", "{root}/afile"], "afile", "is a file",
                                   "reports"),
    "quantify-bad-threshold": Case(["quantify", "{root}/models/threshold.eqm", "{root}/he",
                                    "--out", "{root}/quant"], "models/threshold.eqm",
                                   "'threshold'='high'", "quant"),
    "quantify-truncated-model": Case(["quantify", "{root}/models/truncated.eqm", "{root}/he",
                                      "--out", "{root}/quant"], "models/truncated.eqm",
                                     "truncated", "quant"),
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("corpus")
    _build(root)
    return root


def _snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()} if folder.is_dir() else {}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_refused_cleanly(name, corpus, capsys):
    case = CASES[name]
    argv = [a.replace("{root}", str(corpus)) for a in case.argv]
    before = _snapshot(corpus / case.out)
    code = main(argv)
    captured = capsys.readouterr()
    message = captured.err if case.stream == "err" else captured.out
    assert code == case.code, captured
    assert case.names in message and case.cause in message, message
    if case.stream == "err":
        assert "eq: error: " in message, message
    assert "Traceback" not in captured.err and "ERROR" not in captured.err, captured.err
    assert "weights_only=False" not in message and "binary=False" not in message
    assert _snapshot(corpus / case.out) == before


def test_a_model_without_tile_size_says_so():
    """tile_size 0 means "no tile recorded" (ModelInfo); the message must not claim the key is
    missing, and must say how to give one."""
    from eq_engine.config import PredictConfig
    from eq_engine.errors import ModelError
    from eq_engine.inference.predictor import model_tile
    from eq_engine.io.model_info import ModelInfo

    info = ModelInfo.from_metadata({**META, "tile_size": 0})
    with pytest.raises(ModelError, match=r"records no tile size \(tile_size 0 or absent\).*--tile"):
        model_tile(info, PredictConfig(), True)
    assert model_tile(info, PredictConfig(tile=64), True) == 64
