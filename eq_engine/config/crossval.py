"""Cross-validation config: folds by subject, the training recipe, and how folds are scored."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .base import ConfigBase
from .inference import EvalConfig, PredictConfig
from .train import TrainConfig, TransferConfig

INNER_VALID = ("image", "subject")


@dataclass(frozen=True)
class CVConfig(ConfigBase):
    """Grouped cross-validation: each fold holds out whole subjects, trains, and scores them.

    ``group_pattern`` is a regex whose first group names an image's subject (``r"^(T\\d+)_"``).
    ``folds=0`` is leave-one-subject-out; ``folds=K`` deals the subjects into K folds. Each fold
    trains with ``train`` (from scratch) or, with ``base_model``, by encoder transfer
    (``freeze_epochs`` + ``unfreeze_epochs``, as ``eq train glomeruli``); ``compare_scratch``
    also trains from scratch on the same fold, seed and epochs. The training subjects' images
    are split again for best-epoch selection (``inner_valid``: by ``image``, or by ``subject``
    when there are enough); the held-out subjects are never seen before they are scored with
    ``evaluate``.
    """

    group_pattern: str = ""
    train: TrainConfig = field(default_factory=TrainConfig)
    folds: int = 0
    base_model: str = ""
    freeze_epochs: int = TransferConfig.freeze_epochs  # one default for eq train and eq cv
    unfreeze_epochs: int = TransferConfig.unfreeze_epochs
    lr_divisor: float = TransferConfig.lr_divisor
    copy_stages: int = TransferConfig.copy_stages
    compare_scratch: bool = False
    inner_valid: str = "image"
    evaluation: EvalConfig = field(default_factory=lambda: EvalConfig(n_overlays=2))
    prediction: PredictConfig = field(default_factory=PredictConfig)
    bootstrap: int = 2000  # resamples for the CI of the pooled held-out Dice
    only_folds: tuple = ()  # run just these fold indices (parallel runs; see merge_folders)
    # also write ensemble.json: the first arm's fold models as one model for new subjects
    ensemble: bool = False

    def __post_init__(self) -> None:
        self._check(bool(self.group_pattern), "group_pattern",
                    "give a regex whose first group names the subject, e.g. r'^(T\\d+)_'")
        try:
            groups = re.compile(self.group_pattern).groups
        except re.error as exc:
            groups = -1
            self._check(False, "group_pattern", f"is not a valid regex ({exc})")
        self._check(groups >= 1, "group_pattern",
                    "needs one capture group naming the subject, e.g. r'^(T\\d+)_'")
        self._check(isinstance(self.folds, int) and (self.folds == 0 or self.folds >= 2), "folds",
                    "must be 0 (leave one subject out) or an integer >= 2")
        self._check(not self.compare_scratch or bool(self.base_model), "compare_scratch",
                    "compares transfer with scratch: also give base_model (a mitochondria model)")
        self._check(isinstance(self.freeze_epochs, int) and self.freeze_epochs >= 0
                    and isinstance(self.unfreeze_epochs, int) and self.unfreeze_epochs >= 0
                    and self.freeze_epochs + self.unfreeze_epochs >= 1, "unfreeze_epochs",
                    "freeze_epochs and unfreeze_epochs must be integers >= 0 adding up to >= 1")
        self._check(isinstance(self.copy_stages, int) and 0 <= self.copy_stages <= 4,
                    "copy_stages", "must be an integer from 0 (the stem only) to 4")
        self._check_choice("inner_valid", INNER_VALID)
        self._check(isinstance(self.bootstrap, int) and self.bootstrap >= 0, "bootstrap",
                    "must be an integer >= 0 (0: no bootstrap interval)")
        self._check(all(isinstance(k, int) and k >= 0 for k in self.only_folds), "only_folds",
                    "must be fold indices (integers >= 0), e.g. (0, 2)")

    @property
    def arms(self) -> tuple[str, ...]:
        """The models each fold trains: ``scratch``, ``transfer``, or both."""
        if not self.base_model:
            return ("scratch",)
        return ("transfer", "scratch") if self.compare_scratch else ("transfer",)
