"""napari: frame time while panning a 50k x 40k slide opened with EQ's slide reader.

A procedural RGB slide (glass with tissue islands, ``bench/slide_prediction.py``'s generator) is
written as a pyramidal OME-TIFF (levels 1, 1/4, 1/16, 256-px zlib tiles, 0.5 µm/px) tile by tile,
then opened in a shown napari viewer through ``eq_gui.slide_reader`` (lazy levels over
tifffile's Zarr store) and panned step by step at three zooms: full resolution (level 0 on
screen), 1/4 and 1/16, each 1.1 times further out so that napari shows that level. Each step
moves the camera by ``--step`` screen pixels; its frame time is the wall time from the camera
move until napari has sliced the new view (the visible tiles decoded) and the canvas has been
repainted. Goal: median <= 50 ms. The same pans over an in-memory pyramid in the same window
give the floor (napari plus this machine's GL, no reader), so the reader's own share is the
difference. ``--async-slicing`` turns on napari's experimental asynchronous slicing
(``NAPARI_ASYNC=1``: tiles are read in a worker thread); then a step's frame time is how long
the GUI thread is busy, and ``settled_ms`` how long until the new view's tiles are on screen.
Run under Xvfb on a headless machine:

    xvfb-run -a .venv/bin/python bench/slide_panning.py --height 50000 --width 40000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_API", "pyside6")
ZOOM_MARGIN = 1.1
FLOOR_SIZE = 16384  # side of the in-memory reference pyramid (768 MB)
sys.path.insert(0, str(Path(__file__).resolve().parent))


def settle(app, canvas, layer, t0: float, timeout: float = 5.0) -> float:
    """Seconds from ``t0`` until ``layer`` has its current view loaded and drawn."""
    while not layer.loaded and time.perf_counter() - t0 < timeout:
        app.processEvents()
        time.sleep(0.001)
    canvas.repaint()
    app.processEvents()
    return time.perf_counter() - t0


def pan(viewer, app, canvas, layer, start: tuple[float, float], step_world: float, steps: int
        ) -> tuple[list[float], list[float]]:
    """Move the camera right (then down at the edge of a row) ``steps`` times; the seconds the
    GUI thread was busy per move, and the seconds until the new view was on screen."""
    times, settled = [], []
    cy, cx = start
    for i in range(steps):
        cx += step_world if (i // 20) % 2 == 0 else -step_world  # zig-zag over the tissue
        if i % 20 == 19:
            cy += step_world
        t0 = time.perf_counter()
        viewer.camera.center = (cy, cx)
        app.processEvents()  # napari slices the new view here (visible tiles are read)
        canvas.repaint()     # and the canvas is drawn
        app.processEvents()
        times.append(time.perf_counter() - t0)
        settled.append(settle(app, canvas, layer, t0))
    return times, settled


def pan_zooms(viewer, app, canvas, layer, centre, mpp: float, args) -> dict:
    """Pan ``layer`` at zooms 1/1, 1/4 and 1/16 (each 1.1x further out so that napari shows
    that level); median, p90, max and first frame times per zoom."""
    results = {}
    for downsample in (1, 4, 16):
        # a little under one screen px per level px: napari shows the coarsest level that still
        # has more pixels than the canvas, so at exactly 1:1 rounding picks the finer level
        viewer.camera.zoom = 1.0 / (mpp * downsample * ZOOM_MARGIN)
        viewer.camera.center = centre
        for _ in range(5):
            app.processEvents()
        times, settled = pan(viewer, app, canvas, layer, centre, args.step * mpp * downsample,
                             args.steps)
        ms = sorted(t * 1000 for t in times)
        results[f"zoom 1/{downsample}"] = {
            "level_shown": int(layer.data_level), "median_ms": round(statistics.median(ms), 1),
            "p90_ms": round(ms[int(0.9 * (len(ms) - 1))], 1), "max_ms": round(ms[-1], 1),
            "first_ms": round(times[0] * 1000, 1),
            "settled_median_ms": round(statistics.median(settled) * 1000, 1)}
        print(f"{layer.name} zoom 1/{downsample}:", json.dumps(results[f"zoom 1/{downsample}"]),
              flush=True)
    return results


def main() -> None:
    from slide_prediction import ProceduralSlide

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--height", type=int, default=50000)
    parser.add_argument("--width", type=int, default=40000)
    parser.add_argument("--tissue", type=float, default=0.3, help="tissue fraction of the area")
    parser.add_argument("--steps", type=int, default=60, help="camera moves per zoom")
    parser.add_argument("--step", type=int, default=200, help="screen px per move")
    parser.add_argument("--slide", default=None, help="reuse this slide instead of writing one")
    parser.add_argument("--json", default=None, help="also write the results here")
    parser.add_argument("--async-slicing", action="store_true",
                        help="napari's experimental asynchronous slicing (NAPARI_ASYNC=1)")
    args = parser.parse_args()
    if args.async_slicing:
        os.environ["NAPARI_ASYNC"] = "1"  # read by napari's settings; never saved to them

    from eq_engine.io.slide_writer import write_pyramid

    tmp = tempfile.TemporaryDirectory(prefix="eq_pan_")
    generated = ProceduralSlide(args.height, args.width, args.tissue)
    slide = Path(args.slide) if args.slide else Path(tmp.name) / "pan.ome.tif"
    write_s = 0.0
    if args.slide is None:
        start = time.perf_counter()
        write_pyramid(slide, generated, mpp=0.5, kind="ome", compression="zlib")
        write_s = time.perf_counter() - start
        print(f"wrote {slide.stat().st_size / 2**20:.0f} MB in {write_s:.0f} s", flush=True)

    import napari
    from qtpy.QtWidgets import QApplication

    from eq_gui.slide_reader import slide_layer_data

    viewer = napari.Viewer(show=True)
    viewer.window.resize(1280, 900)
    data, kwargs, _ = slide_layer_data(slide)
    layer = viewer.add_image(data, **kwargs)
    app = QApplication.instance()
    canvas = viewer.window._qt_viewer.canvas.native  # the vispy canvas widget (bench only)
    mpp = kwargs["scale"][0]
    iy, ix = generated.islands[len(generated.islands) // 2]
    centre = ((iy + 1024) * mpp, (ix + 1024) * mpp)  # inside a tissue island
    results = pan_zooms(viewer, app, canvas, layer, centre, mpp, args)
    # the floor: the same pans over an in-memory pyramid (no decoding, no file) in the same
    # window, i.e. what napari and this machine's GL need per frame whatever the reader does
    viewer.layers.clear()
    block = np.random.default_rng(0).integers(0, 256, (1024, 1024, 3), np.uint8)
    memory = np.tile(block, (FLOOR_SIZE // 1024, FLOOR_SIZE // 1024, 1))
    floor_layer = viewer.add_image([memory, memory[::4, ::4].copy(), memory[::16, ::16].copy()],
                                   rgb=True, multiscale=True, scale=(mpp, mpp))
    floor = pan_zooms(viewer, app, canvas, floor_layer,
                      (FLOOR_SIZE * mpp / 4, FLOOR_SIZE * mpp / 4), mpp, args)
    for zoom, row in results.items():
        row["in_memory_floor_ms"] = floor[zoom]["median_ms"]
        row["reader_excess_ms"] = round(row["median_ms"] - floor[zoom]["median_ms"], 1)
    from napari.settings import get_settings

    summary = {"slide": [args.height, args.width], "tissue": args.tissue, "write_s": round(write_s),
               "async_slicing": bool(get_settings().experimental.async_),
               "steps": args.steps, "step_px": args.step,
               "canvas": [canvas.width(), canvas.height()],
               "machine": f"{platform.node()} {os.cpu_count()} cpu", "results": results}
    print(json.dumps(summary))
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2))
    viewer.close()
    tmp.cleanup()


if __name__ == "__main__":
    main()
