"""Training and transfer-learning configs."""

from __future__ import annotations

from dataclasses import dataclass, field

from .base import ConfigBase

ARCHS = ("auto", "resnet18", "resnet34", "resnet50")
LOSSES = ("ce", "dice", "ce_dice", "focal", "tversky")
TASKS = ("mitochondria", "glomeruli", "generic")


@dataclass(frozen=True)
class TrainConfig(ConfigBase):
    """How to train a segmentation U-Net.

    ``arch="auto"``, ``size=0`` and ``batch_size=0`` mean "choose for the device": resnet18 /
    128 px / batch 4 on CPU, resnet34 / 256 px / batch 16 on GPU. ``scale`` resizes images by that
    factor before cropping (0.25 makes a 2448-px H&E field 612 px); ``scale=0`` ("auto", the
    default) picks it from the size of the objects in the training masks
    (:mod:`eq_engine.data.objects`). It is stored in the model file and prediction applies it.
    ``crops_per_image=0`` ("auto", the default) draws enough random crops per image and epoch to
    cover half of a median training image at that scale, at least 8. ``group_pattern`` is a regex
    whose first group names an image's subject (``r"^(T\\d+)_"`` for ``T19_Image3``) so the
    split never puts one subject in both sets.
    ``valid_pattern`` instead names the validation images explicitly (a regex searched in each
    image stem, e.g. ``r"^validation_"``); ``valid_fraction`` is then unused.
    """

    task: str = "generic"
    arch: str = "auto"
    in_channels: int = 0  # 0: from the data (1 for grayscale, 3 for RGB)
    size: int = 0
    scale: float = 0.0  # 0: auto, from the objects in the training masks
    batch_size: int = 0
    epochs: int = 10
    lr: float = 1e-3
    weight_decay: float = 1e-4
    loss: str = "ce_dice"
    positive_fraction: float = 0.5
    crops_per_image: int = 0  # 0: auto, from the training images' size at the model's scale
    valid_fraction: float = 0.2
    group_pattern: str | None = None
    valid_pattern: str | None = None  # regex: images whose stem matches form the validation set
    seed: int = 0
    device: str = "auto"
    mixed_precision: bool = True
    augment: bool = True
    # zoom augmentation draws factors in [1 / scale_jitter, scale_jitter] (1: none)
    scale_jitter: float = 1.25
    pretrained_weights: str | None = None  # local torchvision ResNet state dict; never downloaded
    threshold: float = 0.5
    checkpoint_path: str | None = None  # best model is written here (atomically) as it improves

    def __post_init__(self) -> None:
        self._check_choice("task", TASKS)
        self._check_choice("arch", ARCHS)
        self._check_choice("loss", LOSSES)
        self._check(self.in_channels in (0, 1, 3), "in_channels", "must be 0 (auto), 1 or 3")
        self._check(isinstance(self.size, int) and (self.size == 0 or (self.size >= 32 and self.size % 32 == 0)),
                    "size", "must be 0 (auto) or a multiple of 32, at least 32")
        self._check_range("scale", 0, 4)
        self._check(isinstance(self.batch_size, int) and self.batch_size >= 0, "batch_size",
                    "must be 0 (auto) or a positive integer")
        self._check(isinstance(self.epochs, int) and self.epochs >= 1, "epochs", "must be an integer >= 1")
        self._check_range("lr", 0, 1, low_open=True)
        self._check_range("weight_decay", 0, 1)
        self._check_range("positive_fraction", 0, 1)
        self._check(isinstance(self.crops_per_image, int) and self.crops_per_image >= 0,
                    "crops_per_image", "must be 0 (auto) or a positive integer")
        self._check_range("valid_fraction", 0, 1, low_open=True, high_open=True)
        self._check_range("threshold", 0, 1, low_open=True, high_open=True)
        self._check_range("scale_jitter", 1, 4)
        if self.group_pattern is not None:
            import re

            try:
                compiled = re.compile(self.group_pattern)
            except re.error as exc:
                self._check(False, "group_pattern", f"is not a valid regex ({exc})")
            else:
                self._check(compiled.groups >= 1, "group_pattern",
                            "needs one capture group naming the subject, e.g. r'^(T\\d+)_'")
        if self.valid_pattern is not None:
            import re

            try:
                re.compile(self.valid_pattern)
            except re.error as exc:
                self._check(False, "valid_pattern", f"is not a valid regex ({exc})")


@dataclass(frozen=True)
class TransferConfig(ConfigBase):
    """Transfer a pretrained model's encoder into a new U-Net and fine-tune it in two stages.

    Stage 1 trains ``freeze_epochs`` with the encoder frozen; stage 2 trains ``unfreeze_epochs``
    with discriminative learning rates ``slice(lr / lr_divisor, lr)``. The default 2 + 8 epochs is
    the 10 epochs of a scratch run (BENCHMARKS.md: with a full training set, 2 + 4 lost 0.16 Dice
    on held-out mice in one split and tied in the other). ``compare_scratch`` also trains the same
    architecture from random init on the same split, seed and epoch count. ``copy_stages`` < 4
    copies only the base encoder's stem and first stages; the later ones start random and learn
    with the decoder (stage 1 freezes only what was copied).
    """

    base_model: str = ""
    train: TrainConfig = field(default_factory=lambda: TrainConfig(task="glomeruli"))
    freeze_epochs: int = 2
    unfreeze_epochs: int = 8
    lr_divisor: float = 10.0
    copy_stages: int = 4  # base encoder stages copied after its stem; the rest start random
    compare_scratch: bool = False

    def __post_init__(self) -> None:
        self._check(bool(self.base_model), "base_model", "give the path of a pretrained EQ model file")
        self._check(isinstance(self.freeze_epochs, int) and self.freeze_epochs >= 0,
                    "freeze_epochs", "must be an integer >= 0")
        self._check(isinstance(self.unfreeze_epochs, int) and self.unfreeze_epochs >= 0,
                    "unfreeze_epochs", "must be an integer >= 0")
        self._check(self.freeze_epochs + self.unfreeze_epochs >= 1, "unfreeze_epochs",
                    "freeze_epochs + unfreeze_epochs must be at least 1")
        self._check_range("lr_divisor", 1)
        self._check(isinstance(self.copy_stages, int) and 0 <= self.copy_stages <= 4,
                    "copy_stages", "must be an integer from 0 (the stem only) to 4 (the whole "
                    "encoder)")
