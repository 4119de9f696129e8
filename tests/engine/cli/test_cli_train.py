"""`eq train mito` and `eq train glomeruli` on tiny synthetic datasets."""

import pytest

from eq_engine.cli import build_parser, main

TINY = ["--arch", "resnet18", "--size", "32", "--batch-size", "2", "--crops-per-image", "1"]


pytestmark = pytest.mark.usefixtures("quiet_machine")


def test_parser_knows_both_commands():
    args = build_parser().parse_args(["train", "glomeruli", "d", "--base", "m.eqm", "--out", "g.eqm",
                                      "--compare-scratch", "--freeze-epochs", "1", "--scale", "0.25",
                                      "--group-pattern", r"^(T\d+)_"])
    assert args.compare_scratch and args.freeze_epochs == 1 and args.scale == 0.25
    assert args.group_pattern == r"^(T\d+)_"


def test_scale_jitter_reaches_the_train_config():
    from eq_engine.cli.train import train_config
    from eq_engine.config import TrainConfig

    args = build_parser().parse_args(["train", "mito", "d", "--out", "m.eqm", "--scale-jitter", "1.6"])
    assert train_config(args, "mitochondria", 3).scale_jitter == 1.6
    plain = build_parser().parse_args(["train", "mito", "d", "--out", "m.eqm"])
    assert train_config(plain, "mitochondria", 3).scale_jitter == TrainConfig.scale_jitter


def test_copy_stages_reach_transfer_and_cv_configs():
    from eq_engine.cli.cv import cv_config
    from eq_engine.config import TransferConfig

    args = build_parser().parse_args(["cv", "d", "--task", "glomeruli", "--group-pattern", r"^(T\d+)_",
                                      "--out", "o", "--base", "m.eqm", "--copy-stages", "2"])
    assert cv_config(args).copy_stages == 2
    plain = build_parser().parse_args(["train", "glomeruli", "d", "--out", "g.eqm", "--base", "m.eqm"])
    assert plain.copy_stages == TransferConfig.copy_stages


def test_copy_stages_reach_eq_train_glomeruli(monkeypatch, tmp_path):
    import eq_engine.training.transfer as transfer

    class Stop(Exception):
        pass

    seen = []

    def spy(data, config, **kwargs):
        seen.append(config)
        raise Stop

    monkeypatch.setattr(transfer, "transfer_train", spy)
    with pytest.raises(Stop):
        main(["train", "glomeruli", str(tmp_path), "--out", str(tmp_path / "g.eqm"),
              "--base", "m.eqm", "--copy-stages", "1"])
    assert seen[0].copy_stages == 1


def test_full_precision_turns_mixed_precision_off():
    from eq_engine.cli.train import train_config

    args = build_parser().parse_args(["cv", "d", "--task", "glomeruli", "--group-pattern", r"^(T\d+)_",
                                      "--out", "o", "--full-precision"])
    assert not train_config(args, "glomeruli", 3).mixed_precision
    plain = build_parser().parse_args(["train", "glomeruli", "d", "--out", "g.eqm"])
    assert train_config(plain, "glomeruli", 3).mixed_precision


def test_mito_then_glomeruli_with_scratch_comparison(tmp_path, capsys):
    from eq_engine.data.synthetic import write_em_dataset, write_histology_dataset
    from eq_engine.io.models import read_metadata
    from eq_engine.runs import list_runs

    em = write_em_dataset(tmp_path / "em", n_slices=4, size=64, seed=0)
    hist = write_histology_dataset(tmp_path / "hist", n_images=4, size=96, seed=1, n_glomeruli=2)
    mito = tmp_path / "mito.eqm"
    assert main(["train", "mito", str(em), "--out", str(mito), "--epochs", "1", *TINY]) == 0
    out = capsys.readouterr().out
    assert "epoch 1/1 [train]" in out and "valid Dice" in out
    assert read_metadata(mito)["task"] == "mitochondria"

    glom = tmp_path / "glom.eqm"
    code = main(["train", "glomeruli", str(hist), "--base", str(mito), "--out", str(glom),
                 "--freeze-epochs", "1", "--unfreeze-epochs", "0", "--compare-scratch",
                 "--group-pattern", r"^(S\d+)_", *TINY])
    assert code == 0
    out = capsys.readouterr().out
    assert "1 adapted" in out and "transfer vs scratch" in out and "scratch_dice" in out
    assert read_metadata(glom)["parent"]["path"] == str(mito)
    assert (tmp_path / "glom_scratch.eqm").is_file()
    assert sorted(r.kind for r in list_runs()) == ["train", "transfer"]


def test_glomeruli_without_base_trains_from_scratch(tmp_path, capsys):
    from eq_engine.data.synthetic import write_histology_dataset
    from eq_engine.io.models import read_metadata

    hist = write_histology_dataset(tmp_path / "hist", n_images=3, size=96, seed=1, n_glomeruli=2)
    glom = tmp_path / "glom.eqm"
    assert main(["train", "glomeruli", str(hist), "--out", str(glom), "--epochs", "1", *TINY]) == 0
    out = capsys.readouterr().out
    assert "glomeruli model (scratch)" in out and "epoch 1/1 [train]" in out
    meta = read_metadata(glom)
    assert meta["task"] == "glomeruli" and meta["in_channels"] == 3 and not meta.get("parent")


def test_stage_options_without_base_are_a_clean_error(tmp_path, capsys):
    code = main(["train", "glomeruli", str(tmp_path), "--out", str(tmp_path / "g.eqm"),
                 "--freeze-epochs", "1"])
    assert code == 1 and "need --base FILE" in capsys.readouterr().err


def test_bad_option_is_a_clean_error(tmp_path, capsys):
    assert main(["train", "mito", str(tmp_path), "--out", str(tmp_path / "m.eqm"), "--size", "30"]) == 1
    assert "size" in capsys.readouterr().err
