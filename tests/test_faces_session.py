"""The Faces panel's state without a window: gallery, still photos, enrolment captures."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from skimage import data

from workbench.errors import InputError
from workbench.faces.session import FacesSession, people_count


def _shot(ok=True, value=0, reasons=(), notes=()):
    face = SimpleNamespace(aligned=np.full((4, 4), value, np.uint8)) if ok else None
    return SimpleNamespace(ok=ok, face=face, reasons=tuple(reasons), notes=tuple(notes))


def test_a_capture_counts_down_then_takes_good_shots_and_hands_them_over():
    session = FacesSession()
    with pytest.raises(InputError, match="name"):
        session.start_capture("  ", 2, streaming=True)
    with pytest.raises(InputError, match="camera"):
        session.start_capture("Ada", 2, streaming=False)
    capture = session.start_capture(" Ada ", 2, streaming=True)
    assert capture.name == "Ada" and not session.capturing
    assert session.take_shot(_shot()) is None  # during the countdown nothing is taken
    assert [session.tick(), session.tick(), session.tick()] == [2, 1, 0]
    assert session.capturing
    rejected = session.take_shot(_shot(ok=False, reasons=["too dark"]))
    assert rejected.kind == "rejected" and "too dark" in rejected.message
    taken = session.take_shot(_shot(value=1, notes=["eyes not found"]))
    assert taken.kind == "taken" and "eyes not found" in taken.message
    done = session.take_shot(_shot(value=2))
    assert done.kind == "done" and [c[0, 0] for c in done.crops] == [1, 2]
    assert session.capture is None and not session.capturing


def test_a_recognition_for_an_earlier_photo_is_refused():
    session = FacesSession()
    session.show_photo(data.astronaut())
    first = session.recognition_request()
    session.show_photo(data.astronaut()[::-1].copy())
    second = session.recognition_request()
    found_second = second.run()[0]
    assert session.accept_recognition(second.image_id, found_second)
    assert not session.accept_recognition(first.image_id, first.run()[0])
    assert session.recognitions is found_second
    session.begin_stream()
    assert session.recognition_request() is None
    assert not session.accept_recognition(second.image_id, found_second)


def test_gallery_operations_need_a_gallery_and_a_name(tmp_path):
    session = FacesSession()
    with pytest.raises(InputError, match="No gallery"):
        session.people()
    session.open_gallery(tmp_path / "g.gallery")
    crops = [np.random.default_rng(i).integers(0, 255, (112, 92), dtype=np.uint8)
             for i in range(3)]
    session.enrol("Ada", crops, "test")
    assert [(n, c) for n, c, _ in session.people()] == [("Ada", 3)]
    with pytest.raises(InputError, match="empty"):
        session.rename("Ada", "  ")
    session.rename("Ada", "Ada L")
    assert session.remove("Ada L") == 3 and session.people() == []
    assert people_count(1) == "1 person" and people_count(3) == "3 people"
