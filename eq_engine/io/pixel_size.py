"""The physical pixel size (µm per pixel) a TIFF records, the one reader of it in EQ.

Sources, most specific first: OME-XML ``PhysicalSizeX`` (with its unit), an Aperio SVS
description's ``MPP``, ImageJ's ``unit`` with the resolution tags, and the TIFF resolution
tags with a centimetre or inch unit. A resolution coarser than ``MAX_PLAUSIBLE_UM`` per pixel is
a screen default (72, 96 or 300 dpi is 85-353 µm/px), not a microscope's, and counts as unknown.
PNG and JPEG fields record no usable pixel size (their density is a print setting).
"""

from __future__ import annotations

import logging
import os
import xml.etree.ElementTree as ET
from pathlib import Path

log = logging.getLogger(__name__)

_UM_PER_UNIT = {"pm": 1e-6, "nm": 1e-3, "µm": 1.0, "um": 1.0, "\u03bcm": 1.0, "micron": 1.0,
                "microns": 1.0, "mm": 1e3, "cm": 1e4, "m": 1e6}
_RESOLUTION_UNIT_UM = {2: 25400.0, 3: 10000.0}  # TIFF ResolutionUnit: inch, centimetre
MAX_PLAUSIBLE_UM = 10.0  # µm/px; coarser is a dpi default, not a microscope's sampling
TIFF_SUFFIXES = (".tif", ".tiff", ".btf", ".tf8", ".svs", ".ndpi", ".scn", ".bif")


def file_pixel_size(path: str | os.PathLike) -> float | None:
    """µm per pixel recorded in an image file; None when it records none (or is not a TIFF)."""
    path = Path(path)
    if path.suffix.lower() not in TIFF_SUFFIXES or not path.is_file():
        return None
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            return pixel_size_um(tif)
    except Exception as exc:  # unreadable: the image readers report why, with the file name
        log.debug("%s: no pixel size (%s)", path, exc)
        return None


def pixel_size_um(tif) -> float | None:
    """µm per level-0 pixel from an open ``tifffile.TiffFile`` (None when the file omits it)."""
    if tif.is_ome and tif.ome_metadata:
        size = _ome_pixel_size(tif.ome_metadata)
        if size:
            return size
    page = tif.pages.first
    if tif.is_svs:
        mpp = _svs_mpp(page.description)
        if mpp:
            return mpp
    size = _resolution_pixel_size(page, (tif.imagej_metadata or {}) if tif.is_imagej else {})
    return size if size and size <= MAX_PLAUSIBLE_UM else None


def _svs_mpp(description: str) -> float | None:
    """The ``MPP = 0.2520`` field of an Aperio description (fields are ``|``-separated)."""
    for field in description.split("|")[1:]:
        key, _, value = field.partition("=")
        if key.strip() == "MPP":
            try:
                return float(value)
            except ValueError:
                log.warning("Aperio MPP %r is not a number; pixel size unknown", value)
    return None


def _ome_pixel_size(xml: str) -> float | None:
    try:
        root = ET.fromstring(xml)
    except ET.ParseError:
        log.warning("OME metadata is not valid XML; the pixel size is unknown")
        return None
    for element in root.iter():
        if element.tag.rsplit("}", 1)[-1] == "Pixels" and element.get("PhysicalSizeX"):
            unit = element.get("PhysicalSizeXUnit", "µm")
            if unit not in _UM_PER_UNIT:
                log.warning("OME PhysicalSizeXUnit %r is not a length; pixel size unknown", unit)
                return None
            return float(element.get("PhysicalSizeX")) * _UM_PER_UNIT[unit]
    return None


def _resolution_pixel_size(page, imagej: dict) -> float | None:
    tag, unit = page.tags.get("XResolution"), page.tags.get("ResolutionUnit")
    unit_um = _UM_PER_UNIT.get(str(imagej.get("unit", "")).strip().lower())
    if unit_um is None:
        unit_um = _RESOLUTION_UNIT_UM.get(int(unit.value) if unit else 2)
    if tag is None or unit_um is None:
        return None
    num, den = tag.value
    if not num or not den or (num, den) == (1, 1):
        return None  # (1, 1) is tifffile's default: no resolution recorded
    return unit_um * den / num
