"""The Train dock's config form: user input -> TrainConfig / TransferConfig (validated)."""

from __future__ import annotations

from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLineEdit,
    QSpinBox,
    QWidget,
)
from superqt import QCollapsible

from eq_engine.config import ARCHS, LOSSES, TrainConfig, TransferConfig

MODES = {  # label -> (mode key, task)
    "Mitochondria pretraining (EM)": ("pretrain", "mitochondria"),
    "Glomeruli transfer (from a base model)": ("transfer", "glomeruli"),
    "From scratch": ("scratch", "glomeruli"),
}


def _spin(low: int, high: int, value: int, *, auto: bool = False) -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setValue(value)
    if auto:
        box.setSpecialValueText("auto")
    return box


def _dspin(low: float, high: float, value: float, *, decimals: int = 3, step: float = 0.05):
    box = QDoubleSpinBox()
    box.setDecimals(decimals)
    box.setRange(low, high)
    box.setSingleStep(step)
    box.setValue(value)
    return box


class TrainForm(QWidget):
    """Main fields in front, the rest in a collapsible "advanced" group."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        d = TrainConfig()
        t = TransferConfig(base_model="unused")
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.epochs = _spin(1, 10_000, d.epochs)
        self.arch = QComboBox()
        self.arch.addItems(ARCHS)
        self.size = _spin(0, 4096, 0, auto=True)
        self.size.setSingleStep(32)
        self.batch_size = _spin(0, 1024, 0, auto=True)
        self.lr = _dspin(1e-6, 1.0, d.lr, decimals=6, step=1e-4)
        self.scale = _dspin(0.0, 4.0, d.scale, decimals=3, step=0.05)
        self.scale.setSpecialValueText("auto")  # 0: from the objects in the training masks
        form.addRow("epochs", self.epochs)
        form.addRow("encoder", self.arch)
        form.addRow("crop size (px)", self.size)
        form.addRow("batch size", self.batch_size)
        form.addRow("learning rate", self.lr)
        form.addRow("scale", self.scale)

        self.transfer_box = QGroupBox("transfer")
        tform = QFormLayout(self.transfer_box)
        self.freeze_epochs = _spin(0, 10_000, t.freeze_epochs)
        self.unfreeze_epochs = _spin(0, 10_000, t.unfreeze_epochs)
        self.compare_scratch = QCheckBox("compare with scratch (same split, seed, epochs)")
        tform.addRow("frozen-encoder epochs", self.freeze_epochs)
        tform.addRow("fine-tune epochs", self.unfreeze_epochs)
        tform.addRow(self.compare_scratch)
        form.addRow(self.transfer_box)

        self.advanced = QCollapsible("Advanced")
        inner = QWidget()
        aform = QFormLayout(inner)
        self.loss = QComboBox()
        self.loss.addItems(LOSSES)
        self.loss.setCurrentText(d.loss)
        self.crops_per_image = _spin(0, 10_000, d.crops_per_image, auto=True)
        self.positive_fraction = _dspin(0, 1, d.positive_fraction)
        self.valid_fraction = _dspin(0.01, 0.99, d.valid_fraction)
        self.group_pattern = QLineEdit()
        self.group_pattern.setPlaceholderText(r"subject regex, e.g. ^(T\d+)_")
        self.device = QComboBox()
        self.device.addItems(["auto", "cpu", "cuda", "mps"])
        self.seed = _spin(0, 2**31 - 1, d.seed)
        self.augment = QCheckBox()
        self.augment.setChecked(d.augment)
        self.mixed_precision = QCheckBox()
        self.mixed_precision.setChecked(d.mixed_precision)
        self.weight_decay = _dspin(0, 1, d.weight_decay, decimals=6, step=1e-4)
        self.lr_divisor = _dspin(1, 1e4, t.lr_divisor, decimals=1, step=1)
        self.copy_stages = _spin(0, 4, t.copy_stages)
        self.copy_stages.setToolTip("transfer: the base encoder's stem and its first N of 4 "
                                    "ResNet stages are copied; the rest start random")
        for label, widget in (("loss", self.loss), ("crops per image", self.crops_per_image),
                              ("positive crop fraction", self.positive_fraction),
                              ("validation fraction", self.valid_fraction),
                              ("subject pattern", self.group_pattern), ("device", self.device),
                              ("seed", self.seed), ("augment", self.augment),
                              ("mixed precision (GPU)", self.mixed_precision),
                              ("weight decay", self.weight_decay),
                              ("fine-tune lr divisor", self.lr_divisor),
                              ("copied encoder stages", self.copy_stages)):
            aform.addRow(label, widget)
        self.advanced.addWidget(inner)
        form.addRow(self.advanced)

    def _fields(self) -> dict:
        """Config field name -> its widget (the fields a profile may set)."""
        names = ("epochs", "arch", "size", "batch_size", "lr", "scale", "loss", "crops_per_image",
                 "positive_fraction", "valid_fraction", "group_pattern", "device", "seed",
                 "augment", "mixed_precision", "weight_decay", "freeze_epochs",
                 "unfreeze_epochs", "lr_divisor", "copy_stages", "compare_scratch")
        return {name: getattr(self, name) for name in names}

    def apply_profile(self, profile: dict) -> None:
        """Fill the form from a training profile (``train`` and ``transfer`` field values).

        ValueError names a field the form does not have; values are validated when a config
        is built from the form.
        """
        fields = self._fields()
        values = {**profile.get("train", {}), **profile.get("transfer", {})}
        unknown = sorted(set(values) - set(fields))
        if unknown:
            raise ValueError(f"profile {profile.get('name')!r} sets unknown fields {unknown}; "
                             f"known: {sorted(fields)}")
        for name, value in values.items():
            widget = fields[name]
            if isinstance(widget, QComboBox):
                widget.setCurrentText(str(value))
            elif isinstance(widget, QCheckBox):
                widget.setChecked(bool(value))
            elif isinstance(widget, QLineEdit):
                widget.setText(value or "")
            else:
                widget.setValue(value)

    def set_mode(self, mode: str) -> None:
        self.transfer_box.setVisible(mode == "transfer")
        self.epochs.setEnabled(mode != "transfer")

    def total_epochs(self, mode: str) -> int:
        if mode != "transfer":
            return self.epochs.value()
        n = self.freeze_epochs.value() + self.unfreeze_epochs.value()
        return 2 * n if self.compare_scratch.isChecked() else n

    def train_config(self, task: str, *, checkpoint_path: str | None = None) -> TrainConfig:
        """The form as a TrainConfig; raises ConfigError naming a bad field."""
        return TrainConfig(
            task=task, arch=self.arch.currentText(), size=self.size.value(),
            scale=round(self.scale.value(), 3), batch_size=self.batch_size.value(),
            epochs=self.epochs.value(), lr=self.lr.value(), weight_decay=self.weight_decay.value(),
            loss=self.loss.currentText(), positive_fraction=self.positive_fraction.value(),
            crops_per_image=self.crops_per_image.value(),
            valid_fraction=self.valid_fraction.value(),
            group_pattern=self.group_pattern.text().strip() or None, seed=self.seed.value(),
            device=self.device.currentText(), mixed_precision=self.mixed_precision.isChecked(),
            augment=self.augment.isChecked(), checkpoint_path=checkpoint_path)

    def transfer_config(self, base_model: str, *, checkpoint_path: str | None = None):
        return TransferConfig(
            base_model=base_model, train=self.train_config("glomeruli",
                                                           checkpoint_path=checkpoint_path),
            freeze_epochs=self.freeze_epochs.value(), unfreeze_epochs=self.unfreeze_epochs.value(),
            lr_divisor=self.lr_divisor.value(), copy_stages=self.copy_stages.value(),
            compare_scratch=self.compare_scratch.isChecked())
