"""Read and write images, stacks and masks: the only place EQ decodes image files.

Formats are recognised by their content (signature bytes), not their suffix: TIFF (tifffile),
PNG and JPEG (Pillow).

Normalised axes returned by :func:`read_image` (and :func:`open_image_lazy`):

==============  ==========================================================================
``(Y, X)``      grayscale; 8-bit stays uint8, 16-bit stays uint16, float stays float32/64
``(Y, X, 3)``   RGB; alpha is dropped (RGBA, LA -> gray); palette and CMYK/YCbCr -> RGB
``(Z, Y, X)``   grayscale stack (TIFF); every non-spatial axis (Z, T, pages) is flattened to Z
``(Z, Y, X, 3)`` RGB stack (TIFF)
==============  ==========================================================================

Pillow's 1-bit images become uint8 0/255. JPEG orientation tags are ignored: pixels stay in the
stored grid so that masks drawn on them line up. Masks (:func:`read_mask`) keep palette
*indices* rather than colours, and RGB masks are decoded by colour (black = background).

Every problem with a file raises :class:`~eq_engine.errors.DataError` naming the file: missing,
empty, unknown format, corrupt or truncated, float data with NaN/Inf, a non-binary mask.
Writers are atomic: a file appears complete under its final name, or not at all.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError
from . import tiff
from .atomic import atomic_path

log = logging.getLogger(__name__)

TIFF_SUFFIXES = (".tif", ".tiff")
PNG_SUFFIXES = (".png",)
JPEG_SUFFIXES = (".jpg", ".jpeg")
IMAGE_SUFFIXES = TIFF_SUFFIXES + PNG_SUFFIXES + JPEG_SUFFIXES
_FORMAT_OF_SUFFIX = {**dict.fromkeys(TIFF_SUFFIXES, "tiff"), ".png": "png",
                     **dict.fromkeys(JPEG_SUFFIXES, "jpeg")}
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_PIL_RGB_MODES = {"RGB", "RGBA", "RGBX", "RGBa", "CMYK", "YCbCr", "LAB", "HSV", "P", "PA"}
_PIL_DTYPES = {"1": "uint8", "L": "uint8", "LA": "uint8", "La": "uint8", "I": "int32",
               "F": "float32", "I;16": "uint16", "I;16L": "uint16", "I;16B": "uint16",
               "I;16N": "uint16"}


@dataclass(frozen=True)
class ImageInfo:
    """What :func:`read_image` would return, learnt from the file header without decoding."""

    path: Path
    format: str  # "tiff" | "png" | "jpeg"
    shape: tuple[int, ...]  # normalised, as read_image returns it
    dtype: np.dtype
    rgb: bool

    @property
    def spatial_shape(self) -> tuple[int, ...]:
        """(Y, X) or (Z, Y, X): the shape a matching mask must have."""
        return self.shape[:-1] if self.rgb else self.shape


def image_format(path: str | os.PathLike) -> str:
    """``"tiff"``, ``"png"`` or ``"jpeg"`` from the file's signature; DataError otherwise."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: file not found")
    if path.is_dir():
        raise DataError(f"{path}: is a folder, not an image file")
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise DataError(f"{path}: cannot open ({exc.strerror or exc})") from exc
    if not head:
        raise DataError(f"{path}: empty file (0 bytes)")
    if head[:4] in _TIFF_MAGIC:
        return "tiff"
    if head == _PNG_MAGIC:
        return "png"
    if head[:3] == b"\xff\xd8\xff":
        return "jpeg"
    suffix = path.suffix.lower()
    if suffix not in _FORMAT_OF_SUFFIX:
        raise DataError(f"{path}: unknown image format {suffix or '(no suffix)'!r}; "
                        "EQ reads TIFF (.tif, .tiff), PNG (.png) and JPEG (.jpg, .jpeg)")
    kind = _FORMAT_OF_SUFFIX[suffix].upper()
    raise DataError(f"{path}: not a valid {kind} file (wrong signature bytes): "
                    "the file is corrupt or is not an image")


def image_info(path: str | os.PathLike) -> ImageInfo:
    """Shape, dtype and format from the header, plus a cheap truncation check (no decoding)."""
    path = Path(path)
    fmt = image_format(path)
    if fmt == "tiff":
        shape, dtype, rgb = tiff.tiff_info(path)
        return ImageInfo(path, fmt, shape, dtype, rgb)
    with _pil_open(path, fmt) as im:
        mode, (width, height) = im.mode, im.size
    if not _has_end_marker(path, fmt):
        read_image(path)  # no end marker: decode to tell truncation from trailing bytes
    rgb = mode in _PIL_RGB_MODES
    dtype = np.dtype("uint8" if rgb else _PIL_DTYPES.get(mode, "uint8"))
    return ImageInfo(path, fmt, (height, width, 3) if rgb else (height, width), dtype, rgb)


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Decode a whole image with normalised axes (see the module docstring)."""
    path = Path(path)
    fmt = image_format(path)
    if fmt == "tiff":
        image, _ = tiff.read_tiff(path)
    else:
        with _pil_open(path, fmt) as im:
            image = _pil_image_array(im, path)
    _check_finite(image, path)
    return image


def open_image_lazy(path: str | os.PathLike):
    """Array-like (``.shape``, ``.dtype``, slicing) that reads pixels only when sliced.

    TIFFs whose data is one uncompressed block come back as a read-only ``numpy.memmap`` view;
    other TIFFs as a :class:`~eq_engine.io.tiff.LazyTiff` that decodes only the pages and
    tiles/strips a slice touches. PNG/JPEG cannot be decoded partially and are read whole, as
    are TIFF layouts the lazy reader does not cover (channels stored as separate pages). Axes
    are normalised as by :func:`read_image`; NaN is not checked (that would read everything).
    """
    path = Path(path)
    if image_format(path) == "tiff":
        lazy = tiff.open_tiff_lazy(path)
        if lazy is not None:
            return lazy
        log.info("%s: TIFF layout not readable lazily; loading it whole", path)
    return read_image(path)


def read_mask(path: str | os.PathLike, *, binary: bool = True) -> np.ndarray:
    """Read a mask file as a bool array (``binary=True``) or int32 labels (``binary=False``).

    0 is background. Gray files keep their values (0/1, 0/255, label ids); palette files give
    their palette indices; RGB files that are gray in disguise (R=G=B) are read as gray, other RGB
    files give one label per colour (black = 0, others 1..n by colour value). A binary mask has at
    most two values, one of them 0; any other value is foreground.
    """
    path = Path(path)
    fmt = image_format(path)
    if fmt == "tiff":
        values, rgb = tiff.read_tiff(path)
    else:
        with _pil_open(path, fmt) as im:
            values = _pil_mask_array(im, path)
        rgb = values.ndim == 3
    if rgb:
        values = _colour_labels(values)
    hint = "; JPEG compression adds stray values: save masks as PNG or TIFF" if fmt == "jpeg" else ""
    return _to_mask(values, binary, str(path), hint)


def to_mask(values: np.ndarray, *, binary: bool = True, source: str = "mask") -> np.ndarray:
    """Convert a gray/label array to a bool mask or int32 labels (rules as :func:`read_mask`);
    ``source`` names the data in error messages."""
    return _to_mask(np.asarray(values), binary, source, "")


def _to_mask(values: np.ndarray, binary: bool, source: str, hint: str) -> np.ndarray:
    if values.dtype.kind == "f":
        if not np.isfinite(values).all():
            raise DataError(f"{source}: mask contains NaN or infinite values")
        if not np.array_equal(values, np.round(values)):
            raise DataError(f"{source}: mask holds fractional values; threshold it first")
    if not binary:
        if values.size and (values.min() < 0 or values.max() > np.iinfo(np.int32).max):
            raise DataError(f"{source}: label values must lie in 0..2**31-1")
        return values.astype(np.int32)
    found = distinct_values(values)
    if len(found) > 2:
        shown = ", ".join(str(v) for v in found[:5]) + (", ..." if len(found) > 5 else "")
        raise DataError(f"{source}: mask has {len(found)} distinct values ({shown}) but a binary "
                        f"mask has 0 (background) and at most one other value; fix or re-export the mask "
                        f"(`eq data check` lists every such file){hint}")
    if len(found) == 2 and found[0] != 0:
        raise DataError(f"{source}: mask has values {found[0]} and {found[1]} but no 0 "
                        "background; EQ treats 0 as background")
    return values != 0


def distinct_values(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values; fast (bincount) for bool and small non-negative integers."""
    values = np.asarray(values)
    if values.size == 0:
        return np.empty(0, values.dtype)
    if values.dtype == bool:
        return np.array([v for v in (False, True) if (values == v).any()])
    if values.dtype.kind in "ui" and values.min() >= 0 and values.max() < 2**24:
        return np.flatnonzero(np.bincount(values.ravel())).astype(values.dtype)
    return np.unique(values)


def write_mask(path: str | os.PathLike, mask: np.ndarray, *, overwrite: bool = True) -> Path:
    """Write a bool mask as 0/255 or integer labels, as TIFF or PNG (chosen by suffix), atomically.

    Labels are stored as uint8/uint16 when they fit, else uint32 (TIFF only). PNG holds 2D masks
    only; stacks need .tif.
    """
    path = Path(path)
    mask = np.asarray(mask)
    if mask.dtype == bool:
        data = mask.astype(np.uint8) * np.uint8(255)
    elif mask.dtype.kind in "ui":
        if mask.size and mask.min() < 0:
            raise DataError(f"{path}: mask has negative values; labels must be >= 0")
        top = int(mask.max()) if mask.size else 0
        dtype = np.uint8 if top <= 255 else np.uint16 if top <= 65535 else np.uint32
        data = mask.astype(dtype)
    else:
        raise DataError(f"{path}: cannot write a {mask.dtype} mask; threshold probabilities "
                        "into a bool mask first")
    if path.suffix.lower() in JPEG_SUFFIXES:
        raise DataError(f"{path}: JPEG is lossy and would corrupt a mask; use .png or .tif")
    return write_image(path, data, overwrite=overwrite)


def write_image(path: str | os.PathLike, image: np.ndarray, *, overwrite: bool = True) -> Path:
    """Write an image with normalised axes atomically; the format follows the suffix.

    TIFF takes any dtype and (Y,X), (Y,X,3), (Z,Y,X), (Z,Y,X,3) (zlib-compressed, axes recorded).
    PNG takes 2D uint8/uint16 or RGB uint8; JPEG 2D or RGB uint8 (quality 95). bool -> 0/255.
    """
    path = Path(path)
    image = np.asarray(image)
    if image.dtype == bool:
        image = image.astype(np.uint8) * np.uint8(255)
    suffix = path.suffix.lower()
    if suffix not in IMAGE_SUFFIXES:
        raise DataError(f"{path}: unknown image format {suffix!r}; write .tif, .png or .jpg")
    rgb = image.ndim in (3, 4) and image.shape[-1] == 3
    if image.ndim not in (2, 3, 4) or (image.ndim == 4 and not rgb):
        raise DataError(f"{path}: cannot write an array of shape {image.shape}; expected "
                        "(Y,X), (Y,X,3), (Z,Y,X) or (Z,Y,X,3)")
    try:
        with atomic_path(path, overwrite=overwrite) as tmp:
            if suffix in TIFF_SUFFIXES:
                _write_tiff(tmp, image, rgb)
            else:
                _write_pil(tmp, image, rgb, "PNG" if suffix == ".png" else "JPEG", path)
    except FileExistsError as exc:
        raise DataError(f"{path}: exists; pass overwrite=True to replace it") from exc
    except OSError as exc:
        raise DataError(f"{path}: cannot write ({exc})") from exc
    return path


def _write_tiff(tmp: Path, image: np.ndarray, rgb: bool) -> None:
    import tifffile

    axes = ("YX" if image.ndim - rgb == 2 else "ZYX") + ("S" if rgb else "")
    tifffile.imwrite(tmp, image, photometric="rgb" if rgb else "minisblack",
                     compression="zlib", metadata={"axes": axes})


def _write_pil(tmp: Path, image: np.ndarray, rgb: bool, fmt: str, path: Path) -> None:
    from PIL import Image

    allowed = ("uint8", "uint16") if fmt == "PNG" and not rgb else ("uint8",)
    if image.ndim != (3 if rgb else 2) or image.dtype.name not in allowed:
        raise DataError(f"{path}: {fmt} holds 2D {'/'.join(allowed)} or RGB uint8 images, not "
                        f"{image.dtype} {image.shape}; write a .tif instead")
    options = {"quality": 95} if fmt == "JPEG" else {}
    Image.fromarray(np.ascontiguousarray(image)).save(tmp, format=fmt, **options)


def _pil_open(path: Path, fmt: str):
    from PIL import Image

    try:
        im = Image.open(path, formats=[fmt.upper()])
    except Image.DecompressionBombError as exc:
        raise DataError(f"{path}: too many pixels for Pillow's safety limit; save it as TIFF") from exc
    except Exception as exc:  # Pillow raises OSError/SyntaxError/ValueError for bad headers
        raise DataError(f"{path}: corrupt {fmt.upper()} header ({exc})") from exc
    return im


def _decode(im, path: Path) -> None:
    try:
        im.load()
    except Exception as exc:  # truncated streams raise OSError, SyntaxError, EOFError, ...
        raise DataError(f"{path}: corrupt or truncated {im.format or 'image'} file ({exc})") from exc


def _pil_image_array(im, path: Path) -> np.ndarray:
    _decode(im, path)
    mode = im.mode
    if mode in _PIL_RGB_MODES and mode not in ("RGB", "RGBA", "RGBX", "RGBa"):
        im = im.convert("RGB")
    elif mode in ("1", "LA", "La"):
        im = im.convert("L")
    array = np.asarray(im)
    if array.ndim == 3:
        array = array[..., :3]
    return array.astype(array.dtype.newbyteorder("="), copy=False)


def _pil_mask_array(im, path: Path) -> np.ndarray:
    _decode(im, path)
    if im.mode in ("P", "PA", "L", "LA", "1"):
        array = np.asarray(im)  # palette -> indices
        return array[..., 0] if array.ndim == 3 else array
    return _pil_image_array(im, path)


def _colour_labels(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) colours -> labels: gray in disguise keeps its value, else black 0, others 1..n."""
    r, g, b = (rgb[..., i] for i in range(3))
    if np.array_equal(r, g) and np.array_equal(r, b):
        return r
    codes = (r.astype(np.int64) << 32) | (g.astype(np.int64) << 16) | b.astype(np.int64)
    colours, labels = np.unique(codes, return_inverse=True)
    if colours[0] != 0:
        labels = labels + 1  # no black: every colour is an object
    return labels.reshape(codes.shape).astype(np.int32)


def _has_end_marker(path: Path, fmt: str) -> bool:
    with open(path, "rb") as fh:
        fh.seek(max(0, path.stat().st_size - 1024))
        tail = fh.read()
    return (b"IEND" in tail) if fmt == "png" else (b"\xff\xd9" in tail)


def _check_finite(image: np.ndarray, path: Path) -> None:
    if image.dtype.kind != "f" or np.isfinite(image).all():
        return
    n_nan, n_inf = int(np.isnan(image).sum()), int(np.isinf(image).sum())
    raise DataError(f"{path}: float image contains {n_nan} NaN and {n_inf} infinite values; "
                    "replace them (e.g. with 0) before using it")
