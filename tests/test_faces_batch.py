"""``workbench faces recognize IN... --out-dir DIR`` on the shared batch layer: inline, on local
processes and on a real Dask LocalCluster give the same files; --resume skips finished photos; a
corrupt photo is reported and the others go on; workers open the gallery read-only."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from workbench.batch import MANIFEST
from workbench.cli import main
from workbench.faces.batch import RecognizeJob, read_results, recognize_files
from workbench.faces.gallery import Gallery, GalleryError
from workbench.imaging.io import read_image, write_image

PEOPLE = {"Ada": 1, "Bob": 2, "Cy": 3}


def _crops(seed: int, count: int) -> list[np.ndarray]:
    """Aligned 92x112 crops of a synthetic person (as tests/test_faces_cli.py makes them)."""
    rng = np.random.default_rng(seed)
    base = cv2.GaussianBlur(rng.uniform(0, 255, (112, 92)), (0, 0), 1.0)
    return [np.clip(base + rng.normal(0, 4, base.shape), 0, 255).astype(np.uint8)
            for _ in range(count)]


def _gallery(folder: Path, people=PEOPLE) -> Path:
    """A gallery of synthetic people, its model cached (as after any ``faces recognize``)."""
    db = folder / "people.faces"
    with Gallery(db) as gallery:
        for name, seed in people.items():
            gallery.enroll(name, _crops(seed, 4))
        gallery.recognizer()
    return db


def _photos(folder: Path, bad_at: int | None = None) -> list[Path]:
    """Two new shots per person (not enrolled), one of them corrupt where asked."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, seed in PEOPLE.items():
        for k, crop in enumerate(_crops(seed, 6)[4:]):
            paths.append(folder / f"{name.lower()}_{k}.png")
            write_image(paths[-1], crop)
    if bad_at is not None:
        paths.insert(bad_at, folder / f"{paths[bad_at].stem}_bad.png")
        paths[bad_at].write_bytes(b"\x89PNG\r\n\x1a\n this is not a picture")
    return paths


def _gallery_files(db: Path) -> dict[str, str]:
    """The gallery's bytes (the SQLite file; a WAL holding anything would count too)."""
    out = {}
    for path in sorted(db.parent.glob(db.name + "*")):
        if path.name.endswith("-shm"):
            continue  # the shared-memory index readers use: not the gallery's content
        out[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return {name: digest for name, digest in out.items()
            if not (name.endswith("-wal") and (db.parent / name).stat().st_size == 0)}


def _outputs(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.json"))}


def test_inline_processes_and_a_local_cluster_write_the_same_results(tmp_path, capsys):
    pytest.importorskip("dask.distributed")
    db = _gallery(tmp_path)
    photos = _photos(tmp_path / "in", bad_at=3)
    good = [str(p) for p in photos if "_bad" not in p.name]
    # today's recognize, no --out-dir: the reference
    assert main(["faces", "recognize", "--db", str(db), "--aligned", "--json", *good]) == 0
    reference = json.loads(capsys.readouterr().out)
    assert [f["faces"][0]["name"] for f in reference] == ["Ada", "Ada", "Bob", "Bob", "Cy", "Cy"]

    before = _gallery_files(db)
    runs = {"inline": [], "processes": ["--workers", "2"],
            "dask": ["--scheduler", "local", "--workers", "2"]}
    files = {}
    for name, options in runs.items():
        out = tmp_path / name
        code = main(["faces", "recognize", "--db", str(db), "--aligned", "--json",
                     str(tmp_path / "in"), "--out-dir", str(out), *options])
        captured = capsys.readouterr()
        assert code == 2, name  # the corrupt photo
        assert "bob_1_bad.png" in captured.err, captured.err
        assert "6 photo(s) recognised" in captured.err and "1 failed" in captured.err
        assert json.loads(captured.out) == reference, name  # the combined array, as today
        files[name] = _outputs(out)
        assert sorted(files[name]) == sorted(Path(p).stem + ".json" for p in good)
        if name == "dask":
            assert "dashboard" in captured.err
        manifest = [json.loads(line) for line in (out / MANIFEST).read_text().splitlines()]
        assert sorted(e["status"] for e in manifest) == ["done"] * 6 + ["failed"]
    assert files["processes"] == files["inline"]  # byte for byte
    assert files["dask"] == files["inline"]
    one = json.loads(files["inline"]["bob_0.json"])
    assert one == reference[2]  # the fields of recognize --json's per-image object
    assert _gallery_files(db) == before  # no worker wrote to the gallery


def test_table_from_the_batch_is_the_table_without_it(tmp_path, capsys):
    db = _gallery(tmp_path)
    photos = [str(p) for p in _photos(tmp_path / "in")]
    assert main(["faces", "recognize", "--db", str(db), "--aligned", *photos]) == 0
    table = capsys.readouterr().out
    assert main(["faces", "recognize", "--db", str(db), "--aligned", *photos,
                 "--out-dir", str(tmp_path / "out")]) == 0
    assert capsys.readouterr().out == table
    assert table.count("\n") == 6 and table.startswith(f"{photos[0]}: Ada  distance ")


def test_resume_skips_the_photos_already_done(tmp_path, capsys):
    db = _gallery(tmp_path)
    photos = _photos(tmp_path / "in")
    out = tmp_path / "out"
    state = RecognizeJob(str(db), aligned=True).setup()
    tasks, first = recognize_files(db, photos[:4], out, aligned=True, state=state)
    assert len(first.written) == 4
    stamps = {p.name: p.stat().st_mtime_ns for p in out.glob("*.json")}
    (out / ".cy_0.json.1234abcd.tmp").write_text("{")  # what a killed run may leave
    code = main(["faces", "recognize", "--db", str(db), "--aligned", "--json", "--resume",
                 str(tmp_path / "in"), "--out-dir", str(out)])
    captured = capsys.readouterr()
    assert code == 0
    assert "4 already done (--resume)" in captured.err
    assert "2 photo(s) recognised" in captured.err
    assert [e["image"] for e in json.loads(captured.out)] == [str(p) for p in photos]
    for name, stamp in stamps.items():
        assert (out / name).stat().st_mtime_ns == stamp  # not redone
    assert not list(out.glob(".*.tmp"))
    assert len(read_results(tasks)) == 4


def test_workers_open_the_gallery_read_only(tmp_path):
    """A stale model cache (someone enrolled since) is retrained in memory by each worker,
    never saved: the gallery's bytes do not change and a write through it is refused."""
    db = _gallery(tmp_path, {"Ada": 1, "Bob": 2})
    with Gallery(db) as gallery:
        gallery.enroll("Cy", _crops(3, 4))  # the cached model no longer fits
    before = _gallery_files(db)
    photos = _photos(tmp_path / "in")
    _tasks, report = recognize_files(db, photos, tmp_path / "out", aligned=True, workers=2)
    assert not report.failed and len(report.written) == 6
    names = [r["faces"][0]["name"] for r in read_results(_tasks)]
    assert names == ["Ada", "Ada", "Bob", "Bob", "Cy", "Cy"]  # Cy: the retrained model
    assert _gallery_files(db) == before
    with Gallery(db, read_only=True) as gallery:
        assert [p.name for p in gallery.people()] == ["Ada", "Bob", "Cy"]
        with pytest.raises(GalleryError, match="read-only"):
            gallery.remove("Ada")
        with pytest.raises(GalleryError, match="read-only"):
            gallery.enroll("Dee", _crops(4, 3))
    assert _gallery_files(db) == before
    with pytest.raises(GalleryError, match="no face gallery"):
        Gallery(tmp_path / "missing.faces", read_only=True)
    assert not (tmp_path / "missing.faces").exists()


def test_recognize_batch_options_need_an_output_folder(tmp_path, capsys, monkeypatch):
    db = _gallery(tmp_path)
    photo = str(_photos(tmp_path / "in")[0])
    assert main(["faces", "recognize", "--db", str(db), "--workers", "2", photo]) == 2
    assert "go with --out-dir" in capsys.readouterr().err
    assert main(["faces", "recognize", "--db", str(db), "--out-dir", str(tmp_path / "o"),
                 "--workers", "-1", photo]) == 2
    assert "--workers must be 0 or more" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # as if not installed
    assert main(["faces", "recognize", "--db", str(db), "--out-dir", str(tmp_path / "o"),
                 "--scheduler", "local", photo]) == 2
    assert "pip install 'workbench[cluster]'" in capsys.readouterr().err


def test_recognize_job_pickles_small_and_reads_what_it_is_given(tmp_path):
    import pickle

    job = RecognizeJob(os.fspath(tmp_path / "people.faces"), aligned=True)
    assert pickle.loads(pickle.dumps(job)) == job and len(pickle.dumps(job)) < 400
    db = _gallery(tmp_path)
    state = RecognizeJob(str(db), aligned=True).setup()
    photo = _photos(tmp_path / "in")[2]
    doc = job.recognize(state, str(photo))
    assert doc["image"] == str(photo) and doc["faces"][0]["name"] == "Bob"
    assert read_image(photo).shape == (112, 92)
