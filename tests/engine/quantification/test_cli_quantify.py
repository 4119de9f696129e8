"""`eq quantify`: parse -> QuantConfig -> quantify() -> printed summary and files."""

import pytest

from eq_engine.cli import main
from eq_engine.data.synthetic import write_histology_dataset


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return write_histology_dataset(tmp_path_factory.mktemp("cli"), n_images=4, size=192,
                                   seed=5, images_per_animal=2, n_glomeruli=3)


def test_fit_then_apply(dataset, tmp_path, capsys):
    model = tmp_path / "grade.json"
    code = main(["quantify", str(dataset / "labels"), str(dataset), "--out", str(tmp_path / "a"),
                 "--grades", str(dataset / "grades.csv"), "--fit", str(model),
                 "--bootstrap", "10", "--features", "openness,lumen_density"])
    out = capsys.readouterr().out
    assert code == 0 and model.is_file()
    assert "12 glomeruli" in out and "grouped CV (2 folds by subject)" in out
    assert (tmp_path / "a" / "openness_vs_grade.png").is_file()
    code = main(["quantify", str(dataset / "masks"), str(dataset / "images"), "--out",
                 str(tmp_path / "b"), "--grade-model", str(model)])
    assert code == 0
    header = (tmp_path / "b" / "glomeruli.csv").read_text().splitlines()[0].split(",")
    assert {"grade_expected", "grade_class", "p_grade_high", "subject"} <= set(header)


def test_sheet_with_unknown_images_fails_with_message(dataset, tmp_path, capsys):
    sheet = tmp_path / "s.csv"
    sheet.write_text("image,grade\nS1_img0.png,1\nS1_img1.png,0\nS9_img7.png,2\n")
    code = main(["quantify", str(dataset / "masks"), str(dataset), "--out", str(tmp_path / "c"),
                 "--grades", str(sheet), "--fit", str(tmp_path / "m.json")])
    err = capsys.readouterr().err
    assert code == 1 and "S9_img7" in err and "S2_img0" in err and "S2_img1" in err


def test_fit_and_grade_model_are_exclusive(dataset, tmp_path):
    with pytest.raises(SystemExit) as exc:
        main(["quantify", str(dataset / "masks"), str(dataset), "--out", str(tmp_path),
              "--fit", "a.json", "--grade-model", "b.json"])
    assert exc.value.code == 2
