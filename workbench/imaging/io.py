"""Read and write image files safely: EXIF orientation, 16-bit, alpha, size limit, atomic saves.

Every panel and the command line load and save images through this module; it never imports Qt.

Arrays
------
:func:`read_image` returns a C-contiguous, writable array in RGB order (never BGR):

* ``(H, W)`` grey, ``(H, W, 3)`` RGB or ``(H, W, 4)`` RGBA (straight, not premultiplied, alpha);
* dtype ``uint8``, ``uint16`` (16-bit PNG, TIFF and PGM/PPM stay 16-bit) or ``float32``
  (floating-point TIFF and PFM).

Conventions for the modes a file may hold: grey + alpha becomes RGBA (R = G = B = grey), so an
alpha channel always sits in ``[..., 3]``; palette images become RGB, or RGBA when the palette has
transparency; CMYK and YCbCr become RGB (naive conversion, no ICC colour management); 1-bit images
become ``uint8`` 0/255. A grey PNG's single transparent key colour (``tRNS``) is ignored.
Multi-frame files (TIFF pages, animated WebP/PNG) give their first frame.

Decoders, and why
-----------------
Pillow opens every file first. It identifies the format from the content, reads the header (size,
mode, bit depth, EXIF) without decoding pixels, so the pixel limit is checked before any large
allocation. The pixels are then decoded by whichever library is correct for the file, and faster
where both are:

* JPEG and PNG: OpenCV (``cv2.imdecode``; EXIF orientation is left to us), faster than Pillow here
  (figures: ``tests/benchmarks/README.md``); JPEG decodes straight to RGB with ``IMREAD_COLOR_RGB``
  where OpenCV has it. PNG uses ``IMREAD_UNCHANGED``, which keeps 16-bit colour and alpha that
  Pillow reduces to 8 bits. ``cv2.imread`` (and ``imdecode`` in some OpenCV versions) pads a
  truncated JPEG with grey instead of failing, so a JPEG that does not end with its end-of-image
  marker is decoded by Pillow instead, which raises on truncation. A PNG is checked by walking its
  chunk headers (seeks only) up to ``IEND``.
* TIFF: Pillow, except 16-bit/float colour, which Pillow cannot hold; those go to OpenCV after the
  TIFF orientation tag is reset to 1 in the in-memory copy, because OpenCV's TIFF decoder applies
  orientations 2-4 itself and fails on 5-8. 16- and 64-bit float samples (and layouts OpenCV
  cannot decode) are read with tifffile, installed with scikit-image, as float32. Other variants
  (signed or 32-bit integers, CMYK, ...) are refused with the variant named.
* WebP, BMP, PGM/PPM/PFM: Pillow, except 16-bit colour PPM (OpenCV, to keep 16 bits).

EXIF orientation (all eight values) is then applied once, by this module, for every format.

Pillow's own decompression-bomb limit (a process-wide setting) is lifted only around the header
parse, under a lock, so that the ``max_pixels`` argument is the single limit that applies.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import secrets
import stat
import struct
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from workbench.errors import ImageReadError, ImageWriteError, InputError

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "SUPPORTED_READ_EXTENSIONS",
    "SUPPORTED_WRITE_EXTENSIONS",
    "ImageInfo",
    "image_info",
    "read_image",
    "to_uint8_display",
    "write_image",
]

PathLike = str | os.PathLike[str]

#: Largest image :func:`read_image` decodes by default: 16384 x 16384 pixels (about 268 Mpx,
#: ~805 MB as 8-bit RGB). Checked against the header before any pixel is decoded.
DEFAULT_MAX_PIXELS: int = 16384 * 16384

#: Extensions offered in "Open" dialogs. The format is recognised from the content, not the name.
SUPPORTED_READ_EXTENSIONS: tuple[str, ...] = (
    ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".pgm", ".ppm",
)
#: Extensions :func:`write_image` accepts; the extension chooses the format.
SUPPORTED_WRITE_EXTENSIONS: tuple[str, ...] = SUPPORTED_READ_EXTENSIONS

_PIL_FORMATS = ("PNG", "JPEG", "TIFF", "WEBP", "BMP", "PPM")
_TIFF_MAGICS = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
_JPEG_EOI = b"\xff\xd9"
_JPEG_QUALITY = 95

# Pillow mode -> (channels, dtype) of the array read_image returns; "P" is decided per file.
_PIL_MODES: dict[str, tuple[int, str]] = {
    "1": (1, "uint8"), "L": (1, "uint8"),
    "LA": (4, "uint8"), "La": (4, "uint8"), "PA": (4, "uint8"),
    "RGB": (3, "uint8"), "RGBX": (3, "uint8"), "YCbCr": (3, "uint8"), "CMYK": (3, "uint8"),
    "RGBA": (4, "uint8"), "RGBa": (4, "uint8"),
    "I;16": (1, "uint16"), "I;16L": (1, "uint16"), "I;16B": (1, "uint16"),
    "I;16N": (1, "uint16"), "I": (1, "uint16"), "F": (1, "float32"),
}
# Pillow modes converted before export to numpy; the others are exported as they are.
_PIL_CONVERT = {
    "1": "L", "LA": "RGBA", "La": "RGBA", "PA": "RGBA", "RGBa": "RGBA",
    "RGBX": "RGB", "YCbCr": "RGB", "CMYK": "RGB",
}

_PILLOW_LIMIT_LOCK = threading.Lock()

_TIFF_TYPES = {1: "B", 3: "H", 4: "I", 16: "Q"}  # BYTE, SHORT, LONG, LONG8
# tag -> (values, byte offset of the values in the file, struct format of one value)
_TiffTags = dict[int, tuple[tuple[int, ...], int, str]]


@dataclass(frozen=True)
class ImageInfo:
    """What an image file holds, read from its header without decoding pixels.

    ``width``, ``height``, ``channels`` and ``dtype`` describe the array :func:`read_image`
    returns, i.e. after EXIF orientation has been applied.

    Attributes
    ----------
    path : Path
        The file.
    format : str
        Container format: ``"PNG"``, ``"JPEG"``, ``"TIFF"``, ``"WEBP"``, ``"BMP"`` or ``"PPM"``
        (which covers PGM, PBM and PFM).
    width, height : int
        Size in pixels, upright.
    channels : int
        1 (grey), 3 (RGB) or 4 (RGBA).
    dtype : str
        ``"uint8"``, ``"uint16"`` or ``"float32"``.
    orientation : int
        EXIF orientation tag, 1-8 (1 when absent or invalid).
    file_size : int
        Size of the file in bytes.
    """

    path: Path
    format: str
    width: int
    height: int
    channels: int
    dtype: str
    orientation: int
    file_size: int

    @property
    def exif_rotated(self) -> bool:
        """True when the stored pixels are flipped/rotated on reading (orientation != 1)."""
        return self.orientation != 1

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of the array :func:`read_image` returns."""
        if self.channels == 1:
            return (self.height, self.width)
        return (self.height, self.width, self.channels)


@dataclass(frozen=True)
class _Probe:
    """Header facts and the decoding plan for one file (sizes as stored, before orientation)."""

    format: str
    width: int
    height: int
    channels: int
    dtype: str
    orientation: int
    decoder: str  # "opencv", "pillow" or "tifffile"
    complete: bool = True  # False: the container is known to end before its image data
    orientation_patch: tuple[int, str] | None = None  # TIFF: (byte offset, struct code)


# --------------------------------------------------------------------------------------------
# Reading


def read_image(path: PathLike, *, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Read an image file into an upright RGB(A)/grey array.

    Parameters
    ----------
    path : str or os.PathLike
        The file. Its format is recognised from the content, not the extension.
    max_pixels : int or None, optional
        Refuse images with more pixels than this (checked on the header, before decoding).
        ``None`` removes the limit; OpenCV's own limit (2**30 pixels) still applies to the
        formats it decodes.

    Returns
    -------
    image : ndarray
        ``(H, W)``, ``(H, W, 3)`` or ``(H, W, 4)``; ``uint8``, ``uint16`` or ``float32``;
        RGB(A) order, EXIF orientation applied, C-contiguous and writable.
        See the module docstring for how palette, grey+alpha and CMYK files are mapped.

    Raises
    ------
    ImageReadError
        The file is missing, a folder, unreadable, empty, not a supported image, corrupt,
        truncated or larger than ``max_pixels``. The message names the file.
    InputError
        ``max_pixels`` is not a positive integer or None.

    Examples
    --------
    >>> image = read_image("photo.jpg")  # doctest: +SKIP
    >>> image.shape, image.dtype  # doctest: +SKIP
    ((3000, 4000, 3), dtype('uint8'))
    """
    if max_pixels is not None and (not isinstance(max_pixels, int) or max_pixels <= 0):
        raise InputError(f"max_pixels must be a positive integer or None, got {max_pixels!r}")
    path = Path(path)
    with _open_for_reading(path) as (fh, _):
        probe = _probe(fh, path)
        _check_pixel_limit(probe, path, max_pixels)
        if not probe.complete:
            raise _truncated_error(path, probe.format)
        if probe.decoder == "opencv":
            pixels = _decode_with_opencv(fh, probe, path)
        elif probe.decoder == "tifffile":
            pixels = _decode_with_tifffile(fh, probe, path)
        else:
            pixels = _decode_with_pillow(fh, probe, path)
    expected = (probe.height, probe.width)
    if pixels.shape[:2] != expected:
        raise _read_error(
            path, f"the {probe.format} data decodes to {pixels.shape[1]} x {pixels.shape[0]} "
            f"pixels but the header says {probe.width} x {probe.height}; the file is corrupt"
        )
    return _apply_orientation(pixels, probe.orientation)


def image_info(path: PathLike) -> ImageInfo:
    """Describe an image file from its header, without decoding its pixels.

    No pixel limit applies, so this is the way to report the size of a file that
    :func:`read_image` refuses as too large.

    Parameters
    ----------
    path : str or os.PathLike
        The file.

    Returns
    -------
    ImageInfo
        Format, upright size, channels and dtype as :func:`read_image` would return them,
        EXIF orientation and file size.

    Raises
    ------
    ImageReadError
        The file is missing, a folder, unreadable, empty or not a supported image. Damage
        after the header (truncation, corrupt pixel data) is only found by :func:`read_image`.

    Examples
    --------
    >>> info = image_info("photo.jpg")  # doctest: +SKIP
    >>> info.width, info.height, info.orientation  # doctest: +SKIP
    (3000, 4000, 6)
    """
    path = Path(path)
    with _open_for_reading(path) as (fh, file_size):
        probe = _probe(fh, path)
    width, height = probe.width, probe.height
    if probe.orientation >= 5:  # orientations 5-8 swap the axes
        width, height = height, width
    return ImageInfo(
        path=path, format=probe.format, width=width, height=height, channels=probe.channels,
        dtype=probe.dtype, orientation=probe.orientation, file_size=file_size,
    )


def _read_error(path: Path, reason: str) -> ImageReadError:
    return ImageReadError(f"Cannot read image '{path}': {reason}.")


def _truncated_error(path: Path, fmt: str) -> ImageReadError:
    return _read_error(
        path, f"the {_format_name(fmt, path)} file is truncated (it ends before its image data "
        "does); copy or download it again"
    )


def _format_name(fmt: str, path: Path) -> str:
    """Name the format as the user knows it: Pillow calls PGM, PBM and PFM files "PPM"."""
    suffix = path.suffix.upper().lstrip(".")
    return suffix if fmt == "PPM" and suffix in ("PGM", "PBM", "PFM", "PNM") else fmt


def _corrupt_error(path: Path, fmt: str, error: BaseException | None) -> ImageReadError:
    detail = f" ({_first_line(error)})" if error is not None else ""
    return _read_error(
        path, f"the {_format_name(fmt, path)} data is corrupt or truncated{detail}"
    )


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


@contextlib.contextmanager
def _open_for_reading(path: Path) -> Iterator[tuple[BinaryIO, int]]:
    """Open ``path`` for binary reading, turning OS errors into a message a user can act on."""
    if path.is_dir():
        raise _read_error(path, "it is a folder, not an image file")
    try:
        fh = open(path, "rb")  # one handle for probe and decode, closed below
    except FileNotFoundError:
        raise _read_error(path, "no such file") from None
    except PermissionError:
        raise _read_error(path, "permission denied") from None
    except OSError as exc:
        raise _read_error(path, exc.strerror or _first_line(exc)) from None
    with fh:
        size = os.fstat(fh.fileno()).st_size
        if size == 0:
            raise _read_error(path, "the file is empty (0 bytes)")
        yield fh, size


def _check_pixel_limit(probe: _Probe, path: Path, max_pixels: int | None) -> None:
    pixels = probe.width * probe.height
    if max_pixels is not None and pixels > max_pixels:
        raise _read_error(
            path, f"it is {probe.width} x {probe.height} pixels ({pixels / 1e6:,.1f} megapixels), "
            f"more than the limit of {max_pixels / 1e6:,.1f} megapixels ({max_pixels:,} pixels)"
        )


def _open_with_pillow(fh: BinaryIO) -> Image.Image:
    """``Image.open`` with Pillow's global bomb check lifted: ``max_pixels`` is our limit."""
    fh.seek(0)
    with _PILLOW_LIMIT_LOCK, _quiet_pillow():
        saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None
        try:
            return Image.open(fh, formats=_PIL_FORMATS)
        finally:
            Image.MAX_IMAGE_PIXELS = saved


@contextlib.contextmanager
def _quiet_pillow() -> Iterator[None]:
    """Silence Pillow's warnings about damaged files: the damage is reported as an error.

    (Before Python 3.14 ``catch_warnings`` swaps process-wide filters; a concurrent thread may
    briefly see warnings hidden. That only affects warning display.)
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _probe(fh: BinaryIO, path: Path) -> _Probe:
    """Read the header of an open file and decide how to decode it."""
    magic = fh.read(4)
    try:
        im = _open_with_pillow(fh)
    except UnidentifiedImageError:
        if magic in _TIFF_MAGICS:  # e.g. float RGB TIFF, which Pillow cannot open
            return _probe_tiff_tags(fh, path)
        raise _read_error(
            path, "it is not an image file Workbench can read (supported: "
            f"{', '.join(SUPPORTED_READ_EXTENSIONS)})"
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as exc:
        if magic == b"RIFF" and _riff_is_cut_short(fh):
            raise _truncated_error(path, "WebP") from None
        raise _read_error(path, f"its header is corrupt ({_first_line(exc)})") from None
    with im:
        fmt = "JPEG" if im.format == "MPO" else str(im.format)
        if fmt == "PNG":
            return _probe_png(fh, path)
        if fmt == "TIFF" and _pillow_loses_tiff_precision(im):
            return _probe_tiff_tags(fh, path)
        channels, dtype = _pillow_mode_plan(im, path)
        if fmt == "TIFF":
            # Stored size and orientation from the tags: recent Pillow reports TIFF sizes upright
            # and turns the pixels itself on load; the patch makes every version behave alike.
            width, height, orientation, patch = _tiff_geometry(_tiff_tags(fh, path, ()))
        else:
            width, height = im.size
            orientation, patch = _orientation_from_exif(im.getexif()), None
        if fmt == "JPEG":
            fh.seek(-2, os.SEEK_END)
            ends_with_eoi = fh.read(2) == _JPEG_EOI
            decoder = "opencv" if ends_with_eoi else "pillow"  # Pillow detects truncation
        elif fmt == "PPM" and im.mode == "RGB" and _ppm_maxval(im) > 255:
            decoder, dtype = "opencv", "uint16"
        else:
            decoder = "pillow"
    return _Probe(fmt, width, height, channels, dtype, orientation, decoder,
                  orientation_patch=patch)


def _riff_is_cut_short(fh: BinaryIO) -> bool:
    """A RIFF (WebP) file states its own length in bytes 4-8."""
    fh.seek(4)
    declared = fh.read(4)
    size = os.fstat(fh.fileno()).st_size
    return len(declared) == 4 and struct.unpack("<I", declared)[0] + 8 > size


def _pillow_mode_plan(im: Image.Image, path: Path) -> tuple[int, str]:
    if im.mode == "P":
        return (4 if "transparency" in im.info else 3), "uint8"
    plan = _PIL_MODES.get(im.mode)
    if plan is None:
        raise _read_error(path, f"{im.format} images in mode {im.mode} are not supported")
    return plan


def _pillow_loses_tiff_precision(im: Image.Image) -> bool:
    """Pillow opens 16-bit RGB(A) TIFFs as 8-bit modes (and 32-bit integers as "I")."""
    bits = im.tag_v2.get(258, (8,))
    bits = bits if isinstance(bits, tuple) else (bits,)
    return im.mode in ("RGB", "RGBA", "I") and max(bits) > 8


def _ppm_maxval(im: Image.Image) -> int:
    args = im.tile[0].args if im.tile else None
    if isinstance(args, tuple) and len(args) > 1 and isinstance(args[1], int):
        return args[1]
    return 255


def _orientation_from_exif(exif: Image.Exif) -> int:
    value = exif.get(0x0112, 1)
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _probe_png(fh: BinaryIO, path: Path) -> _Probe:
    """Read IHDR and walk the chunk headers: eXIf, tRNS and whether IEND is there."""
    fh.seek(8)
    header = fh.read(25)
    if len(header) < 25 or header[4:8] != b"IHDR":
        raise _read_error(path, "the PNG header is corrupt")
    width, height, depth, colour_type = struct.unpack(">IIBB", header[8:18])
    exif, has_trns, complete = None, False, False
    fh.seek(8)
    file_size = os.fstat(fh.fileno()).st_size
    while True:
        head = fh.read(8)
        if len(head) < 8:
            break
        length, kind = struct.unpack(">I4s", head)
        data_end = fh.tell() + length + 4  # chunk data + CRC
        if data_end > file_size:
            break
        if kind == b"IEND":
            complete = True
            break
        if kind == b"eXIf" and exif is None:
            exif = fh.read(length)
        has_trns = has_trns or kind == b"tRNS"
        fh.seek(data_end)
    orientation = 1
    if exif:
        parsed = Image.Exif()
        with contextlib.suppress(Exception):  # a damaged eXIf chunk must not stop the read
            parsed.load(exif)
        orientation = _orientation_from_exif(parsed)
    channels = {0: 1, 2: 4 if has_trns else 3, 3: 4 if has_trns else 3, 4: 4, 6: 4}.get(colour_type)
    if channels is None:
        raise _read_error(path, f"the PNG colour type {colour_type} is invalid")
    dtype = "uint16" if depth == 16 else "uint8"
    return _Probe("PNG", width, height, channels, dtype, orientation, "opencv", complete)


def _tiff_tags(fh: BinaryIO, path: Path, wanted: tuple[int, ...]) -> _TiffTags:
    try:
        tags = _read_tiff_tags(fh, (256, 257, 274, *wanted))
    except struct.error:  # a read ran past the end of the file
        raise _truncated_error(path, "TIFF") from None
    except ValueError:
        raise _read_error(path, "the TIFF header is corrupt") from None
    if 256 not in tags or 257 not in tags:
        raise _read_error(path, "the TIFF header has no image size")
    return tags


def _tiff_geometry(tags: _TiffTags) -> tuple[int, int, int, tuple[int, str] | None]:
    """Stored width, height, orientation and where the orientation value sits in the file."""
    orientation, patch = 1, None
    if 274 in tags:
        values, offset, code = tags[274]
        orientation = values[0] if 1 <= values[0] <= 8 else 1
        patch = (offset, code)
    return tags[256][0][0], tags[257][0][0], orientation, patch


def _probe_tiff_tags(fh: BinaryIO, path: Path) -> _Probe:
    """Read the first TIFF directory ourselves, for the variants Pillow cannot hold."""
    tags = _tiff_tags(fh, path, (258, 262, 277, 339))
    width, height, orientation, patch = _tiff_geometry(tags)
    samples = tags[277][0][0] if 277 in tags else 1
    bits = set(tags[258][0]) if 258 in tags else {1}
    sample_format = set(tags[339][0]) if 339 in tags else {1}  # 1: unsigned int, 3: float
    photometric = tags[262][0][0] if 262 in tags else -1  # 1: grey, 2: RGB
    dtype = None
    if len(bits) == 1 and len(sample_format) == 1:
        kind = (next(iter(bits)), next(iter(sample_format)))
        dtype = {(8, 1): "uint8", (16, 1): "uint16", (32, 3): "float32"}.get(kind)
    layout_ok = (photometric == 1 and samples == 1) or (photometric == 2 and samples in (3, 4))
    if dtype is None or not layout_ok:
        # 16/64-bit float, or a layout OpenCV cannot decode: tifffile reads its first page
        kind = (next(iter(bits)), next(iter(sample_format))) if len(bits) == 1 and \
            len(sample_format) == 1 else None
        float_ok = kind in ((16, 3), (32, 3), (64, 3)) or dtype is not None
        if float_ok and samples in (1, 3, 4) and photometric in (1, 2) and _tifffile() is not None:
            channels = samples if photometric == 2 or samples == 1 else 1
            out = "float32" if kind is not None and kind[1] == 3 else dtype
            return _Probe("TIFF", width, height, channels, out, orientation, "tifffile")
        raise _read_error(path, "this TIFF holds " + _tiff_variant(samples, bits, sample_format,
                                                                    photometric) +
                          "; Workbench reads 8- or 16-bit unsigned and 16-, 32- or 64-bit "
                          "float samples as gray, RGB or RGBA. Convert it to one of those")
    return _Probe("TIFF", width, height, samples, dtype, orientation, "opencv",
                  orientation_patch=patch)


def _tifffile():
    """The tifffile module (installed with scikit-image), or None where it is not."""
    try:
        import tifffile
    except ImportError:  # e.g. the desktop bundle, which leaves scikit-image out
        return None
    return tifffile


_SAMPLE_FORMATS = {1: "unsigned integer", 2: "signed integer", 3: "float", 4: "undefined"}
_PHOTOMETRIC = {0: "gray (white is zero)", 1: "gray", 2: "RGB", 3: "palette", 4: "mask",
                5: "CMYK", 6: "YCbCr", 8: "CIELab"}


def _tiff_variant(samples: int, bits: set, formats: set, photometric: int) -> str:
    """The variant in words, e.g. "1 sample per pixel of 16-bit signed integer (gray)"."""
    depth = "/".join(map(str, sorted(bits)))
    kind = "/".join(_SAMPLE_FORMATS.get(f, f"format {f}") for f in sorted(formats))
    layout = _PHOTOMETRIC.get(photometric, f"photometric {photometric}")
    plural = "sample" if samples == 1 else "samples"
    return f"{samples} {plural} per pixel of {depth}-bit {kind} ({layout})"


def _decode_with_tifffile(fh: BinaryIO, probe: _Probe, path: Path) -> np.ndarray:
    tifffile = _tifffile()
    fh.seek(0)
    try:
        with tifffile.TiffFile(fh) as tif:
            page = tif.pages[0]
            pixels = page.asarray()
            separate = page.planarconfig == 2 and pixels.ndim == 3
    except Exception as exc:  # tifffile raises many kinds on damaged files
        raise _corrupt_error(path, "TIFF", exc) from None
    if separate:  # one plane per sample: (S, H, W) -> (H, W, S)
        pixels = np.moveaxis(pixels, 0, -1)
    if pixels.ndim == 3 and probe.channels == 1:
        pixels = pixels[..., 0]
    pixels = pixels.astype(np.dtype(probe.dtype).newbyteorder("="), copy=False)
    return np.ascontiguousarray(pixels)


def _read_tiff_tags(fh: BinaryIO, wanted: tuple[int, ...]) -> _TiffTags:
    """Integer tags of the first IFD: tag -> (values, byte offset of the values, struct code).

    Handles classic TIFF and BigTIFF, either byte order. Only seeks and small reads.
    """

    def unpack(fmt: str, offset: int) -> tuple[int, ...]:
        fh.seek(offset)
        size = struct.calcsize(order + fmt)
        return struct.unpack(order + fmt, fh.read(size))

    fh.seek(0)
    order = {b"II": "<", b"MM": ">"}.get(fh.read(2))
    if order is None:
        raise ValueError("not a TIFF file")
    big = unpack("H", 2)[0] == 43
    count_code, offset_code = ("Q", "Q") if big else ("H", "I")
    ifd = unpack("Q", 8)[0] if big else unpack("I", 4)[0]
    entries = unpack(count_code, ifd)[0]
    first = ifd + struct.calcsize(order + count_code)
    entry_size, inline = (20, 8) if big else (12, 4)
    tags: _TiffTags = {}
    for index in range(min(entries, 4096)):
        pos = first + index * entry_size
        tag, kind = unpack("HH", pos)
        count = unpack(offset_code, pos + 4)[0]
        code = _TIFF_TYPES.get(kind)
        if tag not in wanted or code is None or not 1 <= count <= 16:
            continue
        value_pos = pos + 4 + struct.calcsize(order + offset_code)
        if struct.calcsize(order + code) * count > inline:
            value_pos = unpack(offset_code, value_pos)[0]
        tags[tag] = (unpack(code * count, value_pos), value_pos, order + code)
    return tags


def _file_bytes(fh: BinaryIO, probe: _Probe) -> bytes:
    """The whole file; a TIFF's orientation tag reset to 1, for we turn the pixels ourselves.

    OpenCV's TIFF decoder applies orientations 2-4 and fails on 5-8; Pillow >= 12 applies them
    all. Hiding the tag gives the stored pixels from either, in every version.
    """
    fh.seek(0)
    data = fh.read()
    if probe.orientation_patch is None or probe.orientation == 1:
        return data
    offset, code = probe.orientation_patch
    buffer = bytearray(data)
    struct.pack_into(code, buffer, offset, 1)
    return bytes(buffer)


def _decode_with_opencv(fh: BinaryIO, probe: _Probe, path: Path) -> np.ndarray:
    data = _file_bytes(fh, probe)
    flags = cv2.IMREAD_UNCHANGED  # keeps depth and alpha, ignores EXIF orientation
    rgb_flag = getattr(cv2, "IMREAD_COLOR_RGB", None)  # OpenCV >= 4.11
    if probe.format == "JPEG" and probe.channels == 3 and rgb_flag is not None:
        # libjpeg-turbo writes RGB directly: ~10 ms less than a BGR->RGB pass on 12 MP
        flags = rgb_flag | cv2.IMREAD_IGNORE_ORIENTATION
    try:
        pixels = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    except cv2.error as exc:
        raise _corrupt_error(path, probe.format, exc) from None
    if pixels is None:
        raise _corrupt_error(path, probe.format, None)
    if flags != cv2.IMREAD_UNCHANGED:
        return pixels
    if pixels.ndim == 3 and pixels.shape[2] == 3:
        cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB, dst=pixels)
    elif pixels.ndim == 3 and pixels.shape[2] == 4:
        cv2.cvtColor(pixels, cv2.COLOR_BGRA2RGBA, dst=pixels)
    return pixels


def _decode_with_pillow(fh: BinaryIO, probe: _Probe, path: Path) -> np.ndarray:
    source = fh
    if probe.orientation_patch is not None and probe.orientation != 1:
        source = io.BytesIO(_file_bytes(fh, probe))
    try:
        with _open_with_pillow(source) as im, _quiet_pillow():
            im.load()
            target = _PIL_CONVERT.get(im.mode)
            if im.mode == "P":
                target = "RGBA" if probe.channels == 4 else "RGB"
            converted = im.convert(target) if target else im
            pixels = np.array(converted)
    except OSError as exc:
        if "truncated" in str(exc):
            raise _truncated_error(path, probe.format) from None
        raise _corrupt_error(path, probe.format, exc) from None
    except (SyntaxError, ValueError, EOFError, struct.error) as exc:
        raise _corrupt_error(path, probe.format, exc) from None
    if pixels.dtype == np.int32:  # Pillow's "I" mode: 16-bit PGM
        if pixels.size and (pixels.min() < 0 or pixels.max() > 65535):
            raise _read_error(path, "its integer samples do not fit in 16 bits")
        return pixels.astype(np.uint16)
    if pixels.dtype == bool:
        return pixels.astype(np.uint8) * 255
    if not pixels.dtype.isnative:
        return pixels.astype(pixels.dtype.newbyteorder("="))
    return pixels


def _apply_orientation(image: np.ndarray, orientation: int) -> np.ndarray:
    """Turn stored pixels upright for EXIF orientation 1-8 (as ``ImageOps.exif_transpose``)."""
    if orientation == 2:
        return cv2.flip(image, 1)
    if orientation == 3:
        return cv2.rotate(image, cv2.ROTATE_180)
    if orientation == 4:
        return cv2.flip(image, 0)
    if orientation == 5:
        return cv2.transpose(image)
    if orientation == 6:
        return cv2.rotate(image, cv2.ROTATE_90_CLOCKWISE)
    if orientation == 7:
        return cv2.rotate(cv2.transpose(image), cv2.ROTATE_180)
    if orientation == 8:
        return cv2.rotate(image, cv2.ROTATE_90_COUNTERCLOCKWISE)
    return image


# --------------------------------------------------------------------------------------------
# Writing

_WRITE_FORMATS = {
    ".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF", ".tiff": "TIFF",
    ".bmp": "BMP", ".webp": "WEBP", ".pgm": "PGM", ".ppm": "PPM",
}
_EIGHT_BIT_ONLY = ("JPEG", "BMP", "WEBP")
_CHANNELS_ALLOWED = {
    "PNG": (1, 3, 4), "TIFF": (1, 3, 4), "WEBP": (1, 3, 4),
    "JPEG": (1, 3), "BMP": (1, 3), "PGM": (1,), "PPM": (3,),
}
# Interpolation (bicubic warps, resizes) overshoots [0, 1] a little; that is clipped, not refused.
_FLOAT_TOLERANCE = 0.25


def write_image(path: PathLike, image: np.ndarray) -> None:
    """Save an array as an image file, atomically.

    The extension chooses the format. The file is first written to a temporary file in the
    same folder and then moved over ``path`` (``os.replace``), so a failed save never leaves a
    half-written file or destroys the one already there. An existing file's permission bits
    are kept.

    Conversions (chosen so that what is written is what the caller meant, or nothing is):

    * PNG and TIFF keep ``uint16``; TIFF keeps ``float32`` (float64/float16 are stored as
      float32) exactly, whatever its range. PGM/PPM keep ``uint16``.
    * JPEG, BMP and WebP hold 8 bits: ``uint16`` is reduced to ``uint8`` by the display rule of
      :func:`to_uint8_display` (value / 257, rounded).
    * Float images written to any format but TIFF must hold intensities in [0, 1]; they are
      stored as ``uint8`` (value * 255, rounded). Interpolation overshoot up to 0.25 outside
      [0, 1] is clipped. Other ranges (e.g. 0..255 floats) and NaN/inf raise rather than be
      guessed at: scale the image, or save it as TIFF to keep the floats. Signed data such as
      Laplacian levels must be offset by the caller (or saved as TIFF): small negative values
      would fall within the overshoot allowance and be clipped to 0.
    * Boolean images are stored as 0/255 grey.
    * Transparency: JPEG and BMP cannot keep it, so RGBA raises (flatten or drop alpha first,
      or save as PNG/TIFF/WebP). WebP stores grey as RGB and is written lossless. JPEG is
      written at quality 95 without chroma subsampling (4:4:4), so coloured edges and text in
      processed results stay sharp. PGM takes grey images only, PPM RGB only.

    Parameters
    ----------
    path : str or os.PathLike
        Destination; its extension must be one of :data:`SUPPORTED_WRITE_EXTENSIONS`
        (case-insensitive). The folder must exist.
    image : ndarray
        ``(H, W)``, ``(H, W, 1)``, ``(H, W, 3)`` or ``(H, W, 4)`` in RGB(A) order;
        ``uint8``, ``uint16``, ``bool`` or floating point.

    Raises
    ------
    ImageWriteError
        Unknown extension (the message lists the supported ones), missing folder, an image the
        format cannot hold (see above), or an OS error (permission, disk full). The message
        names the file.
    ImageWriteError
        ``image`` is not a numpy array.

    Examples
    --------
    >>> write_image("out.png", np.zeros((480, 640, 3), np.uint16))  # doctest: +SKIP
    """
    path = Path(path)
    if not isinstance(image, np.ndarray):
        raise ImageWriteError(f"image must be a numpy array, got {type(image).__name__}")
    image = native_byte_order(image)
    fmt = _WRITE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise _write_error(
            path, f"unknown extension '{path.suffix}'; use one of "
            f"{', '.join(SUPPORTED_WRITE_EXTENSIONS)}"
        )
    folder = path.parent
    if not folder.is_dir():
        raise _write_error(path, f"the folder '{folder}' does not exist")
    if path.is_dir():
        raise _write_error(path, "a folder of that name exists")
    pixels = _prepare_for_format(image, fmt, path)
    data = _encode(pixels, fmt, path)
    _write_atomically(path, data)


def _write_error(path: Path, reason: str) -> ImageWriteError:
    return ImageWriteError(f"Cannot save image '{path}': {reason}.")


def _prepare_for_format(image: np.ndarray, fmt: str, path: Path) -> np.ndarray:
    """Check shape and dtype against what ``fmt`` holds and convert as documented."""
    pixels = image[..., 0] if image.ndim == 3 and image.shape[2] == 1 else image
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    if pixels.ndim not in (2, 3) or channels not in (1, 3, 4) or pixels.size == 0:
        raise _write_error(
            path, f"an image must be (H, W), (H, W, 3) or (H, W, 4) and not empty, "
            f"got shape {image.shape}"
        )
    if channels not in _CHANNELS_ALLOWED[fmt]:
        advice = {
            "PGM": "PGM holds grey images only; use .ppm for colour",
            "PPM": "PPM holds RGB images only; use .pgm for grey, .png for RGBA",
        }.get(fmt, f"{fmt} cannot keep transparency; save as .png, .tif or .webp, "
                   "or drop the alpha channel first")
        raise _write_error(path, advice)
    if pixels.dtype == bool:
        return pixels.astype(np.uint8) * 255
    if pixels.dtype.kind == "f":
        if fmt == "TIFF":
            return pixels.astype(np.float32)
        return _unit_float_to_uint8(pixels, fmt, path)
    if pixels.dtype == np.uint16 and fmt in _EIGHT_BIT_ONLY:
        return _uint16_to_uint8(pixels)
    if pixels.dtype not in (np.uint8, np.uint16):
        raise _write_error(
            path, f"images of dtype {pixels.dtype} cannot be saved; convert to uint8, uint16 "
            "or float in [0, 1] first"
        )
    return pixels


def _unit_float_to_uint8(pixels: np.ndarray, fmt: str, path: Path) -> np.ndarray:
    low, high = float(np.min(pixels)), float(np.max(pixels))
    if not (np.isfinite(low) and np.isfinite(high)):
        raise _write_error(path, f"the float image contains NaN or infinity; {fmt} cannot hold it")
    if low < -_FLOAT_TOLERANCE or high > 1 + _FLOAT_TOLERANCE:
        raise _write_error(
            path, f"float images must hold values in [0, 1] to be saved as {fmt}, this one spans "
            f"[{low:.4g}, {high:.4g}]; rescale it or save as .tif to keep the floats"
        )
    return _float_to_uint8(pixels, 255.0)


def _float_to_uint8(pixels: np.ndarray, scale: float) -> np.ndarray:
    scaled = np.multiply(pixels, scale, dtype=np.float32)
    np.nan_to_num(scaled, copy=False, nan=0.0)
    np.clip(scaled, 0.0, 255.0, out=scaled)
    scaled += 0.5
    return scaled.astype(np.uint8)


def _uint16_to_uint8(pixels: np.ndarray) -> np.ndarray:
    # round(x / 257) in integers: 65535 = 255 * 257, so this maps 0 -> 0 and 65535 -> 255.
    return ((pixels.astype(np.uint32) + 128) // 257).astype(np.uint8)


def _encode(pixels: np.ndarray, fmt: str, path: Path) -> bytes:
    """Encode to the bytes of a file; nothing on disk changes here."""
    if fmt == "TIFF" and (pixels.dtype == np.uint8 or pixels.ndim == 2):
        # Pillow writes what it can hold exactly (8-bit, 16-bit grey, float grey) and marks an
        # alpha channel as alpha (ExtraSamples); OpenCV's TIFF writer leaves the 4th channel
        # unlabelled, so it only gets the 16-bit/float colour images Pillow cannot hold.
        buffer = io.BytesIO()
        try:
            Image.fromarray(np.ascontiguousarray(pixels)).save(
                buffer, format="TIFF", compression="tiff_lzw"
            )
        except (OSError, ValueError, TypeError) as exc:
            raise _write_error(path, f"TIFF encoding failed ({_first_line(exc)})") from None
        return buffer.getvalue()
    if pixels.ndim == 3:
        code = cv2.COLOR_RGB2BGR if pixels.shape[2] == 3 else cv2.COLOR_RGBA2BGRA
        pixels = cv2.cvtColor(np.ascontiguousarray(pixels), code)
    params: list[int] = []
    if fmt == "JPEG":
        params = [cv2.IMWRITE_JPEG_QUALITY, _JPEG_QUALITY,
                  cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444]
    if fmt == "WEBP":
        params = [cv2.IMWRITE_WEBP_QUALITY, 101]  # above 100 means lossless
    ext = {"JPEG": ".jpg", "TIFF": ".tif"}.get(fmt, "." + fmt.lower())
    try:
        ok, encoded = cv2.imencode(ext, pixels, params)
    except cv2.error as exc:
        raise _write_error(path, f"{fmt} encoding failed ({_first_line(exc)})") from None
    if not ok:
        raise _write_error(path, f"{fmt} encoding failed")
    return encoded.tobytes()


def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file next to ``path``, then move it into place."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    try:
        existing_mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        existing_mode = None
    try:
        # 0o666 lets the process umask decide the new file's permissions, as for any save.
        fd = os.open(temporary, flags, 0o666)
    except OSError as exc:
        raise _write_error(path, _os_reason(exc)) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if existing_mode is not None:
            with contextlib.suppress(OSError):
                os.chmod(temporary, existing_mode)
        os.replace(temporary, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(exc, OSError):
            raise _write_error(path, _os_reason(exc)) from None
        raise


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied"
    if exc.errno == errno.ENOSPC:
        return "the disk is full"
    return exc.strerror or _first_line(exc)


# --------------------------------------------------------------------------------------------
# Display


def native_byte_order(array: np.ndarray) -> np.ndarray:
    """The array itself, or a copy in this machine's byte order when it is big-endian (as FITS
    and some TIFF and NumPy files store it).

    >>> native_byte_order(np.arange(3, dtype=">u2")).dtype.byteorder
    '='
    """
    if array.dtype.byteorder in ("=", "|"):
        return array
    return array.astype(array.dtype.newbyteorder("="))


def to_uint8_display(image: np.ndarray) -> np.ndarray:
    """Map any image :func:`read_image` returns to ``uint8`` for display.

    * ``uint8``: returned as it is (the same array, no copy).
    * ``uint16``: value / 257, rounded (0 -> 0, 65535 -> 255, exact for every value).
    * floating point: taken as intensities in [0, 1] (clipped, then * 255 and rounded),
      unless the maximum is above 2, which clearly means a 0..255 range (then clipped to it).
      NaN shows as 0; infinity counts in that maximum and shows clipped.
    * ``bool``: 0/255.

    Shape and channel order (grey, RGB, RGBA, alpha scaled like the colours) are kept.

    Parameters
    ----------
    image : ndarray
        ``(H, W)``, ``(H, W, C)``.

    Returns
    -------
    ndarray
        ``uint8`` array of the same shape.

    Raises
    ------
    InputError
        ``image`` is not a numpy array or has another dtype (e.g. signed integers).
    """
    if not isinstance(image, np.ndarray):
        raise InputError(f"image must be a numpy array, got {type(image).__name__}")
    image = native_byte_order(image)
    if image.dtype == np.uint8:
        return image
    if image.dtype == np.uint16:
        return _uint16_to_uint8(image)
    if image.dtype == bool:
        return image.astype(np.uint8) * 255
    if image.dtype.kind == "f":
        finite_max = np.nanmax(image, initial=0.0) if image.size else 0.0
        scale = 1.0 if finite_max > 2.0 else 255.0
        return _float_to_uint8(image, scale)
    raise InputError(
        f"cannot display an image of dtype {image.dtype}; expected uint8, uint16, bool or float"
    )
