"""Public names of ``eq_engine.inference``; ``lazy_loader.attach_stub`` loads them on first use."""

from .batch import BatchResult, predict_batch
from .large import LargePrediction, predict_large
from .postprocessing import postprocess
from .prediction import Prediction, predict
from .predictor import model_min_size
from .slide import SlideResult, predict_slide
from .slide_labels import read_ome_zarr_levels
from .stream_model import predict_file_streaming
from .tiling import blend_weights, predict_tiled, tile_grid
