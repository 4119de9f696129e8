"""Make EQ's real sample tissue: a few AIDPATH human PAS tiles, down-sized and re-encoded.

Source: ../shared/data/kidney_aidpath_human_pas (Bueno et al. 2020, doi:10.17632/k7nvtgn2x6.3,
CC BY 4.0). Changes: down-sized 1024 -> 512 px (Lanczos for images, nearest for masks), images
re-encoded as JPEG (quality 90), masks as 1-bit PNG. Run from the repository root:

    python docs/make_sample_tissue.py [--data ../shared/data/kidney_aidpath_human_pas]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

TILES = ("10063", "10177", "10183", "10224")  # one to two glomeruli each, different sizes
SIZE = 512
OUT = Path(__file__).resolve().parents[1] / "resources" / "samples" / "aidpath_pas"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path,
                        default=Path("../shared/data/kidney_aidpath_human_pas"))
    args = parser.parse_args()
    for stem in TILES:
        image = Image.open(args.data / "images" / f"{stem}.png").convert("RGB")
        image.resize((SIZE, SIZE), Image.Resampling.LANCZOS).save(
            OUT / "images" / f"{stem}.jpg", quality=90, optimize=True)
        mask = Image.open(args.data / "masks" / f"{stem}.png").convert("L")
        small = np.asarray(mask.resize((SIZE, SIZE), Image.Resampling.NEAREST)) > 127
        Image.fromarray(small).save(OUT / "masks" / f"{stem}.png", optimize=True)
        print(stem, "written")


if __name__ == "__main__":
    main()
