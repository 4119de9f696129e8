"""Result dataclasses of training and transfer learning (no torch import here)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class TrainResult:
    """What :func:`eq_engine.training.train` produced.

    ``model_path`` is the written model file (the best epoch's weights), or None when neither
    ``out`` nor ``config.checkpoint_path`` was given or no epoch finished. ``history`` has one
    dict per epoch (epoch, stage, train_loss, valid_loss, dice, iou, lr, seconds); ``best`` is
    the row of the best epoch by validation Dice. ``module`` is the trained torch module with the
    best weights loaded (None if no epoch finished).
    """

    model_path: Path | None
    metadata: dict
    history: list[dict]
    best: dict
    cancelled: bool
    seconds: float
    device: str
    module: Any = field(default=None, repr=False)


@dataclass
class CopyReport:
    """What transfer copied from the base model's encoder into the new U-Net.

    ``adapted`` lists tensors copied with a change (the first convolution between 1 and 3 input
    channels); ``skipped`` lists base-model tensors left behind, each with the reason.
    """

    copied: list[str] = field(default_factory=list)
    adapted: list[dict] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    base_model: str = ""

    def summary(self) -> str:
        lines = [f"encoder transfer from {self.base_model or 'base model'}: "
                 f"{len(self.copied)} tensors copied, {len(self.adapted)} adapted, "
                 f"{len(self.skipped)} skipped"]
        lines += [f"  adapted {a['name']}: {a['from']} -> {a['to']} ({a['how']})" for a in self.adapted]
        reasons: dict[str, int] = {}
        for s in self.skipped:
            reasons[s["reason"]] = reasons.get(s["reason"], 0) + 1
        lines += [f"  skipped {n} tensors: {reason}" for reason, n in sorted(reasons.items())]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"base_model": self.base_model, "copied": list(self.copied),
                "adapted": list(self.adapted), "skipped": list(self.skipped)}


@dataclass
class TransferResult:
    """Transfer training, and optionally the from-scratch baseline on the same split and seed.

    ``table`` has one row per epoch with both runs side by side (plus a final "best" row);
    ``table_text`` renders it for a terminal.
    """

    transfer: TrainResult
    scratch: TrainResult | None
    copy_report: CopyReport
    table: list[dict] = field(default_factory=list)
    table_text: str = ""


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "nan" if not math.isfinite(value) else f"{value:.4f}"
    return "-" if value is None else str(value)


def comparison_table(transfer: list[dict], scratch: list[dict] | None,
                     best: tuple[dict, dict | None]) -> tuple[list[dict], str]:
    """Side-by-side rows (epoch by epoch, then "best") and their text rendering."""
    scratch = scratch or []
    rows = []
    for i in range(max(len(transfer), len(scratch))):
        t = transfer[i] if i < len(transfer) else {}
        s = scratch[i] if i < len(scratch) else {}
        rows.append({"epoch": t.get("epoch", s.get("epoch")), "stage": t.get("stage"),
                     "transfer_valid_loss": t.get("valid_loss"), "transfer_dice": t.get("dice"),
                     "transfer_iou": t.get("iou"), "scratch_valid_loss": s.get("valid_loss"),
                     "scratch_dice": s.get("dice"), "scratch_iou": s.get("iou")})
    bt, bs = best[0] or {}, best[1] or {}
    rows.append({"epoch": "best", "stage": "", "transfer_valid_loss": bt.get("valid_loss"),
                 "transfer_dice": bt.get("dice"), "transfer_iou": bt.get("iou"),
                 "scratch_valid_loss": bs.get("valid_loss"), "scratch_dice": bs.get("dice"),
                 "scratch_iou": bs.get("iou")})
    cols = list(rows[0])
    cells = [cols] + [[_fmt(r[c]) for c in cols] for r in rows]
    widths = [max(len(row[j]) for row in cells) for j in range(len(cols))]
    text = "\n".join("  ".join(v.rjust(w) for v, w in zip(row, widths, strict=True)) for row in cells)
    return rows, text
