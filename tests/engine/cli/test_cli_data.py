"""`eq data check` and `eq data lucchi` through eq_engine.cli.main."""

from __future__ import annotations

import json

import numpy as np
import tifffile

from eq_engine.cli import main
from eq_engine.io.images import write_image


def _pair(root, stem, *, image_suffix=".png", mask_shape=(16, 20), mask_values=(0, 255)):
    write_image(root / "images" / f"{stem}{image_suffix}", np.full((16, 20, 3), 90, np.uint8))
    mask = np.zeros(mask_shape, np.uint8)
    for i, v in enumerate(mask_values):
        mask[i::len(mask_values)] = v
    write_image(root / "masks" / f"{stem}.png", mask)


def test_check_names_each_problem_and_exits_non_zero(tmp_path, capsys):
    _pair(tmp_path, "good")
    _pair(tmp_path, "truncated", image_suffix=".tif")
    tif = write_image(tmp_path / "images" / "truncated.tif",
                      np.random.default_rng(0).integers(0, 255, (16, 20, 3), np.uint8))
    tif.write_bytes(tif.read_bytes()[:-300])  # the pixel data ends past the end of the file
    _pair(tmp_path, "wrongshape", mask_shape=(16, 24))
    _pair(tmp_path, "threevalued", mask_values=(0, 128, 255))
    write_image(tmp_path / "masks" / "orphan.png", np.zeros((16, 20), np.uint8))

    assert main(["data", "check", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert any("images/truncated.tif: truncated TIFF" in line and "error" in line for line in lines)
    assert any("masks/wrongshape.png: mask shape (16, 24)" in line for line in lines)
    assert any("masks/threevalued.png: 3 distinct values (0, 128, 255)" in line for line in lines)
    assert any("masks/orphan.png: no image with stem 'orphan'" in line for line in lines)
    assert "usable pairs               1" in out and "Result: PROBLEMS" in out


def test_check_clean_dataset_exits_zero_and_json_lists_pairs(tmp_path, capsys):
    _pair(tmp_path, "a")
    _pair(tmp_path, "b")
    assert main(["data", "check", str(tmp_path)]) == 0
    assert "Result: OK: 2 usable pairs, 0 errors, 0 warnings" in capsys.readouterr().out
    assert main(["data", "check", "--json", str(tmp_path)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [p["stem"] for p in report["pairs"]] == ["a", "b"] and report["ok"] is True


def test_check_empty_or_missing_folder_fails(tmp_path, capsys):
    assert main(["data", "check", str(tmp_path)]) == 1
    assert "NOT USABLE" in capsys.readouterr().out
    assert main(["data", "check", str(tmp_path / "missing")]) == 1
    assert "missing: dataset folder not found" in capsys.readouterr().err


def test_data_without_action_prints_usage(capsys):
    assert main(["data"]) == 2
    assert "check" in capsys.readouterr().out


def test_lucchi_command_organises_stacks(tmp_path, capsys):
    rng = np.random.default_rng(0)
    (tmp_path / "src").mkdir()
    for name, n in (("training", 3), ("testing", 2)):
        tifffile.imwrite(tmp_path / "src" / f"{name}.tif", rng.integers(0, 255, (n, 12, 16), np.uint8),
                         photometric="minisblack")
        tifffile.imwrite(tmp_path / "src" / f"{name}_groundtruth.tif",
                         (rng.random((n, 12, 16)) > 0.5).astype(np.uint8) * 255,
                         photometric="minisblack")
    assert main(["data", "lucchi", str(tmp_path / "src"), str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "train     3 pairs" in out and "test      2 pairs" in out
    assert main(["data", "check", str(tmp_path / "out" / "train")]) == 0
    capsys.readouterr()
    assert main(["data", "lucchi", str(tmp_path / "src"), str(tmp_path / "out")]) == 1
    assert "--overwrite" in capsys.readouterr().err


def test_check_preeclampsia_pairs_all_48(shared_data, capsys):
    root = shared_data("kidney_preeclampsia_mouse_he")
    assert main(["data", "check", str(root)]) == 0
    out = capsys.readouterr().out
    assert "usable pairs              48" in out
    assert "Result: OK: 48 usable pairs, 0 errors, 0 warnings" in out
