"""``workbench faces ...`` handlers, driven through their own argparse parser."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from skimage import data

from workbench.cliutil import Parser as _Parser
from workbench.errors import WorkbenchError
from workbench.faces.cli import add_faces_parser
from workbench.faces.gallery import Gallery
from workbench.imaging.io import write_image


def run(argv):
    parser = _Parser(prog="workbench")
    add_faces_parser(parser.add_subparsers(dest="command", required=True, parser_class=_Parser))
    args = parser.parse_args(argv)
    return args.func(args)


def _person(seed, count, tmp_path):
    """Aligned 92x112 crops of a synthetic person, written as PNG files."""
    rng = np.random.default_rng(seed)
    base = cv2.GaussianBlur(rng.uniform(0, 255, (112, 92)), (0, 0), 1.0)
    paths = []
    for k in range(count):
        crop = np.clip(base + rng.normal(0, 4, base.shape), 0, 255).astype(np.uint8)
        path = tmp_path / f"p{seed}_{k}.png"
        write_image(path, crop)
        paths.append(str(path))
    return paths


def test_enroll_list_recognize_remove(tmp_path, capsys):
    db = str(tmp_path / "people.faces")
    ada, bob = _person(1, 5, tmp_path), _person(2, 5, tmp_path)
    assert run(["faces", "enroll", "--db", db, "--name", "Ada", "--aligned", *ada[:4]]) == 0
    assert run(["faces", "enroll", "--db", db, "--name", "Bob", "--aligned", *bob[:4]]) == 0
    capsys.readouterr()
    assert run(["faces", "list", "--db", db]) == 0
    out = capsys.readouterr()
    assert ("method: Fisherfaces on LBP histograms (eigenfaces until 3 people are enrolled)"
            in out.err)
    listing = out.out.splitlines()
    assert [line.split()[0] for line in listing] == ["Ada", "Bob"]
    assert all("4 face(s)" in line for line in listing)

    assert run(["faces", "recognize", "--db", db, "--aligned", "--json", ada[4], bob[4]]) == 0
    out = capsys.readouterr()
    assert "warning: Too few faces to trust the thresholds (2 people, as few as 4 shots" in out.err
    doc = json.loads(out.out)
    assert [entry["image"] for entry in doc] == [ada[4], bob[4]]
    assert [entry["faces"][0]["name"] for entry in doc] == ["Ada", "Bob"]
    face = doc[0]["faces"][0]
    assert set(face) == {"box", "name", "nearest", "distance", "identity_threshold",
                         "face_distance", "face_threshold", "status", "alignment"}
    assert face["box"] == [0, 0, 92, 112] and face["status"] == "known"
    assert face["nearest"] == "Ada" and face["alignment"] is None  # a crop given as it is
    assert face["distance"] <= face["identity_threshold"]
    assert face["face_distance"] <= face["face_threshold"]

    assert run(["faces", "remove", "--db", db, "--name", "Bob"]) == 0
    with Gallery(db) as gallery:
        assert [p.name for p in gallery.people()] == ["Ada"]


def test_enroll_finds_and_aligns_the_face_in_a_photo(tmp_path, capsys):
    photo = tmp_path / "astronaut.jpg"
    write_image(photo, data.astronaut())
    shifted = tmp_path / "astronaut_shifted.png"
    write_image(shifted, np.roll(data.astronaut(), (20, -30), axis=(0, 1)))
    db = str(tmp_path / "people.faces")
    assert run(["faces", "enroll", "--db", db, "--name", "Eileen", str(photo), str(shifted)]) == 0
    assert run(["faces", "recognize", "--db", db, "--json", str(photo)]) == 0
    doc = json.loads(capsys.readouterr().out)
    (face,) = doc[0]["faces"]
    x, y, w, h = face["box"]
    assert abs(x - 177) < 10 and abs(y - 66) < 10 and 80 < w < 110  # original pixels
    assert face["name"] == "Eileen" and face["status"] == "known"
    assert face["alignment"] == "eyes"  # the astronaut's eyes are found and plausible


def test_bad_input_is_a_workbench_error(tmp_path):
    db = str(tmp_path / "people.faces")
    coffee = tmp_path / "coffee.png"
    write_image(coffee, data.coffee())
    good = _person(1, 2, tmp_path)
    with pytest.raises(WorkbenchError, match="coffee.png.*no face found.*nothing was enrolled") \
            as caught:
        run(["faces", "enroll", "--db", db, "--name", "Ada", str(coffee), *good])
    assert "choose a photo" in str(caught.value) and "camera" not in str(caught.value)
    assert run(["faces", "enroll", "--db", db, "--name", "Ada", "--skip-bad", "--aligned",
                *good]) == 0
    with pytest.raises(WorkbenchError, match="no face gallery"):
        run(["faces", "list", "--db", str(tmp_path / "missing.faces")])
    with pytest.raises(WorkbenchError, match="no one called 'Zed'"):
        run(["faces", "remove", "--db", db, "--name", "Zed"])
    with pytest.raises(WorkbenchError, match="Cannot read image"):
        run(["faces", "recognize", "--db", db, str(tmp_path / "nothing.png")])
    with pytest.raises(WorkbenchError, match="required"):
        run(["faces", "enroll", "--db", db])


def test_unknown_model_settings_are_one_clear_error(tmp_path):
    from workbench.faces.errors import ModelError
    from workbench.faces.gallery import ModelSettings

    with pytest.raises(ModelError, match="features='landmarks'.*pixels, orientations"):
        ModelSettings(features="landmarks")
    for rule in (1.5, 0, True, "strict"):
        with pytest.raises(ModelError, match="rule must be"):
            ModelSettings(rule=rule)
    with pytest.raises(ModelError, match="face_quantile"):
        ModelSettings(face_quantile=2)
    # a gallery whose settings a newer version wrote: one line, and its faces stay enrolled
    db = str(tmp_path / "people.faces")
    assert run(["faces", "enroll", "--db", db, "--name", "Ada", "--aligned",
                *_person(1, 3, tmp_path)]) == 0
    import sqlite3

    with sqlite3.connect(db) as raw:
        raw.execute("UPDATE settings SET value = ? WHERE key = 'model'",
                    (json.dumps({"features": "landmarks"}),))
    with pytest.raises(WorkbenchError, match="unknown face model setting features='landmarks'"):
        run(["faces", "recognize", "--db", db, "--aligned", _person(1, 1, tmp_path)[0]])
    with Gallery(db) as gallery:
        assert [(p.name, p.face_count) for p in gallery.people()] == [("Ada", 3)]


def test_handlers_fit_the_main_command_line(tmp_path, capsys, monkeypatch):
    """Wired into workbench.cli as the lead will (COMMANDS["faces"]): exit statuses 0 and 2."""
    from workbench import cli

    monkeypatch.setitem(cli.COMMANDS, "faces", add_faces_parser)
    db = str(tmp_path / "people.faces")
    assert cli.main(["faces", "list", "--db", db]) == 2
    assert "no face gallery" in capsys.readouterr().err
    assert cli.main(["faces", "enroll", "--db", db, "--name", "Ada", "--aligned",
                     *_person(1, 3, tmp_path)]) == 0
    assert cli.main(["faces", "list", "--db", db]) == 0
    assert capsys.readouterr().out.startswith("Ada")
    assert cli.main(["faces", "frobnicate"]) == 2


def _dataset(tmp_path, people=4, shots=6):
    """A data set folder of synthetic aligned crops: one sub-folder per person."""
    root = tmp_path / "set"
    for p in range(people):
        folder = root / f"person{p}"
        folder.mkdir(parents=True)
        for k, path in enumerate(_person(10 + p, shots, tmp_path)):
            (folder / f"{k:02d}.png").write_bytes(open(path, "rb").read())
    return root


def test_evaluate_reports_the_figures_as_json_and_text(tmp_path, capsys):
    root = _dataset(tmp_path)
    assert run(["faces", "evaluate", str(root), "--enrol", "3", "--strangers", "1",
                "--aligned", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["people"] == 3 and doc["strangers"] == 1 and doc["method"] == "fisherfaces"
    assert doc["enrolled_faces"] == 9 and doc["test_faces"] == 9 and doc["stranger_faces"] == 6
    assert doc["rank1"] == 1.0  # the synthetic people are far apart
    assert 0.0 <= doc["named_correctly"] <= doc["rank1"]
    assert 0.0 <= doc["strangers_rejected"] <= 1.0 and 0.0 <= doc["auc"] <= 1.0
    assert doc["seconds"]["recognition per face"] > 0
    assert run(["faces", "evaluate", str(root), "--enrol", "3", "--method", "eigen",
                "--aligned"]) == 0
    text = capsys.readouterr().out
    assert "method: eigenfaces" in text and "rank-1 (closed set): 100.0 %" in text


def test_evaluate_bad_input_is_one_clear_error(tmp_path):
    with pytest.raises(WorkbenchError, match="is not a folder"):
        run(["faces", "evaluate", str(tmp_path / "missing")])
    (tmp_path / "empty").mkdir()
    with pytest.raises(WorkbenchError, match="no sub-folders with images"):
        run(["faces", "evaluate", str(tmp_path / "empty")])
    root = _dataset(tmp_path, people=3, shots=3)
    with pytest.raises(WorkbenchError, match="nothing would be left to recognise"):
        run(["faces", "evaluate", str(root), "--enrol", "3", "--aligned"])
    with pytest.raises(WorkbenchError, match="at least two must be enrolled"):
        run(["faces", "evaluate", str(root), "--strangers", "2", "--aligned"])


def test_dataset_photos_are_taken_in_natural_order(tmp_path):
    from workbench.faces.evaluate import dataset_people

    for person in ("s10", "s2"):
        (tmp_path / person).mkdir()
        for name in ("10.pgm", "2.pgm", "1.pgm", "notes.txt"):
            (tmp_path / person / name).write_bytes(b"")
    people = dataset_people(tmp_path)
    assert list(people) == ["s2", "s10"]
    assert [p.name for p in people["s2"]] == ["1.pgm", "2.pgm", "10.pgm"]
