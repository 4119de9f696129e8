"""What a new user tripped over (issue 12): duplicate docks, late or misleading errors, the stop
notification, the selected object on the canvas, image names, opened masks, damaged files."""

from __future__ import annotations

import numpy as np
import pytest
from qtpy.QtCore import Qt

pytestmark = pytest.mark.gui


@pytest.fixture
def notices(monkeypatch):
    """Every napari error/info notification text, in order."""
    import napari.utils.notifications as notifications

    shown = []
    monkeypatch.setattr(notifications, "show_error", lambda text: shown.append(("error", text)))
    monkeypatch.setattr(notifications, "show_info", lambda text: shown.append(("info", text)))
    return shown


def test_plugins_menu_raises_the_open_dock_instead_of_a_second_one(make_napari_viewer):
    from napari._app_model import get_app_model

    from eq_gui.docking import DOCKS, add_all_docks, full_name
    from eq_gui.quantify_dock import QuantifyDock

    viewer = make_napari_viewer()
    docks = add_all_docks(viewer)
    assert set(viewer.window.dock_widgets) == {full_name(name) for name in DOCKS}
    assert full_name("Quantify") == "Quantify (EQ studio)"  # what the Plugins menu calls it
    get_app_model().commands.execute_command("eq.quantify_dock").result()  # menu: toggles
    quantify = [w for w in viewer.window.dock_widgets.values() if isinstance(w, QuantifyDock)]
    assert quantify == [docks["Quantify"]]


def test_bad_model_file_says_why_not_choose_a_model(make_napari_viewer, notices, tmp_path):
    from eq_gui.predict_dock import PredictDock

    bad = tmp_path / "broken.eqm"
    bad.write_bytes(b"this is not a model file")
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((32, 32), np.float32), name="img")
    dock = PredictDock(viewer)
    dock.set_model(bad)
    assert "broken.eqm cannot be used" in dock.model_info.text()
    dock.jobs.start_button.click()
    kind, text = notices[-1]
    assert kind == "error" and "broken.eqm cannot be used as the model" in text
    assert "choose a model file" not in text and not dock.jobs.running


def test_empty_dataset_is_refused_before_a_worker_starts(make_napari_viewer, notices, tmp_path):
    from eq_gui.train_dock import TrainDock

    empty = tmp_path / "deep" / "folder" / "empty"
    (empty / "images").mkdir(parents=True)
    viewer = make_napari_viewer()
    dock = TrainDock(viewer)
    dock.set_mode("pretrain")
    dock.folder.set_path(empty)
    dock.jobs.start_button.click()
    assert dock.jobs.worker is None and not dock.jobs.running  # nothing was started
    kind, text = notices[-1]
    assert kind == "error" and "has no image with a mask" in text
    assert "Data and Annotation dock" in text and "eq data check" not in text
    assert str(tmp_path) not in text and "…/folder/empty" in text  # short path, whole reason


def test_stop_notifies(make_napari_viewer, qtbot, notices):
    from eq_gui.job_bar import JobBar

    bar = JobBar("Go")
    qtbot.addWidget(bar)
    bar.event.connect(lambda _ev: bar.stop())
    with qtbot.waitSignal(bar.idle, timeout=120_000):
        bar.start_engine("probe", {"events": 1, "until_cancelled": True, "timeout": 600},
                         description="probe")
    assert ("info", "EQ probe stopped") in notices
    assert bar.progress.format() == "probe: stopped"


def test_stopped_training_names_the_model_it_kept():
    from types import SimpleNamespace

    from eq_gui.job_bar import stopped_message

    result = SimpleNamespace(model_path="/m/x.eqm", cancelled=True)
    assert stopped_message("training", result) == (
        "EQ training stopped; the best model so far is kept in /m/x.eqm")
    transfer = SimpleNamespace(transfer=SimpleNamespace(model_path=None), cancelled=True)
    assert "before a model was saved" in stopped_message("training", transfer)


def discs(shape, centres, radius):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    labels = np.zeros(shape, np.int32)
    for i, (cy, cx) in enumerate(centres, start=1):
        labels[(yy - cy) ** 2 + (xx - cx) ** 2 <= radius**2] = i
    return labels


def test_selected_object_is_outlined_and_rows_name_the_image(make_napari_viewer, qtbot):
    from eq_gui.evaluate_dock import EvaluateDock
    from eq_gui.layer_data import IMAGE_KEY
    from eq_gui.table_view import SELECTION_LAYER

    viewer = make_napari_viewer()
    viewer.add_labels(discs((200, 300), [(40, 50), (150, 240)], 15), name="T19 mask")
    viewer.add_labels(discs((200, 300), [(42, 50)], 15), name="T19 prediction",
                      metadata={IMAGE_KEY: "T19"})
    dock = EvaluateDock(viewer)
    dock.pred_layer.setCurrentText("T19 prediction")
    dock.truth_layer.setCurrentText("T19 mask")
    with qtbot.waitSignal(dock.jobs.idle, timeout=30_000):
        dock.jobs.start_button.click()
    assert dock.image_table.row_data(0)["image"] == "T19"  # the image, not "T19 prediction"
    missed = next(i for i, r in enumerate(dock.object_table.rows) if r["kind"] == "missed")
    rect = dock.object_table.visualItemRect(dock.object_table.item(missed, 0))
    qtbot.mouseClick(dock.object_table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    outline = viewer.layers[SELECTION_LAYER]
    (corners,) = outline.data
    assert corners.min(axis=0) == pytest.approx((134.5, 224.5))  # the missed disc's box
    assert corners.max(axis=0) == pytest.approx((165.5, 255.5))
    assert viewer.layers.selection.active is not outline  # the user's layer stays active


def test_tables_fit_their_width_with_key_columns_first(make_napari_viewer, qtbot):
    from qtpy.QtWidgets import QHeaderView

    from eq_gui.evaluate_dock import IMAGE_COLUMNS
    from eq_gui.table_view import RowTable

    table = RowTable()
    qtbot.addWidget(table)
    table.set_rows([{"image": "T19", "dice": 0.91234, "iou": 0.8388, "object_f1": 0.5,
                     "n_truth_objects": 2, "n_pred_objects": 2, "tp": 1234, "lr": 1e-4}],
                   IMAGE_COLUMNS)
    assert table.columns[:3] == ["image", "dice", "iou"]
    assert table.item(0, 1).text() == "0.912"
    assert "tp: 1234" in table.item(0, 0).toolTip()  # columns not shown are in the tooltip
    mode = table.horizontalHeader().sectionResizeMode(0)
    assert mode == QHeaderView.ResizeMode.Stretch


def test_masks_opened_from_file_become_named_labels(make_napari_viewer, qtbot, tmp_path):
    from eq_engine.io.images import write_image, write_mask
    from eq_gui.data_dock import DataDock
    from eq_gui.layer_data import MASK_KEY

    (tmp_path / "images").mkdir()
    write_image(tmp_path / "images" / "T19.png", np.full((16, 16), 80, np.uint8))
    mask = np.zeros((16, 16), bool)
    mask[4:8, 4:8] = True
    write_mask(tmp_path / "masks" / "T19.png", mask)
    write_mask(tmp_path / "T20_mask.png", mask)
    viewer = make_napari_viewer()
    DataDock(viewer)  # installs the renaming, as the launcher's docks do
    viewer.open(str(tmp_path / "images" / "T19.png"))
    viewer.open(str(tmp_path / "masks" / "T19.png"))
    viewer.open(str(tmp_path / "T20_mask.png"))
    qtbot.waitUntil(lambda: "T19 mask" in viewer.layers and "T20 mask" in viewer.layers,
                    timeout=10_000)
    layer = viewer.layers["T19 mask"]
    assert type(layer).__name__ == "Labels" and layer.data.max() == 1
    assert layer.metadata[MASK_KEY] == str(tmp_path / "masks" / "T19.png")
    assert [lyr.name for lyr in viewer.layers] == ["T19", "T19 mask", "T20 mask"]


def test_damaged_image_is_marked_before_it_is_clicked(make_napari_viewer, qtbot, tmp_path):
    from eq_engine.io.images import write_image, write_mask
    from eq_gui.data_dock import DataDock

    for stem in ("good", "bad"):
        write_image(tmp_path / "images" / f"{stem}.png",
                    np.random.default_rng(0).integers(0, 255, (64, 64), np.uint8))
        write_mask(tmp_path / "masks" / f"{stem}.png", np.eye(64, dtype=bool))
    path = tmp_path / "images" / "bad.png"
    raw = bytearray(path.read_bytes())
    start = raw.index(b"IDAT") + 8
    raw[start:start + 200] = bytes(200)  # header and length intact, pixel data destroyed
    path.write_bytes(bytes(raw))
    viewer = make_napari_viewer()
    dock = DataDock(viewer)
    dock.folder.set_path(tmp_path)
    qtbot.waitUntil(lambda: dock.decoded, timeout=30_000)
    status = {stem: dock.states[i] for i, (stem, _, _) in enumerate(dock.rows)}
    assert status == {"bad": "unreadable", "good": "ok"}
    dock.load_row(next(i for i, (s, _, _) in enumerate(dock.rows) if s == "bad"))
    assert "unreadable" in dock.status.text() and "bad" not in viewer.layers


def test_first_window_takes_most_of_the_screen_and_title_shows_jobs():
    from eq_gui.launcher import first_geometry, window_title

    assert first_geometry((0, 0, 1920, 1080)) == (96, 54, 1728, 972)
    assert first_geometry((0, 0, 3840, 2160))[2:] == (1920, 1200)
    assert window_title(()) == "EQ" and window_title(("training",)) == "EQ: training…"


def test_only_mask_like_files_count_as_masks():
    from eq_gui.opened_masks import looks_like_mask, mask_image_stem

    assert mask_image_stem("/d/masks/T19.png") == "T19"
    assert mask_image_stem("/d/T19_mask.tif") == "T19"
    assert mask_image_stem("/d/images/T19.png") is None
    assert looks_like_mask(np.array([[0, 255], [255, 0]], np.uint8))
    assert looks_like_mask(np.arange(16, dtype=np.uint16).reshape(4, 4))  # 16-bit labels
    assert not looks_like_mask(np.arange(64, dtype=np.uint8).reshape(8, 8))  # grayscale image
    assert not looks_like_mask(np.zeros((4, 4, 3), np.uint8))  # RGB
