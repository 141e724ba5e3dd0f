"""Colorize a video file headless: every frame through the model, the sound carried over.

Video I/O is PyAV (the FFmpeg libraries, with H.264 and AAC, inside its wheel): unlike OpenCV's
``VideoWriter``, it reads and writes audio streams, so the soundtrack is copied packet for packet
(re-encoded to AAC only where the output container cannot hold the original codec); frame rate,
size and timestamps come from the source. PyAV is the optional ``video`` extra; without it a
video is written through OpenCV and says that the sound was left out.

Frames are colorized one by one, as the live view does (the model has no temporal state), so
the result flickers no more than the live view.

On Dask (or local processes) a long video is cut into chunks that start at keyframes
(:func:`video_chunks`); each chunk is colorized on a worker into a file of its own
(:class:`VideoChunkJob`, resumable like any batch task) and :func:`join_chunks` puts the encoded
chunks and the source's sound into the output without re-encoding them. Chunks are encoded
without B-frames so that their packets join in decoding order.
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


class _Sound:
    """The source's audio stream in the output: copied packet for packet where the container
    holds its codec, else re-encoded to AAC."""

    def __init__(self, dst, ain, suffix: str) -> None:
        self.ain, self.out = ain, None
        self.how = "none in the source"
        if ain is None:
            return
        allowed = _COPYABLE_AUDIO[suffix.lower()]
        if allowed is None or ain.codec_context.name in allowed:
            self.out, self.how = dst.add_stream_from_template(ain), "copied"
        else:
            self.out = dst.add_stream("aac", rate=ain.codec_context.sample_rate)
            self.how = "re-encoded to AAC"
        self.dst = dst

    def mux(self, packet) -> None:
        if packet.dts is None:
            return  # the demuxer's empty end-of-stream packet
        if self.how == "copied":
            packet.stream = self.out
            self.dst.mux(packet)
        else:
            for frame in packet.decode():
                self.dst.mux(self.out.encode(frame))

    def close(self) -> None:
        if self.out is not None and self.how != "copied":
            self.dst.mux(self.out.encode(None))


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
            sound = _Sound(dst, ain, partial.suffix)
            frames = 0
            streams = [vin] + ([ain] if ain is not None else [])
            for packet in src.demux(*streams):
                if packet.stream is ain:
                    sound.mux(packet)
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
            sound.close()
    return VideoReport(frames, float(rate), (width, height), sound.how, 0.0)


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


# ------------------------------------------------------------------------- chunks (Dask)
def video_chunks(source: str | Path, count: int) -> list[tuple[int, int | None]]:
    """Up to ``count`` chunks ``(start_pts, end_pts)`` of about equal length, each starting at
    a keyframe (``end_pts`` None: to the end), in the video stream's time base."""
    av = _need_av()
    try:
        with av.open(str(source)) as src:
            if not src.streams.video:
                raise InputError(f"'{source}' has no video stream")
            stream = src.streams.video[0]
            keys = sorted(p.pts for p in src.demux(stream)
                          if p.is_keyframe and p.pts is not None)
    except av.FFmpegError as exc:
        raise InputError(f"Cannot read video '{source}': {exc}") from None
    if not keys:
        raise InputError(f"'{source}' has no keyframes to cut at")
    count = max(1, min(count, len(keys)))
    picks = sorted({keys[round(i * len(keys) / count)] for i in range(count)})
    return [(start, picks[i + 1] if i + 1 < len(picks) else None)
            for i, start in enumerate(picks)]


def _need_av():
    av = _av()
    if av is None:
        raise InputError("Colorizing a video in chunks needs PyAV: pip install "
                         "'workbench[video]'")
    return av


def colorize_chunk(colorizer, source: str | Path, start: int, end: int | None,
                   output: str | Path, temperature: float | None = None,
                   saturation: float = 1.0) -> int:
    """Colorize the frames with ``start <= pts < end`` into ``output`` (Matroska, video only,
    the source's timestamps); written atomically. Returns the number of frames."""
    av = _need_av()
    output = Path(output)
    partial = output.with_name(f".{output.name}.partial.mkv")
    frames = 0
    try:
        with av.open(str(source)) as src:
            vin = src.streams.video[0]
            src.seek(start, stream=vin, backward=True, any_frame=False)
            with av.open(str(partial), "w", format="matroska") as dst:
                vout = _chunk_stream(dst, vin)
                for frame in src.decode(vin):
                    if frame.pts is None or frame.pts < start:
                        continue
                    if end is not None and frame.pts >= end:
                        break
                    colour = colorizer.colorize(frame.to_ndarray(format="rgb24"), temperature,
                                                saturation)
                    out = av.VideoFrame.from_ndarray(np.ascontiguousarray(colour), "rgb24")
                    out.pts, out.time_base = frame.pts, frame.time_base
                    dst.mux(vout.encode(out))
                    frames += 1
                dst.mux(vout.encode(None))
        os.replace(partial, output)
    finally:
        partial.unlink(missing_ok=True)
    return frames


def _chunk_stream(dst, vin):
    rate = vin.average_rate or vin.guessed_rate or Fraction(25)
    width, height = vin.codec_context.width, vin.codec_context.height
    vout = dst.add_stream("libx264", rate=rate)
    vout.width, vout.height = width, height
    vout.pix_fmt = "yuv420p" if width % 2 == 0 and height % 2 == 0 else "yuv444p"
    vout.options = {"crf": "18", "preset": "veryfast", "bf": "0"}  # joinable in order
    vout.time_base = vin.time_base
    return vout


def join_chunks(source: str | Path, chunks: list[Path], output: str | Path) -> VideoReport:
    """The encoded chunks, in order, plus the source's sound, into ``output`` (atomically)."""
    av = _need_av()
    output = Path(output)
    partial = output.with_name(f".{output.stem}.partial{output.suffix}")
    frames = 0
    try:
        with av.open(str(source)) as src, av.open(str(partial), "w") as dst:
            vin = src.streams.video[0]
            ain = src.streams.audio[0] if src.streams.audio else None
            with av.open(str(chunks[0])) as first:
                vout = dst.add_stream_from_template(first.streams.video[0])
            sound = _Sound(dst, ain, output.suffix)
            for chunk in chunks:
                with av.open(str(chunk)) as part:
                    for packet in part.demux(part.streams.video[0]):
                        if packet.pts is None or packet.size == 0:
                            continue  # the demuxer's empty end-of-stream packet
                        if packet.dts is None:  # Matroska may omit it; no B-frames: dts = pts
                            packet.dts = packet.pts
                        packet.stream = vout
                        dst.mux(packet)
                        frames += 1
            if ain is not None:
                for packet in src.demux(ain):
                    sound.mux(packet)
            sound.close()
            rate = float(vin.average_rate or 25)
            size = (vin.codec_context.width, vin.codec_context.height)
        os.replace(partial, output)
    finally:
        partial.unlink(missing_ok=True)
    return VideoReport(frames, rate, size, sound.how, 0.0)


@dataclass(frozen=True)
class VideoChunkJob:
    """One chunk of one video per task: ``task.source`` is ``"<video>#<start>:<end>"``."""

    model: str | None = None
    provider: str = "auto"
    temperature: float | None = None
    saturation: float = 1.0
    name: str = "colorize-video"

    def setup(self):
        from workbench.colorize.engine import Colorizer

        return Colorizer(self.model, provider=self.provider)

    def run(self, colorizer, task) -> None:
        path, _, span = task.source.rpartition("#")
        start, _, end = span.partition(":")
        colorize_chunk(colorizer, path, int(start), int(end) if end else None, task.output,
                       self.temperature, self.saturation)


def colorize_video_distributed(source: str | Path, output: str | Path, *, model=None,
                               provider="auto", temperature=None, saturation=1.0, workers=0,
                               scheduler=None, resume=False, progress=None,
                               on_start=None) -> VideoReport:
    """Colorize a video in keyframe chunks on local processes or Dask, then join them.

    The chunks go into a folder beside the output (``.<name>.chunks``), with the batch
    manifest, so ``resume`` redoes only the chunks a killed run had not finished; the folder is
    removed once the video is joined."""
    import shutil
    import time

    from workbench.batch import Task, run_batch

    source, output = Path(source), Path(output)
    if output.suffix.lower() not in _COPYABLE_AUDIO:
        raise InputError(f"Cannot write '{output.name}': use .mp4, .mkv, .mov or .m4v")
    start_time = time.perf_counter()
    count = max(2, 4 * (workers or os.cpu_count() or 1))
    spans = video_chunks(source, count)
    folder = output.with_name(f".{output.name}.chunks")
    tasks = [Task(f"{source}#{a}:{'' if b is None else b}", str(folder / f"chunk{i:04d}.mkv"))
             for i, (a, b) in enumerate(spans)]
    job = VideoChunkJob(model, provider, temperature, saturation)
    report = run_batch(job, tasks, workers=workers, scheduler=scheduler, resume=resume,
                       progress=progress, on_start=on_start)
    if report.failed:
        raise InputError(f"{len(report.failed)} of {len(tasks)} chunks failed: "
                         f"{report.failed[0][1]}")
    joined = join_chunks(source, [Path(t.output) for t in tasks], output)
    shutil.rmtree(folder, ignore_errors=True)
    joined.seconds = time.perf_counter() - start_time
    return joined
