"""Public names of ``eq_engine.models``; ``lazy_loader.attach_stub`` loads them on first use."""

from .ensemble import (
                       ensemble_members,
                       ensemble_metadata,
                       is_ensemble,
                       load_ensemble,
    load_model_or_ensemble,
                       model_metadata,
                       write_ensemble,
)
from .loading import LoadedModel, load_model, make_predictor
from .unet import ARCHS, build_unet, encoder
