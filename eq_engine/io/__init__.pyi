"""Public names of ``eq_engine.io``; ``lazy_loader.attach_stub`` loads them on first use."""

from .datasets import file_stem
from .recipe_meta import training_object_diameter
from .slides import is_slide, open_slide
