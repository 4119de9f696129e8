"""What `eq demo` runs: data sizes and training budgets for the quick and default runs."""

from __future__ import annotations

from dataclasses import dataclass

from ..config.base import ConfigBase


@dataclass(frozen=True)
class DemoConfig(ConfigBase):
    """Sizes of the demo chain. ``data`` points at real data in the dataset layout (for example
    ``../shared/data``); without it the demo generates its own samples."""

    quick: bool = False
    seed: int = 0
    device: str = "auto"
    data: str | None = None
    em_slices: int = 8
    em_size: int = 192
    histology_images: int = 8  # training images; half as many again are held out
    histology_size: int = 384
    histology_scale: float = 0.5  # generated fields: glomeruli 45-90 px become 22-45 px
    crop: int = 96
    mito_epochs: int = 6
    freeze_epochs: int = 2
    unfreeze_epochs: int = 6
    crops_per_image: int = 10  # 2 CPU cores: ~20 s an epoch at 96 px, so the chain fits 10 min

    def __post_init__(self) -> None:
        for name in ("em_slices", "em_size", "histology_images", "histology_size", "crop",
                     "mito_epochs", "unfreeze_epochs", "crops_per_image"):
            self._check(isinstance(getattr(self, name), int) and getattr(self, name) >= 1, name,
                        "must be a positive integer")
        self._check_range("histology_scale", 0, 1, low_open=True)
        self._check(self.histology_images >= 4, "histology_images",
                    "needs at least 4 images (2 subjects x 2 images) to split by subject")


def demo_config(*, quick: bool = False, **overrides) -> DemoConfig:
    """The default profile (under 10 min on 2 CPU cores) or ``quick`` (under 2 min)."""
    if quick:
        base = dict(quick=True, em_slices=4, em_size=128, histology_images=4, histology_size=256,
                    crop=64, mito_epochs=2, freeze_epochs=1, unfreeze_epochs=2, crops_per_image=8)
    else:
        base = {}
    base.update(overrides)
    return DemoConfig(**base)
