"""Public names of ``eq_engine.io``; ``lazy_loader.attach_stub`` loads them on first use."""

from .datasets import file_stem
from .slides import is_slide, open_slide
