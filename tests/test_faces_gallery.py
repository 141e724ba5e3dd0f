"""The SQLite face gallery: round trips, model cache, damage, locks, threads, crash safety."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest

from workbench.faces import eigenfaces
from workbench.faces.errors import (
    GalleryCorruptError,
    GalleryError,
    GalleryLockedError,
    GalleryVersionError,
    ModelError,
    PersonExistsError,
    UnknownPersonError,
)
from workbench.faces.gallery import APPLICATION_ID, SCHEMA_VERSION, Gallery, ModelSettings

REPO = Path(__file__).resolve().parents[1]


def crops(seed: int, count: int = 4) -> list[np.ndarray]:
    """Aligned-crop-sized pictures of one synthetic 'person' (a random image plus noise)."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(30, 220, (112, 92))
    return [np.clip(base + rng.normal(0, 6, base.shape), 0, 255).astype(np.uint8)
            for _ in range(count)]


@pytest.fixture
def gallery(tmp_path):
    with Gallery(tmp_path / "people.faces") as g:
        yield g


def test_enrol_list_rename_remove(gallery):
    ids = gallery.enroll("Ada  Lovelace", crops(1), sources=["a.png", "b.png", "c.png", "d.png"])
    gallery.enroll("Bob", crops(2, 3))
    assert len(ids) == 4
    assert [(p.name, p.face_count) for p in gallery.people()] == [("Ada Lovelace", 4), ("Bob", 3)]
    stored = gallery.faces_of("ada lovelace")  # names match regardless of case and spacing
    assert [f.source for f in stored] == ["a.png", "b.png", "c.png", "d.png"]
    np.testing.assert_array_equal(stored[0].image, crops(1)[0])  # PNG is lossless
    gallery.enroll("BOB", crops(3, 1))  # same person: faces are added
    assert gallery.people()[1].face_count == 4

    gallery.rename("Bob", "Robert")
    assert "Robert" in gallery and "Bob" not in gallery
    with pytest.raises(PersonExistsError, match="Ada Lovelace"):
        gallery.rename("Robert", "ada lovelace")
    with pytest.raises(UnknownPersonError, match="Carol"):
        gallery.rename("Carol", "Caroline")

    assert gallery.remove("Robert") == 4
    assert [p.name for p in gallery.people()] == ["Ada Lovelace"]
    with pytest.raises(UnknownPersonError):
        gallery.remove("Robert")
    gallery.remove_face(ids[0])
    assert gallery.people()[0].face_count == 3
    assert gallery.integrity_check() == ["ok"]


def test_enrolment_input_is_checked(gallery):
    with pytest.raises(GalleryError, match="empty"):
        gallery.enroll("  ", crops(1))
    with pytest.raises(GalleryError, match="92x112"):
        gallery.enroll("Ada", [np.zeros((50, 50), np.uint8)])
    with pytest.raises(GalleryError, match="no face pictures"):
        gallery.enroll("Ada", [])
    assert gallery.people() == []


def test_cancelled_enrolment_keeps_nothing_of_it(gallery):
    gallery.enroll("Ada", crops(1))

    def cancel(fraction, message):
        if message.startswith("saving face 3"):
            raise KeyboardInterrupt  # what a cancelled worker or a Ctrl+C looks like

    with pytest.raises(KeyboardInterrupt):
        gallery.enroll("Bob", crops(2, 5), progress=cancel)
    with pytest.raises(KeyboardInterrupt):
        gallery.enroll("Ada", crops(3, 5), progress=cancel)
    assert [(p.name, p.face_count) for p in gallery.people()] == [("Ada", 4)]


def test_export_import_round_trip(tmp_path, gallery):
    gallery.enroll("Ada", crops(1))
    gallery.enroll("Bob", crops(2))
    copy = tmp_path / "backup.faces"
    gallery.export(copy)
    gallery.enroll("Carol", crops(3))  # after the export: not in the copy

    with Gallery(tmp_path / "other.faces") as other:
        other.enroll("Bob", crops(2)[:2])  # two of Bob's crops are already there
        other.enroll("Dan", crops(4))
        summary = other.import_(copy)
        assert (summary.people_added, summary.faces_added, summary.faces_skipped) == (1, 6, 2)
        assert [(p.name, p.face_count) for p in other.people()] == [
            ("Ada", 4), ("Bob", 4), ("Dan", 4)]
        np.testing.assert_array_equal(other.faces_of("Ada")[2].image, crops(1)[2])
        again = other.import_(copy)  # importing twice adds nothing
        assert (again.people_added, again.faces_added) == (0, 0)
    with Gallery(copy) as restored:
        assert [p.name for p in restored.people()] == ["Ada", "Bob"]
        assert restored.integrity_check() == ["ok"]
    with pytest.raises(GalleryError, match="onto itself"):
        gallery.export(gallery.path)


def test_model_is_cached_and_rebuilt_when_people_change(tmp_path, gallery, monkeypatch):
    gallery.enroll("Ada", crops(1))
    gallery.enroll("Bob", crops(2))
    steps = []
    first = gallery.recognizer(progress=lambda f, m: steps.append(f))
    assert steps and steps[-1] == 1.0
    assert first.model.classes_ == ["Ada", "Bob"]
    assert gallery.recognizer() is first  # unchanged gallery: same object

    # a fresh process (new Gallery object) loads the cached model without training
    def no_training(*args, **kwargs):
        raise AssertionError("the model was retrained although nothing changed")

    monkeypatch.setattr(eigenfaces.EigenfaceModel, "fit", no_training)
    with Gallery(gallery.path) as reopened:
        cached = reopened.recognizer()
        assert cached.model.classes_ == ["Ada", "Bob"]
        assert cached.identity_threshold == pytest.approx(first.identity_threshold)
    monkeypatch.undo()

    before = gallery.fingerprint()
    gallery.enroll("Carol", crops(3))
    assert gallery.fingerprint() != before
    assert gallery.recognizer().model.classes_ == ["Ada", "Bob", "Carol"]
    gallery.rename("Carol", "Caroline")
    assert gallery.recognizer().model.classes_ == ["Ada", "Bob", "Caroline"]
    gallery.remove("Bob")
    assert gallery.recognizer().model.classes_ == ["Ada", "Caroline"]
    gallery.set_settings(ModelSettings(method="eigenfaces"))
    assert type(gallery.model()).__name__ == "EigenfaceModel"
    gallery.set_settings(ModelSettings(method="fisherfaces"))
    # two people: Fisherfaces would have one direction to tell them (and strangers) apart
    assert type(gallery.model()).__name__ == "EigenfaceModel"
    gallery.enroll("Dan", crops(4))
    assert type(gallery.model()).__name__ == "FisherfaceModel"
    assert gallery.model().augment  # enrolment is augmented by default


def test_thresholds_set_by_the_user_are_kept_with_the_model(gallery):
    gallery.enroll("Ada", crops(1))
    gallery.enroll("Bob", crops(2))
    tuned = gallery.recognizer()
    gallery.save_thresholds(identity=123.0, face=None)
    with Gallery(gallery.path) as reopened:
        recognizer = reopened.recognizer()
        assert recognizer.identity_threshold == 123.0
        assert recognizer.face_threshold == pytest.approx(tuned.face_threshold)


def test_recognizer_needs_faces(gallery):
    with pytest.raises(GalleryError, match="empty"):
        gallery.recognizer()
    gallery.enroll("Ada", crops(1, 1))
    with pytest.raises(GalleryError, match="two face pictures"):
        gallery.recognizer()


def test_files_that_are_not_galleries(tmp_path):
    junk = tmp_path / "junk.faces"
    junk.write_bytes(os.urandom(5000))
    with pytest.raises(GalleryCorruptError, match="not a Workbench face gallery .*not an SQLite"):
        Gallery(junk)
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE t (x)")
    with pytest.raises(GalleryCorruptError, match="SQLite database but not a Workbench"):
        Gallery(other)
    with pytest.raises(GalleryError, match="folder"):
        Gallery(tmp_path / "missing" / "x.faces")
    with pytest.raises(GalleryError, match="it is a folder"):
        Gallery(tmp_path)


def _damage(path: Path, offset: int, length: int) -> None:
    with open(path, "r+b") as fh:
        fh.seek(offset)
        fh.write(b"\xa5" * length)


def test_damaged_gallery_gets_a_clear_message(tmp_path):
    path = tmp_path / "people.faces"
    with Gallery(path) as g:
        for k in range(6):
            g.enroll(f"person {k}", crops(k))
        g.export(tmp_path / "copy.faces")  # a self-contained file (no WAL) to damage
    copy = tmp_path / "copy.faces"
    size = copy.stat().st_size
    assert size > 8 * 4096
    _damage(copy, 4096, size - 2 * 4096)  # everything but the header page and the last page
    with pytest.raises(GalleryCorruptError, match="damaged") as caught:
        Gallery(copy)
    assert "restore it from an export" in str(caught.value)

    truncated = tmp_path / "truncated.faces"
    truncated.write_bytes(path.read_bytes()[:50])
    with pytest.raises(GalleryCorruptError):
        Gallery(truncated)


def test_newer_schema_version_is_refused(tmp_path):
    path = tmp_path / "people.faces"
    Gallery(path).close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(GalleryVersionError, match="newer Workbench"):
        Gallery(path)


def test_locked_database_times_out_with_a_clear_message(tmp_path):
    path = tmp_path / "people.faces"
    with Gallery(path, timeout=0.2) as g:
        g.enroll("Ada", crops(1))
        other = sqlite3.connect(path, isolation_level=None)
        try:
            other.execute("BEGIN EXCLUSIVE")  # another program writing
            with pytest.raises(GalleryLockedError, match="busy: another program"):
                g.enroll("Bob", crops(2))
            assert [p.name for p in g.people()] == ["Ada"]  # reading still works (WAL)
        finally:
            other.execute("ROLLBACK")
            other.close()
        g.enroll("Bob", crops(2))
        assert len(g.people()) == 2


def test_readers_are_not_blocked_by_an_enrolment_in_another_thread(gallery):
    gallery.enroll("Ada", crops(1))
    inside, release = threading.Event(), threading.Event()
    errors = []

    def pause(fraction, message):
        if message.startswith("saving face 2"):  # inside the write transaction
            inside.set()
            assert release.wait(10)

    def worker():
        try:
            gallery.enroll("Bob", crops(2), progress=pause)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert inside.wait(10)
        # the GUI thread lists people while the worker's transaction is open
        assert [p.name for p in gallery.people()] == ["Ada"]
    finally:
        release.set()
        thread.join(10)
    assert not errors
    assert [p.name for p in gallery.people()] == ["Ada", "Bob"]


# Enrols people of 12 faces in a loop; in the 4th enrolment it stops half-way through writing
# its rows (inside the open transaction) and waits there to be killed.
CHILD = textwrap.dedent("""
    import sys, time
    import numpy as np
    from workbench.faces.gallery import Gallery

    gallery = Gallery(sys.argv[1])
    rng = np.random.default_rng(0)
    person = 0
    while True:
        faces = [rng.integers(0, 256, (112, 92), dtype=np.uint8) for _ in range(12)]
        def progress(fraction, message, person=person):
            if person == 3 and message.startswith("saving face 7 "):
                print(f"inside {person}", flush=True)
                time.sleep(60)
        gallery.enroll(f"person {person}", faces, progress=progress)
        print(f"committed {person}", flush=True)
        person += 1
""")


@pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")
def test_killing_the_process_mid_enrolment_loses_nothing_committed(tmp_path):
    path = tmp_path / "people.faces"
    script = tmp_path / "enrol_forever.py"
    script.write_text(CHILD)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen([sys.executable, str(script), str(path)], stdout=subprocess.PIPE,
                             text=True, env=env)
    committed = []
    try:
        for line in child.stdout:
            kind, person = line.split()
            if kind == "committed":
                committed.append(int(person))
            else:  # six of person 3's faces are written, uncommitted: kill it now
                os.kill(child.pid, signal.SIGKILL)
                break
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(10)
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    with Gallery(path) as reopened:
        assert reopened.integrity_check() == ["ok"]
        people = reopened.people()
        assert committed == [0, 1, 2]
        assert [p.name for p in people] == ["person 0", "person 1", "person 2"]
        assert all(p.face_count == 12 for p in people)
        rng = np.random.default_rng(0)
        first = [rng.integers(0, 256, (112, 92), dtype=np.uint8) for _ in range(12)]
        np.testing.assert_array_equal(reopened.faces_of("person 0")[11].image, first[11])


def test_a_gallery_cached_before_orientations_is_retrained_in_them(tmp_path, monkeypatch):
    import json
    from dataclasses import asdict

    from workbench.faces import gallery as gallery_module

    path = tmp_path / "old.faces"
    with Gallery(path) as g:
        for seed, name in enumerate(("Ada", "Bob", "Carol"), start=1):
            g.enroll(name, crops(seed))
    # what the version before stored: settings without `features`, and a grey-level model
    # cached under model format 3
    old_settings = {k: v for k, v in asdict(ModelSettings()).items() if k != "features"}
    with sqlite3.connect(path) as db:
        db.execute("UPDATE settings SET value = ? WHERE key = 'model'",
                   (json.dumps(old_settings, sort_keys=True),))
    db.close()
    monkeypatch.setattr(gallery_module, "_MODEL_FORMAT", 3)
    monkeypatch.setattr(ModelSettings, "new_model",  # the grey levels, as it trained
                        lambda self: eigenfaces.FisherfaceModel(augment=True, metric="angle"))
    with Gallery(path) as g:
        assert g.recognizer().model.features == "pixels"
    monkeypatch.undo()
    with Gallery(path) as g:
        assert g.settings.features == "lbp"  # the old settings read with today's default
        assert g.recognizer().model.features == "lbp"  # retrained, not the cache


def test_a_gallery_in_orientations_by_default_retrains_in_lbp_but_a_choice_stays(tmp_path):
    import json
    from dataclasses import asdict, replace

    path = tmp_path / "oriented.faces"
    with Gallery(path) as g:
        for seed, name in enumerate(("Ada", "Bob", "Carol"), start=1):
            g.enroll(name, crops(seed))
    # what the version before wrote: its default, orientations, and no revision
    before = {k: v for k, v in asdict(ModelSettings(features="orientations")).items()
              if k != "revision"}
    with sqlite3.connect(path) as db:
        db.execute("UPDATE settings SET value = ? WHERE key = 'model'",
                   (json.dumps(before, sort_keys=True),))
    db.close()
    with Gallery(path) as g:
        assert g.settings.features == "lbp" and g.settings.revision == 2
        assert g.recognizer().model.features == "lbp"
        # orientations chosen now are kept: written with this revision
        g.set_settings(replace(g.settings, features="orientations"))
    with Gallery(path) as g:
        assert g.settings.features == "orientations"
        assert g.recognizer().model.features == "orientations"
    for revision in (0, "2", True):
        with pytest.raises(ModelError, match="revision"):
            ModelSettings(revision=revision)
