"""`workbench colorize clip.mp4 -o out.mp4`: frames colorized, rate, size and sound kept."""

from __future__ import annotations

import json
import sys
from fractions import Fraction

import numpy as np
import pytest
from onnx_models import realistic_model

from workbench.cli import main

av = pytest.importorskip("av", reason="PyAV (the video extra) is not installed")


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return str(realistic_model(tmp_path_factory.mktemp("m") / "bins.onnx", size=64, width=8))


def _clip_with_sound(path, frames=30, fps=15, size=(96, 64), seconds_of_sound=2.0, gop=None):
    """A gray clip (a bright band and a fading rest) with a 440 Hz tone as AAC."""
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = size[0], size[1], "yuv420p"
        if gop:
            video.options = {"g": str(gop)}
        audio = out.add_stream("aac", rate=22050)
        for i in range(frames):
            gray = np.full((size[1], size[0], 3), (i * 8) % 256, np.uint8)
            gray[:, : size[0] // 2] = 200
            for packet in video.encode(av.VideoFrame.from_ndarray(gray, "rgb24")):
                out.mux(packet)
        for packet in video.encode(None):
            out.mux(packet)
        t = np.arange(int(22050 * seconds_of_sound)) / 22050
        tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        for start in range(0, tone.size, 1024):
            chunk = tone[start:start + 1024][None, :]
            frame = av.AudioFrame.from_ndarray(chunk, format="flt", layout="mono")
            frame.sample_rate = 22050
            frame.pts = start
            for packet in audio.encode(frame):
                out.mux(packet)
        for packet in audio.encode(None):
            out.mux(packet)
    return path


def _describe(path):
    """Frames, rate, size and sound of a file (read while it is open: a stream's fields are
    not valid after its container closes)."""
    with av.open(str(path)) as clip:
        v = clip.streams.video[0]
        rate, size = v.average_rate, (v.codec_context.width, v.codec_context.height)
        frames = sum(1 for _ in clip.decode(v))
    with av.open(str(path)) as clip:
        a = clip.streams.audio[0] if clip.streams.audio else None
        audio = None if a is None else (a.codec_context.name, a.codec_context.sample_rate,
                                        float(sum(p.duration or 0 for p in clip.demux(a)
                                                  if p.dts is not None) * a.time_base))
    return {"frames": frames, "rate": rate, "size": size, "audio": audio}


def test_a_video_is_colorized_with_its_rate_size_and_sound(model, tmp_path, capsys):
    clip = _clip_with_sound(tmp_path / "clip.mp4")
    out = tmp_path / "clip_colour.mp4"
    code = main(["colorize", str(clip), "-o", str(out), "--model", model, "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    doc = json.loads(captured.out)
    assert doc["results"][0]["frames"] == 30 and doc["results"][0]["audio"] == "copied"
    src, got = _describe(clip), _describe(out)
    assert got["frames"] == src["frames"] == 30
    assert got["rate"] == src["rate"] == Fraction(15)
    assert got["size"] == src["size"] == (96, 64)
    assert got["audio"][:2] == src["audio"][:2] == ("aac", 22050)
    assert got["audio"][2] == pytest.approx(src["audio"][2], abs=0.05)
    with av.open(str(out)) as clip_out:  # the frames carry colour now (the input is gray)
        frame = next(clip_out.decode(video=0)).to_ndarray(format="rgb24").astype(int)
    assert np.abs(frame - frame.mean(axis=2, keepdims=True)).max() > 3
    assert not list(tmp_path.glob(".*partial*"))


def test_without_pyav_the_video_is_written_without_sound_and_says_so(
        model, tmp_path, monkeypatch, capsys):
    clip = _clip_with_sound(tmp_path / "clip.mp4", frames=10)
    monkeypatch.setitem(sys.modules, "av", None)
    out = tmp_path / "plain.mp4"
    assert main(["colorize", str(clip), "-o", str(out), "--model", model]) == 0
    assert "sound was left out" in capsys.readouterr().err
    assert out.stat().st_size > 0


def test_a_bad_output_name_is_one_line_and_exit_2(model, tmp_path, capsys):
    clip = _clip_with_sound(tmp_path / "clip.mp4", frames=5)
    assert main(["colorize", str(clip), "-o", str(tmp_path / "x.gif"), "--model", model]) == 2
    assert "use .mp4" in capsys.readouterr().err


def _clip_with_keyframes(path):
    return _clip_with_sound(path, frames=130, fps=25, seconds_of_sound=5.0, gop=25)


def test_chunks_start_at_keyframes_and_cover_the_video(tmp_path):
    from workbench.colorize.video import video_chunks

    clip = _clip_with_keyframes(tmp_path / "k.mp4")
    with av.open(str(clip)) as c:
        keys = [p.pts for p in c.demux(c.streams.video[0]) if p.is_keyframe and p.pts is not None]
    spans = video_chunks(clip, 3)
    assert len(spans) == 3 and spans[0][0] == keys[0] and spans[-1][1] is None
    assert all(a in keys for a, _ in spans)
    assert all(spans[i][1] == spans[i + 1][0] for i in range(len(spans) - 1))


@pytest.mark.parametrize("where", [["--workers", "2"],
                                   ["--scheduler", "local", "--workers", "2"]],
                         ids=["processes", "dask"])
def test_a_video_colorized_in_chunks_matches_the_one_piece_run(model, tmp_path, capsys, where):
    if "--scheduler" in where:
        pytest.importorskip("dask.distributed")
    clip = _clip_with_keyframes(tmp_path / "k.mp4")
    whole, chunked = tmp_path / "whole.mp4", tmp_path / "chunked.mp4"
    assert main(["colorize", str(clip), "-o", str(whole), "--model", model]) == 0
    assert main(["colorize", str(clip), "-o", str(chunked), "--model", model, *where]) == 0
    capsys.readouterr()
    a, b = _describe(whole), _describe(chunked)
    assert b["frames"] == a["frames"] == 130 and b["size"] == a["size"]
    assert b["audio"] == a["audio"]  # the sound copied as it was
    with av.open(str(whole)) as x, av.open(str(chunked)) as y:
        decoded_a, decoded_b = list(x.decode(video=0)), list(y.decode(video=0))
        fa = [f.to_ndarray(format="rgb24").astype(int) for f in decoded_a]
        fb = [f.to_ndarray(format="rgb24").astype(int) for f in decoded_b]
        ta = [f.pts * f.time_base for f in decoded_a]
        tb = [f.pts * f.time_base for f in decoded_b]
    assert tb == sorted(tb) and [float(t) for t in tb] == pytest.approx([float(t) for t in ta],
                                                                          abs=1e-3)
    # the same frames, up to the H.264 encodings of the two runs
    assert max(np.abs(p - q).mean() for p, q in zip(fa, fb, strict=True)) < 3
    assert not list(tmp_path.glob(".*chunks"))  # the chunk folder is removed once joined


@pytest.mark.parametrize("where", [[], ["--workers", "2"]], ids=["one piece", "chunks"])
def test_a_corrupt_video_is_one_line_and_exit_2(model, tmp_path, capsys, where):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video at all")
    assert main(["colorize", str(bad), "-o", str(tmp_path / "out.mp4"), "--model", model,
                 *where]) == 2
    err = capsys.readouterr().err
    assert "Cannot read video" in err and "internal error" not in err
    assert not (tmp_path / "out.mp4").exists()
