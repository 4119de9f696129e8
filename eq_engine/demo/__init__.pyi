"""Public names of ``eq_engine.demo``; ``lazy_loader.attach_stub`` loads them on first use."""

from .chain import DemoResult, run_demo
from .profiles import DemoConfig, demo_config
