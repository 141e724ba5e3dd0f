"""Folder jobs of the Rectify tool: a saved matrix or found corners applied to many photos."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from corner_pages import page_photo

from workbench.cli import main
from workbench.imaging.io import read_image, write_image
from workbench.rectify.batch import (
    apply_matrix_files,
    auto_files,
    auto_rectify,
    expand_inputs,
    load_matrix,
)
from workbench.rectify.homography import RectifyInputError, rectify_homography
from workbench.rectify.warp import warp_perspective

REPO = Path(__file__).resolve().parents[1]  # this checkout's workbench, also in subprocesses
CORNERS = [[40, 30], [200, 45], [190, 170], [30, 160]]
SIZE = (120, 100)


def photo(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return cv2.GaussianBlur(rng.integers(0, 255, (180, 240, 3), dtype=np.uint8), (5, 5), 0)


@pytest.fixture
def folder(tmp_path):
    """Five photos, the third one a corrupt file."""
    src = tmp_path / "in"
    src.mkdir()
    for i in range(5):
        if i == 2:
            (src / "c_broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really" * 10)
        else:
            write_image(src / f"{'abcde'[i]}_{i}.png", photo(i))
    return src


@pytest.fixture
def matrix_file(tmp_path):
    H = rectify_homography(CORNERS, SIZE)
    path = tmp_path / "H.json"
    path.write_text(json.dumps({"H": H.tolist(), "size": list(SIZE), "corners": CORNERS}))
    return path, H


def test_expand_inputs_lists_the_images_of_a_folder_in_order(folder, tmp_path):
    (folder / "notes.txt").write_text("not an image")
    extra = tmp_path / "extra.png"
    files = expand_inputs([folder, extra])
    assert [p.name for p in files] == ["a_0.png", "b_1.png", "c_broken.png", "d_3.png",
                                       "e_4.png", "extra.png"]


def test_load_matrix_reads_save_matrix_and_rectify_json(tmp_path, matrix_file):
    path, H = matrix_file
    H2, size = load_matrix(path)
    assert size == SIZE and H2 == pytest.approx(H)
    from workbench.rectify.session import RectifySession, save_matrix

    session = RectifySession()
    session.load(photo(0))
    session.corners.set_all([tuple(p) for p in CORNERS])
    save_matrix(tmp_path / "saved.json", session.matrix_document())
    H3, size3 = load_matrix(tmp_path / "saved.json")
    assert H3 == pytest.approx(session.homography())
    assert list(size3) == session.matrix_document()["size"]


@pytest.mark.parametrize("text,needle", [
    ("{", "not a matrix"),
    ('{"H": [[1, 0], [0, 1]], "size": [3, 3]}', "3×3"),
    ('{"size": [3, 3]}', '"H"'),
    ('{"H": [[1, 0, 0], [0, 1, 0], [0, 0, 1]], "size": [0, 3]}', "positive"),
    ('{"H": [[0, 0, 0], [0, 0, 0], [0, 0, 0]], "size": [3, 3]}', "invertible"),
])
def test_load_matrix_rejects_bad_files_in_one_line(tmp_path, text, needle):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(RectifyInputError) as err:
        load_matrix(path)
    assert needle in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(RectifyInputError, match="No such"):
        load_matrix(tmp_path / "missing.json")


def test_a_corrupt_file_in_the_middle_is_reported_and_the_rest_written(folder, tmp_path,
                                                                       matrix_file):
    _, H = matrix_file
    out = tmp_path / "out"
    seen = []
    report = apply_matrix_files(H, SIZE, [folder], out, progress=lambda i, n, p: seen.append(i))
    assert [p.name for p in report.written] == ["a_0.png", "b_1.png", "d_3.png", "e_4.png"]
    assert [p.name for p, _ in report.failed] == ["c_broken.png"]
    assert "c_broken.png" in report.failed[0][1]
    assert seen == [1, 2, 3, 4, 5]  # tasks done, after each
    assert not report.ok
    expected = warp_perspective(photo(3), H, SIZE)
    assert np.array_equal(read_image(out / "d_3.png"), expected)
    assert not list(out.glob("*.tmp*"))  # nothing half written
    assert [p.name for p in out.glob(".*")] == [".workbench-batch.jsonl"]  # only the manifest


def test_resume_skips_what_is_done_and_redoes_what_is_missing(folder, tmp_path, matrix_file):
    _, H = matrix_file
    out = tmp_path / "out"
    apply_matrix_files(H, SIZE, [folder], out)
    (out / "b_1.png").unlink()
    stamp = (out / "a_0.png").stat().st_mtime_ns
    report = apply_matrix_files(H, SIZE, [folder], out, resume=True)
    assert [p.name for p in report.written] == ["b_1.png"]
    assert [p.name for p in report.skipped] == ["a_0.png", "d_3.png", "e_4.png"]
    assert [p.name for p, _ in report.failed] == ["c_broken.png"]  # tried again, still broken
    assert (out / "a_0.png").stat().st_mtime_ns == stamp
    again = apply_matrix_files(H, SIZE, [folder], out)  # without resume: everything again
    assert len(again.written) == 4 and not again.skipped


def test_cancel_stops_between_files(folder, tmp_path, matrix_file):
    _, H = matrix_file
    out = tmp_path / "out"
    calls = []

    def cancelled():
        calls.append(1)
        return len(calls) > 2

    report = apply_matrix_files(H, SIZE, [folder], out, cancelled=cancelled)
    assert report.cancelled
    assert [p.name for p in report.written] == ["a_0.png", "b_1.png"]
    assert sorted(p.name for p in out.glob("*.png")) == ["a_0.png", "b_1.png"]


def test_a_process_pool_gives_the_same_outputs(folder, tmp_path, matrix_file):
    _, H = matrix_file
    one = apply_matrix_files(H, SIZE, [folder], tmp_path / "one", workers=1)
    two = apply_matrix_files(H, SIZE, [folder], tmp_path / "two", workers=2)
    assert [p.name for p in two.written] == [p.name for p in one.written]
    assert [p.name for p, _ in two.failed] == ["c_broken.png"]
    for p in one.written:
        assert np.array_equal(read_image(p), read_image(tmp_path / "two" / p.name))


def test_auto_finds_the_page_and_lists_the_photos_without_one(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    page = next(p for p in (page_photo(s) for s in range(10)) if not p.cut_off)
    write_image(src / "page.png", page.image)
    write_image(src / "plain.png", np.full((200, 300, 3), 128, np.uint8))
    report = auto_files([src], tmp_path / "out")
    assert [p.name for p in report.written] == ["page.png"]
    assert [p.name for p in report.not_found] == ["plain.png"]
    result, doc = auto_rectify(page.image)
    assert read_image(tmp_path / "out" / "page.png").shape == result.shape
    assert list(doc) >= ["H", "size"]
    w, h = doc["size"]
    assert 0.6 < w / h < 0.82  # an A4 page: 210 / 297 = 0.71


# --- the command line ----------------------------------------------------------------

def run_cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "workbench", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(REPO)})


def test_cli_matrix_folder_job_exit_codes_and_resume(folder, tmp_path, matrix_file, capsys):
    path, _ = matrix_file
    out = tmp_path / "out"
    code = main(["rectify", "--matrix", str(path), str(folder), "--out-dir", str(out),
                 "--workers", "1", "--json"])
    captured = capsys.readouterr()
    assert code == 2  # one file failed
    doc = json.loads(captured.out)
    assert len(doc["written"]) == 4 and doc["failed"][0]["input"].endswith("c_broken.png")
    assert "c_broken.png" in captured.err
    (folder / "c_broken.png").unlink()
    code = main(["rectify", "--matrix", str(path), str(folder), "--out-dir", str(out),
                 "--resume", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["written"] == [] and len(doc["skipped"]) == 4


def test_cli_auto_prints_corners_confidence_and_candidates(tmp_path, capsys):
    page = next(p for p in (page_photo(s) for s in range(10)) if not p.cut_off)
    src = tmp_path / "page.jpg"
    write_image(src, page.image)
    code = main(["rectify", str(src), str(tmp_path / "flat.png"), "--auto", "--json"])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) >= {"H", "size", "corners", "confidence", "candidates"}
    diag = np.hypot(*page.image.shape[:2])
    assert np.max(np.hypot(*(np.array(doc["corners"]) - page.corners).T)) < 0.01 * diag
    assert doc["candidates"][0] == {"corners": doc["corners"], "confidence": doc["confidence"]}
    H = np.array(doc["H"])
    p = H @ [*doc["corners"][2], 1]
    assert p[:2] / p[2] == pytest.approx([doc["size"][0] - 1, doc["size"][1] - 1], abs=0.01)
    assert read_image(tmp_path / "flat.png").shape[:2] == (doc["size"][1], doc["size"][0])


@pytest.mark.parametrize("args,needle", [
    (["rectify", "{plain}", "o.png", "--auto"], "no rectangle"),
    (["rectify", "--matrix", "{H}", "{plain}", "o.png"], "--out-dir"),
    (["rectify", "{plain}", "--auto"], "IN OUT"),
    (["rectify", "{plain}", "o.png", "--auto", "--points", "0,0", "1,0", "1,1", "0,1"],
     "not allowed"),
    (["rectify", "--matrix", "{missing}", "{plain}", "--out-dir", "d"], "no such"),
    (["rectify", "{plain}", "--points", "0,0", "1,0", "1,1", "0,1", "--out-dir", "d"],
     "--matrix or --auto"),
])
def test_cli_bad_use_exits_2_with_one_line(tmp_path, matrix_file, args, needle):
    plain = tmp_path / "plain.png"
    write_image(plain, np.full((120, 160, 3), 128, np.uint8))
    subs = {"{plain}": str(plain), "{H}": str(matrix_file[0]),
            "{missing}": str(tmp_path / "missing.json")}
    proc = run_cli(*[subs.get(a, a) for a in args], cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert needle.lower() in lines[0].lower()


def test_cli_auto_folder_lists_photos_to_do_by_hand(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    page = next(p for p in (page_photo(s) for s in range(10)) if not p.cut_off)
    write_image(src / "page.png", page.image)
    write_image(src / "plain.png", np.full((200, 300, 3), 128, np.uint8))
    proc = run_cli("rectify", "--auto", src, "--out-dir", tmp_path / "out", cwd=tmp_path)
    assert proc.returncode == 2
    assert "plain.png" in proc.stderr and "by hand" in proc.stderr
    assert (tmp_path / "out" / "page.png").is_file()
    assert not (tmp_path / "out" / "plain.png").exists()


def test_a_saved_matrix_on_a_dask_local_cluster_gives_the_same_bytes(folder, tmp_path,
                                                                    matrix_file):
    pytest.importorskip("dask.distributed")
    _, H = matrix_file
    inline = apply_matrix_files(H, SIZE, [folder], tmp_path / "inline")
    dask = apply_matrix_files(H, SIZE, [folder], tmp_path / "dask", workers=2,
                              scheduler="local")
    assert [p.name for p in dask.written] == [p.name for p in inline.written]
    assert [p.name for p, _ in dask.failed] == ["c_broken.png"]
    for p in inline.written:
        assert p.read_bytes() == (tmp_path / "dask" / p.name).read_bytes()
