"""Which glomeruli may grade an image: drop those cut by the border, fused and fragments.

Predicted masks bring objects that are not one whole glomerulus: a glomerulus cut by the field
edge (its tuft is partial), two touching glomeruli segmented as one (large, concave), and small
pieces (a tubule fleck, half a tuft). Their openness is not a glomerulus' openness, so they
must not enter the image grade. Every row keeps its measurements and says whether it was
``used`` and, if not, ``why``; sizes are judged against the median glomerulus of the run.
"""

from __future__ import annotations

import math

import numpy as np

from .tables import QuantTable

# Defaults checked against the true masks of kidney_preeclampsia_mouse_he: every true glomerulus
# has solidity >= 0.89 and area between 0.17x and 3.3x the median.
FRAGMENT_FRACTION = 0.15  # area below this x the median glomerulus area: a fragment
FUSED_AREA_FACTOR = 3.5  # area above this x the median: two or more glomeruli fused
FUSED_SOLIDITY = 0.85  # convexity below this: a concave blob, typically two fused glomeruli


def flag_glomeruli(
    table: QuantTable, *, exclude_border: bool = True,
    fragment_fraction: float = FRAGMENT_FRACTION, fused_area_factor: float = FUSED_AREA_FACTOR,
    fused_solidity: float = FUSED_SOLIDITY,
) -> QuantTable:
    """``table`` with ``used`` (bool), ``why`` (reason text, empty when used), and
    ``excluded``/``exclude_reason`` set to match (grading and aggregation skip excluded rows)."""
    if not table.rows:
        return table
    area = table.column("area")
    border = np.array([bool(r.get("touches_border", False)) for r in table.rows])
    inner = area[~border & np.isfinite(area)]
    median = float(np.median(inner if inner.size else area))
    reasons = []
    for row, a, cut in zip(table.rows, area, border, strict=True):
        why = []
        if cut and exclude_border:
            why.append("cut by the image border")
        if math.isfinite(a) and a < fragment_fraction * median:
            why.append(f"fragment (area {a / median:.2f}x the median glomerulus)")
        solidity = float(row.get("solidity", 1.0))
        if math.isfinite(a) and a > fused_area_factor * median:
            why.append(f"fused (area {a / median:.1f}x the median glomerulus)")
        elif solidity < fused_solidity:
            why.append(f"fused or ragged (solidity {solidity:.2f} < {fused_solidity:g})")
        reasons.append("; ".join(why))
    return table.with_columns({
        "used": [not w for w in reasons], "why": reasons,
        "excluded": [bool(w) for w in reasons],
        "exclude_reason": [w.split(" (")[0].split(";")[0] for w in reasons],
    })


def usage_summary(table: QuantTable) -> dict[str, int]:
    """Counts of used glomeruli and of each reason for leaving one out."""
    out = {"glomeruli": len(table.rows), "used": 0}
    for row in table.rows:
        if row.get("used", not row.get("excluded", False)):
            out["used"] += 1
            continue
        for reason in str(row.get("why") or row.get("exclude_reason") or "excluded").split("; "):
            key = reason.split(" (")[0]
            out[key] = out.get(key, 0) + 1
    return out
