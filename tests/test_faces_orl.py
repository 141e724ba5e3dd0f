"""Recognition figures on the ORL faces (skipped where ../shared/data/faces/orl is absent).

Split: images 1-5 of each person train, images 6-10 test (the usual "5 train / 5 test").
Crops are used as they are (``aligned=True`` path: grey, 92 x 112, CLAHE normalisation).
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import shared_data

from workbench.faces import metrics
from workbench.faces.detect import prepare_aligned
from workbench.faces.eigenfaces import EigenfaceModel, FisherfaceModel
from workbench.faces.recognize import Recognizer
from workbench.imaging.io import read_image


@pytest.fixture(scope="module")
def orl():
    root = shared_data("faces", "orl")
    return {(s, i): prepare_aligned(read_image(root / f"s{s}" / f"{i}.pgm"))
            for s in range(1, 41) for i in range(1, 11)}


def _split(orl, people, images):
    faces = np.stack([orl[(s, i)] for s in people for i in images])
    return faces, [f"s{s}" for s in people for _ in images]


@pytest.mark.parametrize("make, floor", [
    (lambda: EigenfaceModel(0.95), 0.85),
    (lambda: FisherfaceModel(), 0.80),
])
def test_rank1_accuracy_5_train_5_test(orl, make, floor):
    train, train_labels = _split(orl, range(1, 41), range(1, 6))
    test, test_labels = _split(orl, range(1, 41), range(6, 11))
    model = make().fit(train, train_labels)
    names, _ = model.nearest(test)
    accuracy = metrics.accuracy(test_labels, names)
    matrix, _ = metrics.confusion_matrix(test_labels, names)
    assert matrix.trace() == round(accuracy * 200)
    print(f"\nORL rank-1, 5 train / 5 test, {type(model).__name__}: {accuracy:.3f}")
    assert accuracy >= floor


def test_open_set_strangers_are_rejected(orl):
    """Enrol 30 people (images 1-5); the 10 others (all 10 images each) are strangers."""
    train, labels = _split(orl, range(1, 31), range(1, 6))
    known, known_labels = _split(orl, range(1, 31), range(6, 11))
    strangers, _ = _split(orl, range(31, 41), range(1, 11))
    model = EigenfaceModel().fit(train, labels)
    recognizer = Recognizer.tuned(model, train)
    on_strangers = [r.status for r in recognizer.recognize_many(strangers)]
    on_known = recognizer.recognize_many(known)
    rejected = np.mean([s != "known" for s in on_strangers])
    correct = np.mean([r.name == t for r, t in zip(on_known, known_labels, strict=True)])
    wrong = np.mean([r.name not in (None, t) for r, t in zip(on_known, known_labels, strict=True)])
    c = recognizer.calibration
    print(f"\nORL open set at the EER threshold {c.identity_threshold:.2f} (held-out EER "
          f"{c.eer:.3f}, AUC {c.auc:.3f}), face threshold {c.face_threshold:.2f}: strangers "
          f"rejected {rejected:.3f} (unknown {on_strangers.count('unknown') / 100:.2f}, not a "
          f"face {on_strangers.count('not a face') / 100:.2f}); enrolled people named "
          f"correctly {correct:.3f}, wrongly {wrong:.3f}")
    assert rejected >= 0.6
    assert correct >= 0.5
    assert wrong <= 0.1


def test_every_orl_face_clears_the_detectors_confidence_floor():
    # The floor (FaceDetector's min_confidence) was set below the weakest real face measured;
    # every ORL face, given some context and enlarged, must still be found.
    import cv2

    from workbench.faces.detect import FaceDetector

    root = shared_data("faces", "orl")
    detector = FaceDetector()
    missed = []
    for s in range(1, 41):
        for i in range(1, 11):
            gray = read_image(root / f"s{s}" / f"{i}.pgm")
            gray = cv2.copyMakeBorder(gray, 40, 40, 50, 50, cv2.BORDER_REPLICATE)
            gray = cv2.resize(gray, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
            if not detector.boxes(gray):
                missed.append(f"s{s}/{i}")
    assert not missed, missed
