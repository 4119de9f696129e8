"""Public names of ``eq_engine.data``; ``lazy_loader.attach_stub`` loads them on first use."""

from .objects import object_stats
from .synthetic import (
    make_em_stack,
    make_histology_field,
    write_em_dataset,
    write_histology_dataset,
)
