"""A user's session for test_gl_trap.py: napari with GL up first, then EQ's Train dock trains
and the Predict dock predicts. Prints one JSON line; exits 0 unless something failed.

With the CUDA torch wheel, importing triton after Mesa's llvmpipe made a GL context segfaults
the process; EQ keeps torch out of the GUI process entirely, so this must simply work.
"""

from __future__ import annotations

import json
import sys


def wait_idle(jobs, timeout_ms: int = 240_000) -> None:
    from qtpy.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    jobs.idle.connect(loop.quit)
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()


def main(dataset: str, out: str) -> int:
    import napari
    from qtpy.QtWidgets import QApplication

    viewer = napari.Viewer(show=True)  # the OpenGL context exists from here on
    QApplication.processEvents()
    torch_before = "torch" in sys.modules
    _, train = viewer.window.add_plugin_dock_widget("eq", "Train")  # as from the Plugins menu
    train.set_mode("pretrain")
    train.folder.set_path(dataset)
    train.output.set_path(out)
    for box, value in ((train.form.epochs, 1), (train.form.size, 64),
                       (train.form.batch_size, 4), (train.form.crops_per_image, 2)):
        box.setValue(value)
    train.form.arch.setCurrentText("resnet18")
    train.form.device.setCurrentText("cpu")
    train.jobs.start_button.click()
    wait_idle(train.jobs)
    predict = train.load_in_predict()
    import numpy as np

    viewer.add_image(np.random.default_rng(0).integers(0, 255, (64, 64), dtype=np.uint8),
                     name="field")
    predict.image_layer.setCurrentText("field")
    predict.jobs.start_button.click()
    wait_idle(predict.jobs)
    report = {"torch_before": torch_before, "torch_after": "torch" in sys.modules,
              "trained": bool(train.result and train.result.model_path),
              "predicted": "field prediction" in viewer.layers}
    print(json.dumps(report), flush=True)
    viewer.close()
    from eq_gui import workers

    workers.shutdown()
    return 0 if report["trained"] and report["predicted"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
