"""Public names of ``eq_engine``; ``lazy_loader.attach_stub`` loads them on first use."""

from .config import CVConfig, EvalConfig, PredictConfig, QuantConfig, TrainConfig, TransferConfig
from .errors import Cancelled, ConfigError, DataError, EngineError, ModelError
from .evaluation import evaluate
from .events import CancelToken
from .inference import predict, predict_tiled
from .io.datasets import check_dataset, find_pairs
from .io.images import read_image, read_mask, write_mask
from .io.model_info import ModelInfo
from .io.models import read_metadata
from .models.ensemble import model_metadata
from .models.loading import load_model
from .quantification import measure_glomeruli
from .training import cross_validate, train
from .training.transfer import transfer_train
