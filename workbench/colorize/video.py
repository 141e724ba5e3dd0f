"""Colorize a video file headless: every frame through the model, the sound carried over.

Video I/O is PyAV (the FFmpeg libraries, with H.264 and AAC, inside its wheel): unlike OpenCV's
``VideoWriter``, it reads and writes audio streams, so the soundtrack is copied packet for packet
(re-encoded to AAC only where the output container cannot hold the original codec); frame rate,
size and timestamps come from the source. PyAV is the optional ``video`` extra; without it a
video is written through OpenCV and says that the sound was left out.

Frames are colorized one by one, as the live view does (the model has no temporal state), so
the result flickers no more than the live view.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from workbench.errors import InputError
from workbench.imaging.video import VIDEO_EXTENSIONS

_COPYABLE_AUDIO = {  # container -> audio codecs it holds as they are
    ".mp4": {"aac", "mp3", "alac", "ac3", "opus"},
    ".m4v": {"aac", "mp3", "alac", "ac3"},
    ".mov": {"aac", "mp3", "alac", "ac3", "pcm_s16le", "pcm_s24le"},
    ".mkv": None,  # anything
}


@dataclass
class VideoReport:
    frames: int
    fps: float
    size: tuple[int, int]
    audio: str  # "copied", "re-encoded to AAC", "none in the source", "left out (...)"
    seconds: float


def is_video(path: str | Path) -> bool:
    return Path(path).suffix.lower() in VIDEO_EXTENSIONS


def _av():
    try:
        import av
    except ImportError:
        return None
    return av


def colorize_video(
    colorizer,
    source: str | Path,
    output: str | Path,
    *,
    temperature: float | None = None,
    saturation: float = 1.0,
    progress: Callable[[int, int], None] | None = None,
) -> VideoReport:
    """Colorize ``source`` into ``output`` (.mp4, .mkv, .mov or .m4v); see the module docstring.

    Written to a temporary file beside ``output`` and renamed at the end, so an interrupted
    run never leaves a half-written video under the real name.
    """
    import time

    source, output = Path(source), Path(output)
    if not source.is_file():
        raise InputError(f"No such video: {source}")
    if output.suffix.lower() not in _COPYABLE_AUDIO:
        raise InputError(f"Cannot write '{output.name}': use .mp4, .mkv, .mov or .m4v")
    if not output.parent.is_dir():
        raise InputError(f"Cannot write '{output}': the folder does not exist")
    start = time.perf_counter()
    partial = output.with_name(f".{output.stem}.partial{output.suffix}")
    av = _av()
    try:
        if av is None:
            report = _with_opencv(colorizer, source, partial, temperature, saturation, progress)
        else:
            report = _with_pyav(av, colorizer, source, partial, temperature, saturation,
                                progress)
        os.replace(partial, output)
    finally:
        partial.unlink(missing_ok=True)
    report.seconds = time.perf_counter() - start
    return report


def _with_pyav(av, colorizer, source, partial, temperature, saturation, progress):
    try:
        src = av.open(str(source))
    except av.FFmpegError as exc:
        raise InputError(f"Cannot read video '{source}': {exc}") from None
    with src:
        if not src.streams.video:
            raise InputError(f"'{source}' has no video stream")
        vin = src.streams.video[0]
        ain = src.streams.audio[0] if src.streams.audio else None
        rate = vin.average_rate or vin.guessed_rate or Fraction(25)
        total = vin.frames or 0
        with av.open(str(partial), "w") as dst:
            width, height = vin.codec_context.width, vin.codec_context.height
            even = width % 2 == 0 and height % 2 == 0
            vout = dst.add_stream("libx264", rate=rate)
            vout.width, vout.height = width, height
            vout.pix_fmt = "yuv420p" if even else "yuv444p"  # 4:2:0 needs even sides
            vout.options = {"crf": "18", "preset": "veryfast"}
            vout.time_base = vin.time_base
            audio, aout = "none in the source", None
            if ain is not None:
                allowed = _COPYABLE_AUDIO[partial.suffix.lower()]
                if allowed is None or ain.codec_context.name in allowed:
                    aout = dst.add_stream_from_template(ain)
                    audio = "copied"
                else:
                    aout = dst.add_stream("aac", rate=ain.codec_context.sample_rate)
                    audio = "re-encoded to AAC"
            frames = 0
            streams = [vin] + ([ain] if ain is not None else [])
            for packet in src.demux(*streams):
                if packet.stream is ain:
                    if packet.dts is None:
                        continue
                    if audio == "copied":
                        packet.stream = aout
                        dst.mux(packet)
                    else:
                        for frame in packet.decode():
                            dst.mux(aout.encode(frame))
                    continue
                for frame in packet.decode():
                    rgb = frame.to_ndarray(format="rgb24")
                    colour = colorizer.colorize(rgb, temperature, saturation)
                    out = av.VideoFrame.from_ndarray(np.ascontiguousarray(colour), "rgb24")
                    out.pts, out.time_base = frame.pts, frame.time_base
                    dst.mux(vout.encode(out))
                    frames += 1
                    if progress is not None:
                        progress(frames, total)
            dst.mux(vout.encode(None))
            if aout is not None and audio != "copied":
                dst.mux(aout.encode(None))
    return VideoReport(frames, float(rate), (width, height), audio, 0.0)


def _with_opencv(colorizer, source, partial, temperature, saturation, progress):
    from workbench.imaging.video import VideoFileSource, VideoRecorder

    with VideoFileSource(source) as src:
        fps = src.fps
        total = getattr(src, "frame_count", 0) or 0
        with VideoRecorder(partial, fps=fps) as rec:
            frames = 0
            size = (0, 0)
            for frame in src:
                colour = colorizer.colorize(frame, temperature, saturation)
                rec.write(colour)
                size = (colour.shape[1], colour.shape[0])
                frames += 1
                if progress is not None:
                    progress(frames, total)
    print("workbench: note: the sound was left out (install PyAV for it: "
          "pip install 'workbench[video]')", file=sys.stderr)
    return VideoReport(frames, fps, size, "left out (no PyAV)", 0.0)
