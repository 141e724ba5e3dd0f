"""Tests for workbench.imaging.io: every file is made here, in tmp_path, from numpy/Pillow/cv2."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageOps
from skimage import data as skdata

from workbench.errors import ImageReadError, ImageWriteError, InputError
from workbench.imaging import io as wio
from workbench.imaging.io import (
    DEFAULT_MAX_PIXELS,
    SUPPORTED_READ_EXTENSIONS,
    SUPPORTED_WRITE_EXTENSIONS,
    ImageInfo,
    image_info,
    read_image,
    to_uint8_display,
    write_image,
)

RNG = np.random.default_rng(20240601)

# Pillow transpose that produces the stored pixels from the upright ones, per EXIF orientation;
# reading must undo it. (ImageOps.exif_transpose applies the inverse; 6 and 8 swap.)
STORE_FOR_ORIENTATION = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def photo(height: int = 48, width: int = 64) -> np.ndarray:
    """A small, non-symmetric natural RGB image (scikit-image's astronaut, downsampled)."""
    return cv2.resize(skdata.astronaut(), (width, height), interpolation=cv2.INTER_AREA)


def random_image(shape: tuple[int, ...], dtype: type) -> np.ndarray:
    if np.dtype(dtype).kind == "f":
        return RNG.random(shape).astype(dtype)
    return RNG.integers(0, np.iinfo(dtype).max, shape, dtype=dtype, endpoint=True)


def assert_names_file(excinfo: pytest.ExceptionInfo, path: Path) -> None:
    message = str(excinfo.value)
    assert path.name in message
    assert "\n" not in message


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


# --------------------------------------------------------------------------------------------
# Round trips


@pytest.mark.parametrize("ext", [".png", ".tif"])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_png_tiff_round_trip_is_exact(tmp_path, ext, dtype, channels):
    shape = (13, 17) if channels == 1 else (13, 17, channels)
    image = random_image(shape, dtype)
    path = tmp_path / f"image{ext}"
    write_image(path, image)
    back = read_image(path)
    assert back.dtype == dtype
    np.testing.assert_array_equal(back, image)
    info = image_info(path)
    assert (info.shape, info.dtype, info.orientation) == (image.shape, np.dtype(dtype).name, 1)


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_float_tiff_round_trip_keeps_float32(tmp_path, channels):
    shape = (9, 11) if channels == 1 else (9, 11, channels)
    image = (RNG.standard_normal(shape) * 100).astype(np.float32)  # any range, kept as is
    path = tmp_path / "float.tiff"
    write_image(path, image)
    back = read_image(path)
    assert back.dtype == np.float32
    np.testing.assert_array_equal(back, image)
    assert image_info(path).dtype == "float32"


@pytest.mark.parametrize(
    ("ext", "shape", "dtype"),
    [
        (".bmp", (10, 12), np.uint8),
        (".bmp", (10, 12, 3), np.uint8),
        (".webp", (10, 12, 3), np.uint8),
        (".webp", (10, 12, 4), np.uint8),
        (".pgm", (10, 12), np.uint8),
        (".pgm", (10, 12), np.uint16),
        (".ppm", (10, 12, 3), np.uint8),
        (".ppm", (10, 12, 3), np.uint16),
    ],
)
def test_other_lossless_formats_round_trip(tmp_path, ext, shape, dtype):
    image = random_image(shape, dtype)
    path = tmp_path / f"image{ext}"
    write_image(path, image)
    back = read_image(path)
    assert back.dtype == dtype
    np.testing.assert_array_equal(back, image)
    assert image_info(path).shape == image.shape


@pytest.mark.parametrize("gray", [False, True])
def test_jpeg_round_trip_within_lossy_tolerance(tmp_path, gray):
    image = photo()
    if gray:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    path = tmp_path / "photo.JPG"  # upper-case extension is accepted
    write_image(path, image)
    back = read_image(path)
    assert back.shape == image.shape and back.dtype == np.uint8
    assert np.abs(back.astype(int) - image).mean() < 3.0
    with Image.open(path) as im:  # an independent decoder sees the same picture
        assert np.abs(np.asarray(im).astype(int) - back).max() <= 2


def test_webp_stores_grey_as_rgb(tmp_path):
    image = random_image((6, 7), np.uint8)
    write_image(tmp_path / "g.webp", image)
    back = read_image(tmp_path / "g.webp")
    np.testing.assert_array_equal(back, np.dstack([image] * 3))


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    height=st.integers(1, 20),
    width=st.integers(1, 20),
    channels=st.sampled_from([1, 3, 4]),
    dtype=st.sampled_from([np.uint8, np.uint16]),
    ext=st.sampled_from([".png", ".tif"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_round_trip_property(tmp_path, height, width, channels, dtype, ext, seed):
    shape = (height, width) if channels == 1 else (height, width, channels)
    image = np.random.default_rng(seed).integers(0, np.iinfo(dtype).max, shape, dtype=dtype)
    path = tmp_path / f"prop{ext}"
    write_image(path, image)
    np.testing.assert_array_equal(read_image(path), image)


def test_every_write_extension_is_readable(tmp_path):
    for ext in SUPPORTED_WRITE_EXTENSIONS:
        image = random_image((8, 9) if ext == ".pgm" else (8, 9, 3), np.uint8)
        path = tmp_path / f"each{ext}"
        write_image(path, image)
        back = read_image(path)
        assert back.shape == image.shape, ext
    assert all(ext.startswith(".") and ext == ext.lower() for ext in SUPPORTED_READ_EXTENSIONS)
    assert set(SUPPORTED_WRITE_EXTENSIONS) <= set(SUPPORTED_READ_EXTENSIONS)


# --------------------------------------------------------------------------------------------
# Channel order against an independent reader/writer (a round trip alone cannot see a swap)


@pytest.mark.parametrize("ext", [".png", ".jpg", ".tif", ".webp", ".bmp", ".ppm"])
def test_rgb_order_matches_pillow(tmp_path, ext):
    image = np.zeros((32, 32, 3), np.uint8)
    image[:, :16, 0] = 250  # red left half, blue right half (edge on a chroma block boundary)
    image[:, 16:, 2] = 200
    pillow_path = tmp_path / f"pillow{ext}"
    options = {".jpg": {"quality": 100, "subsampling": 0}, ".webp": {"lossless": True}}.get(ext, {})
    Image.fromarray(image).save(pillow_path, **options)
    assert np.abs(read_image(pillow_path).astype(int) - image).max() <= 3
    ours = tmp_path / f"ours{ext}"
    write_image(ours, image)
    with Image.open(ours) as im:
        assert np.abs(np.asarray(im.convert("RGB")).astype(int) - image).max() <= 3


@pytest.mark.parametrize("ext", [".png", ".tif"])
def test_sixteen_bit_rgb_order_matches_opencv(tmp_path, ext):
    image = np.zeros((4, 5, 3), np.uint16)
    image[..., 0] = 60000
    image[..., 2] = 1000
    write_image(tmp_path / f"c{ext}", image)
    bgr = cv2.imread(str(tmp_path / f"c{ext}"), cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(bgr[..., ::-1], image)
    cv2.imwrite(str(tmp_path / f"cv{ext}"), image[..., ::-1])
    np.testing.assert_array_equal(read_image(tmp_path / f"cv{ext}"), image)


# --------------------------------------------------------------------------------------------
# EXIF orientation


def write_with_orientation(path: Path, upright: np.ndarray, orientation: int) -> None:
    stored = Image.fromarray(upright)
    if STORE_FOR_ORIENTATION[orientation] is not None:
        stored = stored.transpose(STORE_FOR_ORIENTATION[orientation])
    exif = Image.Exif()
    exif[0x0112] = orientation
    options = {".jpg": {"quality": 95, "subsampling": 0}, ".webp": {"lossless": True}}.get(
        path.suffix, {}
    )
    stored.save(path, exif=exif.tobytes(), **options)


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("ext", [".png", ".jpg", ".tif", ".webp"])
def test_exif_orientation_gives_upright_image(tmp_path, ext, orientation):
    upright = photo(40, 64)
    path = tmp_path / f"o{orientation}{ext}"
    write_with_orientation(path, upright, orientation)
    if ext == ".png":  # the test's own construction agrees with Pillow's reference
        with Image.open(path) as im:
            np.testing.assert_array_equal(np.asarray(ImageOps.exif_transpose(im)), upright)
    back = read_image(path)
    assert back.shape == upright.shape
    error = np.abs(back.astype(int) - upright).mean()
    assert error < (3.0 if ext == ".jpg" else 1e-9)  # a wrong orientation is off by > 30
    info = image_info(path)
    assert (info.height, info.width) == upright.shape[:2]
    assert info.orientation == orientation
    assert info.exif_rotated == (orientation != 1)


@pytest.mark.parametrize("orientation", [2, 3, 5, 6, 7, 8])
@pytest.mark.parametrize(
    ("dtype", "byteorder", "bigtiff"),
    [(np.uint16, "<", False), (np.uint16, ">", False), (np.uint16, "<", True),
     (np.float32, "<", False)],
)
def test_orientation_of_deep_colour_tiff(tmp_path, orientation, dtype, byteorder, bigtiff):
    tifffile = pytest.importorskip("tifffile")
    upright = random_image((6, 10, 3), dtype)
    stored = upright
    if STORE_FOR_ORIENTATION[orientation] is not None:
        # Pillow cannot hold 16-bit colour; move a copy of the axes the same way as it would.
        ops = {
            2: lambda a: a[:, ::-1], 3: lambda a: a[::-1, ::-1], 5: lambda a: a.swapaxes(0, 1),
            6: lambda a: np.rot90(a, 1), 7: lambda a: np.rot90(a, 2).swapaxes(0, 1),
            8: lambda a: np.rot90(a, -1),
        }
        stored = np.ascontiguousarray(ops[orientation](upright))
        # the same construction applied to an 8-bit image agrees with Pillow's transpose
        probe = (upright[..., 0] % 251).astype(np.uint8)
        expected = Image.fromarray(probe).transpose(STORE_FOR_ORIENTATION[orientation])
        np.testing.assert_array_equal(ops[orientation](probe), np.asarray(expected))
    path = tmp_path / "deep.tif"
    tifffile.imwrite(path, stored, photometric="rgb", byteorder=byteorder, bigtiff=bigtiff,
                     extratags=[(274, "H", 1, orientation, True)])
    back = read_image(path)
    assert back.dtype == dtype
    np.testing.assert_array_equal(back, upright)
    assert image_info(path).orientation == orientation


def test_invalid_orientation_value_is_ignored(tmp_path):
    image = photo(8, 12)
    exif = Image.Exif()
    exif[0x0112] = 9
    Image.fromarray(image).save(tmp_path / "bad.png", exif=exif.tobytes())
    np.testing.assert_array_equal(read_image(tmp_path / "bad.png"), image)
    assert image_info(tmp_path / "bad.png").orientation == 1


# --------------------------------------------------------------------------------------------
# Modes: palette, grey+alpha, CMYK, 1-bit, 16-bit grey from Pillow


def palette_image(transparent: bool) -> Image.Image:
    indices = (np.arange(48).reshape(6, 8) % 3).astype(np.uint8)
    im = Image.fromarray(indices, "P")
    im.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * (256 * 3 - 9))
    if transparent:
        im.info["transparency"] = 1
    return im


@pytest.mark.parametrize("ext", [".png", ".bmp", ".tif"])
def test_palette_becomes_rgb(tmp_path, ext):
    im = palette_image(transparent=False)
    im.save(tmp_path / f"p{ext}")
    back = read_image(tmp_path / f"p{ext}")
    assert back.shape == (6, 8, 3) and back.dtype == np.uint8
    np.testing.assert_array_equal(back, np.asarray(im.convert("RGB")))
    assert image_info(tmp_path / f"p{ext}").channels == 3


def test_palette_with_transparency_becomes_rgba(tmp_path):
    im = palette_image(transparent=True)
    im.save(tmp_path / "pt.png", transparency=1)
    back = read_image(tmp_path / "pt.png")
    assert back.shape == (6, 8, 4)
    np.testing.assert_array_equal(back, np.asarray(im.convert("RGBA")))
    assert set(np.unique(back[..., 3])) == {0, 255}
    assert image_info(tmp_path / "pt.png").channels == 4


@pytest.mark.parametrize("ext", [".png", ".tif"])
def test_grey_alpha_becomes_rgba(tmp_path, ext):
    grey = random_image((7, 9), np.uint8)
    alpha = random_image((7, 9), np.uint8)
    Image.fromarray(np.dstack([grey, alpha]), "LA").save(tmp_path / f"la{ext}")
    back = read_image(tmp_path / f"la{ext}")
    np.testing.assert_array_equal(back, np.dstack([grey, grey, grey, alpha]))
    assert image_info(tmp_path / f"la{ext}").shape == (7, 9, 4)


@pytest.mark.parametrize(("ext", "tolerance"), [(".jpg", 4), (".tif", 0)])
def test_cmyk_becomes_rgb(tmp_path, ext, tolerance):
    cmyk = Image.fromarray(photo(16, 24)).convert("CMYK")
    cmyk.save(tmp_path / f"cmyk{ext}", **({"quality": 100} if ext == ".jpg" else {}))
    with Image.open(tmp_path / f"cmyk{ext}") as im:
        assert im.mode == "CMYK"
        reference = np.asarray(im.convert("RGB")).astype(int)
    back = read_image(tmp_path / f"cmyk{ext}")
    assert back.shape == (16, 24, 3)
    assert np.abs(back.astype(int) - reference).max() <= tolerance


@pytest.mark.parametrize("ext", [".png", ".bmp", ".tif"])
def test_one_bit_becomes_0_255(tmp_path, ext):
    bits = np.eye(8, 10, dtype=bool)
    Image.fromarray(bits).save(tmp_path / f"bits{ext}")
    back = read_image(tmp_path / f"bits{ext}")
    assert back.dtype == np.uint8
    np.testing.assert_array_equal(back, bits.astype(np.uint8) * 255)


def test_sixteen_bit_grey_png_written_by_pillow(tmp_path):
    image = random_image((5, 6), np.uint16)
    Image.fromarray(image).save(tmp_path / "g16.png")
    back = read_image(tmp_path / "g16.png")
    assert back.dtype == np.uint16
    np.testing.assert_array_equal(back, image)


def test_rgb_png_with_transparent_key_colour_gets_alpha(tmp_path):
    image = random_image((5, 6, 3), np.uint8)
    image[0, 0] = (1, 2, 3)
    Image.fromarray(image).save(tmp_path / "key.png", transparency=(1, 2, 3))
    back = read_image(tmp_path / "key.png")
    assert back.shape == (5, 6, 4) and back[0, 0, 3] == 0
    np.testing.assert_array_equal(back[..., :3], image)
    assert image_info(tmp_path / "key.png").channels == 4


def test_content_decides_format_not_extension(tmp_path):
    image = random_image((5, 6, 3), np.uint8)
    Image.fromarray(image).save(tmp_path / "really_png.jpg", format="PNG")
    np.testing.assert_array_equal(read_image(tmp_path / "really_png.jpg"), image)
    assert image_info(tmp_path / "really_png.jpg").format == "PNG"


def test_jpeg_decodes_the_same_without_opencv_rgb_flag(tmp_path, monkeypatch):
    write_image(tmp_path / "a.jpg", photo())
    direct_rgb = read_image(tmp_path / "a.jpg")
    monkeypatch.delattr(wio.cv2, "IMREAD_COLOR_RGB", raising=False)  # as on OpenCV < 4.11
    np.testing.assert_array_equal(read_image(tmp_path / "a.jpg"), direct_rgb)


def test_jpeg_with_bytes_after_end_marker_still_reads(tmp_path):
    write_image(tmp_path / "a.jpg", photo())
    plain = read_image(tmp_path / "a.jpg")
    (tmp_path / "b.jpg").write_bytes((tmp_path / "a.jpg").read_bytes() + b"\0" * 64)
    padded = read_image(tmp_path / "b.jpg")  # decoded by the fallback decoder
    assert np.abs(padded.astype(int) - plain).max() <= 2


# --------------------------------------------------------------------------------------------
# image_info


def test_image_info_fields(tmp_path):
    image = random_image((30, 40, 4), np.uint16)
    path = tmp_path / "info.png"
    write_image(path, image)
    info = image_info(str(path))
    assert info == ImageInfo(
        path=path, format="PNG", width=40, height=30, channels=4, dtype="uint16",
        orientation=1, file_size=path.stat().st_size,
    )
    assert info.shape == (30, 40, 4) and not info.exif_rotated
    with pytest.raises(AttributeError):
        info.width = 3  # type: ignore[misc]


# --------------------------------------------------------------------------------------------
# Bad input: each raises ImageReadError naming the file


def test_missing_file(tmp_path):
    path = tmp_path / "nope.png"
    with pytest.raises(ImageReadError, match="no such file") as excinfo:
        read_image(path)
    assert_names_file(excinfo, path)
    with pytest.raises(ImageReadError):
        image_info(path)


def test_directory(tmp_path):
    path = tmp_path / "folder.png"
    path.mkdir()
    with pytest.raises(ImageReadError, match="folder") as excinfo:
        read_image(path)
    assert_names_file(excinfo, path)


@pytest.mark.skipif(
    sys.platform == "win32" or (hasattr(os, "geteuid") and os.geteuid() == 0),
    reason="file permissions do not stop root (or work differently on Windows)",
)
def test_permission_denied(tmp_path):
    path = tmp_path / "secret.png"
    write_image(path, random_image((4, 4), np.uint8))
    path.chmod(0)
    try:
        with pytest.raises(ImageReadError, match="permission denied") as excinfo:
            read_image(path)
        assert_names_file(excinfo, path)
    finally:
        path.chmod(0o600)


def test_permission_denied_message(tmp_path, monkeypatch):
    path = tmp_path / "locked.png"
    write_image(path, random_image((4, 4), np.uint8))

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(wio, "open", refuse, raising=False)  # shadows the builtin in the module
    with pytest.raises(ImageReadError, match="permission denied") as excinfo:
        read_image(path)
    assert_names_file(excinfo, path)
    monkeypatch.setattr(wio.os, "open", refuse)
    with pytest.raises(ImageWriteError, match="permission denied") as excinfo:
        write_image(tmp_path / "new.png", random_image((4, 4), np.uint8))
    assert_names_file(excinfo, tmp_path / "new.png")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    with pytest.raises(ImageReadError, match="empty") as excinfo:
        read_image(path)
    assert_names_file(excinfo, path)


def test_garbage_named_png(tmp_path):
    path = tmp_path / "garbage.png"
    path.write_bytes(RNG.integers(0, 256, 5000, dtype=np.uint8).tobytes())
    with pytest.raises(ImageReadError, match="not an image") as excinfo:
        read_image(path)
    assert_names_file(excinfo, path)
    assert ".png" in str(excinfo.value)  # lists what is supported


@pytest.mark.parametrize("lenient_opencv", [False, True])
def test_truncated_jpeg_is_detected(tmp_path, monkeypatch, lenient_opencv):
    path = tmp_path / "cut.jpg"
    write_image(path, photo(256, 256))
    blob = path.read_bytes()
    path.write_bytes(blob[: len(blob) // 2])
    assert cv2.imread(str(path)) is not None  # cv2.imread pads the missing part with grey
    if lenient_opencv:  # so does cv2.imdecode in some OpenCV versions: must not matter

        def padded_with_grey(buffer, flags):
            return np.full((256, 256, 3), 128, np.uint8)

        monkeypatch.setattr(wio.cv2, "imdecode", padded_with_grey)
    with pytest.raises(ImageReadError, match="file is truncated") as excinfo:
        read_image(path)
    assert_names_file(excinfo, path)


@pytest.mark.parametrize("ext", [".png", ".tif", ".webp", ".bmp", ".ppm", ".pgm"])
def test_truncated_files_are_detected(tmp_path, ext):
    path = tmp_path / f"cut{ext}"
    write_image(path, random_image((64, 64) if ext == ".pgm" else (64, 64, 3), np.uint8))
    blob = path.read_bytes()
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(ImageReadError, match="file is truncated") as excinfo:
        read_image(path)
    assert_names_file(excinfo, path)
    assert ext[1:].upper().replace("WEBP", "WebP") in str(excinfo.value)


def test_corrupt_png_data(tmp_path):
    path = tmp_path / "corrupt.png"
    write_image(path, random_image((32, 32, 3), np.uint8))
    blob = bytearray(path.read_bytes())
    start = blob.index(b"IDAT") + 4
    blob[start + 10 : start + 60] = bytes(50)  # damages the deflate stream, CRC now wrong
    path.write_bytes(bytes(blob))
    with pytest.raises(ImageReadError, match="corrupt") as excinfo:
        read_image(path)
    assert_names_file(excinfo, path)


def test_corrupt_jpeg_data(tmp_path):
    path = tmp_path / "corrupt.jpg"
    write_image(path, photo())
    blob = bytearray(path.read_bytes())
    start = blob.index(b"\xff\xc4") + 4  # first Huffman table: make it invalid
    blob[start : start + 17] = b"\x00" + b"\xff" * 16
    path.write_bytes(bytes(blob))
    with pytest.raises(ImageReadError, match="corrupt") as excinfo:
        read_image(path)
    assert_names_file(excinfo, path)


def make_png_bomb(path: Path, width: int, height: int) -> None:
    """A 100-byte PNG whose header claims a huge image (its data could never fill it)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(bytes(64))) + png_chunk(b"IEND", b"")
    )


def test_decompression_bomb_is_refused_from_header(tmp_path):
    path = tmp_path / "bomb.png"
    make_png_bomb(path, 100_000, 100_000)
    limit_before = Image.MAX_IMAGE_PIXELS
    with pytest.raises(ImageReadError, match="100000 x 100000") as excinfo:
        read_image(path)
    assert_names_file(excinfo, path)
    assert f"{DEFAULT_MAX_PIXELS:,}" in str(excinfo.value)
    # image_info reports the size without decoding (Pillow's own limit would refuse it)
    info = image_info(path)
    assert (info.width, info.height) == (100_000, 100_000)
    assert Image.MAX_IMAGE_PIXELS == limit_before


def test_pixel_limit_is_configurable(tmp_path):
    path = tmp_path / "small.png"
    write_image(path, random_image((48, 64), np.uint8))
    with pytest.raises(ImageReadError, match="64 x 48") as excinfo:
        read_image(path, max_pixels=64 * 48 - 1)
    assert "3,071 pixels" in str(excinfo.value)
    assert read_image(path, max_pixels=64 * 48).shape == (48, 64)
    assert read_image(path, max_pixels=None).shape == (48, 64)
    with pytest.raises(ValueError):
        read_image(path, max_pixels=0)


def test_unsupported_tiff_variant(tmp_path):
    path = tmp_path / "int32.tif"
    Image.fromarray(random_image((4, 5), np.int32)).save(path)
    with pytest.raises(ImageReadError, match="32-bit signed integer") as excinfo:
        read_image(path)
    assert_names_file(excinfo, path)


# --------------------------------------------------------------------------------------------
# Writing: conversions, refusals, atomicity


def test_uint16_to_jpeg_uses_the_display_rule(tmp_path):
    image = np.full((16, 16), 257 * 100 + 100, np.uint16)  # 100.39 -> 100
    write_image(tmp_path / "deep.jpg", image)
    assert np.abs(read_image(tmp_path / "deep.jpg").astype(int) - 100).max() <= 1


def test_unit_float_is_scaled_to_8_bit(tmp_path):
    image = np.array([[0.0, 0.5, 1.0, 0.2, -0.2, 1.2]], np.float64)  # with bicubic overshoot
    write_image(tmp_path / "f.png", image)
    back = read_image(tmp_path / "f.png")
    assert back.dtype == np.uint8
    np.testing.assert_array_equal(back, [[0, 128, 255, 51, 0, 255]])


@pytest.mark.parametrize(
    "bad", [np.array([[0.0, 2.0]]), np.array([[-0.5, 0.5]]), np.array([[0.0, np.nan]])]
)
def test_float_outside_unit_range_is_refused(tmp_path, bad):
    with pytest.raises(ImageWriteError, match="f.png"):
        write_image(tmp_path / "f.png", bad)
    assert not list(tmp_path.iterdir())


def test_bool_is_written_as_0_255(tmp_path):
    mask = np.eye(5, dtype=bool)
    write_image(tmp_path / "mask.png", mask)
    np.testing.assert_array_equal(read_image(tmp_path / "mask.png"), mask * np.uint8(255))


@pytest.mark.parametrize(
    ("name", "shape", "match"),
    [
        ("a.jpg", (4, 4, 4), "transparency"),
        ("a.bmp", (4, 4, 4), "transparency"),
        ("a.pgm", (4, 4, 3), "grey"),
        ("a.ppm", (4, 4), "RGB"),
        ("a.png", (4, 4, 2), "shape"),
        ("a.png", (0, 4), "shape"),
    ],
)
def test_image_the_format_cannot_hold_is_refused(tmp_path, name, shape, match):
    with pytest.raises(ImageWriteError, match=match) as excinfo:
        write_image(tmp_path / name, np.zeros(shape, np.uint8))
    assert_names_file(excinfo, tmp_path / name)


def test_unknown_extension_lists_supported(tmp_path):
    with pytest.raises(ImageWriteError) as excinfo:
        write_image(tmp_path / "out.gif", np.zeros((4, 4), np.uint8))
    message = str(excinfo.value)
    assert "out.gif" in message
    assert all(ext in message for ext in SUPPORTED_WRITE_EXTENSIONS)


def test_missing_folder(tmp_path):
    path = tmp_path / "no" / "such" / "out.png"
    with pytest.raises(ImageWriteError, match="does not exist") as excinfo:
        write_image(path, np.zeros((4, 4), np.uint8))
    assert_names_file(excinfo, path)


def test_not_an_array_is_an_input_error(tmp_path):
    with pytest.raises(ImageWriteError, match="numpy array"):
        write_image(tmp_path / "x.png", [[0, 1]])  # type: ignore[arg-type]


@pytest.fixture
def existing(tmp_path) -> tuple[Path, bytes]:
    path = tmp_path / "keep.png"
    write_image(path, random_image((8, 8, 3), np.uint8))
    return path, path.read_bytes()


def assert_untouched(existing: tuple[Path, bytes]) -> None:
    path, blob = existing
    assert path.read_bytes() == blob
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temp files left


def test_unsupported_dtype_leaves_existing_file(existing):
    with pytest.raises(ImageWriteError, match="int64"):
        write_image(existing[0], np.zeros((8, 8), np.int64))
    assert_untouched(existing)


def test_encoder_failure_leaves_existing_file(existing, monkeypatch):
    def broken(*args, **kwargs):
        raise cv2.error("simulated encoder failure")

    monkeypatch.setattr(wio.cv2, "imencode", broken)
    with pytest.raises(ImageWriteError, match="encoding failed"):
        write_image(existing[0], np.zeros((8, 8, 3), np.uint8))
    assert_untouched(existing)


def test_failure_while_replacing_leaves_existing_file(existing, monkeypatch):
    def disk_full(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(wio.os, "replace", disk_full)
    with pytest.raises(ImageWriteError, match="disk is full"):
        write_image(existing[0], np.zeros((8, 8, 3), np.uint8))
    assert_untouched(existing)


def test_failure_while_writing_leaves_existing_file(existing, monkeypatch):
    def fsync_fails(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(wio.os, "fsync", fsync_fails)
    with pytest.raises(ImageWriteError, match="Input/output error"):
        write_image(existing[0], np.zeros((8, 8, 3), np.uint8))
    assert_untouched(existing)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_overwrite_replaces_content_and_keeps_permissions(existing):
    path, _ = existing
    path.chmod(0o640)
    image = random_image((3, 5, 3), np.uint8)
    write_image(path, image)
    np.testing.assert_array_equal(read_image(path), image)
    assert path.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


# --------------------------------------------------------------------------------------------
# to_uint8_display


def test_display_uint16_is_value_over_257_rounded():
    every = np.arange(65536, dtype=np.uint16).reshape(256, 256)
    expected = np.floor(every / 257 + 0.5).astype(np.uint8)
    np.testing.assert_array_equal(to_uint8_display(every), expected)


def test_display_uint8_is_returned_unchanged():
    image = random_image((3, 4, 3), np.uint8)
    assert to_uint8_display(image) is image


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([0.0, 0.5, 1.0, 1.5, -0.2, np.nan], [0, 128, 255, 255, 0, 0]),  # unit range, clipped
        ([0.0, 127.6, 255.0, 300.0], [0, 128, 255, 255]),  # clearly 0..255
    ],
)
def test_display_float(values, expected):
    image = np.array([values], np.float32)
    np.testing.assert_array_equal(to_uint8_display(image), [expected])


def test_display_keeps_shape_and_alpha():
    rgba = np.zeros((2, 3, 4), np.uint16)
    rgba[..., 3] = 65535
    shown = to_uint8_display(rgba)
    assert shown.shape == (2, 3, 4) and shown.dtype == np.uint8
    assert (shown[..., 3] == 255).all() and (shown[..., :3] == 0).all()
    np.testing.assert_array_equal(to_uint8_display(np.eye(2, dtype=bool)), [[255, 0], [0, 255]])


def test_display_refuses_signed_integers():
    with pytest.raises(InputError, match="int32"):
        to_uint8_display(np.zeros((2, 2), np.int32))


def test_module_never_imports_qt():
    code = (
        "import sys, workbench.imaging.io; "
        "sys.exit(any(m.split('.')[0] in ('PySide6', 'PyQt5', 'PyQt6') for m in sys.modules))"
    )
    root = Path(__file__).resolve().parents[1]
    assert subprocess.run([sys.executable, "-c", code], cwd=root).returncode == 0


# --- TIFF variants OpenCV and Pillow cannot hold (written with tifffile, as scientific tools do)


def test_float64_and_float16_tiffs_are_read_as_float32(tmp_path):
    tifffile = pytest.importorskip("tifffile")
    rng = np.random.default_rng(7)
    gray, rgb = rng.random((20, 30)), rng.random((20, 30, 3))
    tifffile.imwrite(tmp_path / "g64.tif", gray)
    tifffile.imwrite(tmp_path / "c64.tif", rgb, photometric="rgb")
    tifffile.imwrite(tmp_path / "p64.tif", np.moveaxis(rgb, -1, 0), photometric="rgb",
                     planarconfig="separate")
    tifffile.imwrite(tmp_path / "g16.tif", gray.astype(np.float16))
    for name, want in (("g64", gray), ("c64", rgb), ("p64", rgb),
                       ("g16", gray.astype(np.float16))):
        image = read_image(tmp_path / f"{name}.tif")
        assert image.dtype == np.float32 and image.shape == want.shape, name
        np.testing.assert_allclose(image, want, atol=1e-6, err_msg=name)
        assert image_info(tmp_path / f"{name}.tif").shape == want.shape


def test_a_multi_page_float64_tiff_gives_its_first_page(tmp_path):
    tifffile = pytest.importorskip("tifffile")
    pages = np.random.default_rng(8).random((3, 12, 16))
    with tifffile.TiffWriter(tmp_path / "stack.tif") as writer:
        for page in pages:
            writer.write(page)
    np.testing.assert_allclose(read_image(tmp_path / "stack.tif"), pages[0], atol=1e-6)


def test_an_unsupported_tiff_variant_is_named_in_the_message(tmp_path):
    tifffile = pytest.importorskip("tifffile")
    tifffile.imwrite(tmp_path / "s16.tif", np.arange(12, dtype=np.int16).reshape(3, 4))
    with pytest.raises(ImageReadError, match="16-bit signed integer \\(gray\\).*Convert"):
        read_image(tmp_path / "s16.tif")


def test_big_endian_arrays_are_written_and_displayed_like_native_ones(tmp_path):
    native = (np.arange(48).reshape(6, 8) * 1000).astype(np.uint16)
    big = native.astype(">u2")
    write_image(tmp_path / "big.png", big)
    np.testing.assert_array_equal(read_image(tmp_path / "big.png"), native)
    np.testing.assert_array_equal(to_uint8_display(big), to_uint8_display(native))
    floats = native.astype(np.float32) / 65535
    np.testing.assert_array_equal(to_uint8_display(floats.astype(">f4")),
                                  to_uint8_display(floats))
