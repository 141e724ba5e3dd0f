"""Faces: detection and alignment, eigenface/Fisherface models, recognition, gallery, metrics.

No Qt here: the Faces panel and the ``workbench faces`` commands drive these modules.

* :mod:`~workbench.faces.detect` - Haar face + eye cascades, alignment to 92 x 112 crops,
  illumination normalisation, enrolment-shot checks.
* :mod:`~workbench.faces.eigenfaces` - :class:`EigenfaceModel` (Turk & Pentland 1991) and
  :class:`FisherfaceModel` (Belhumeur et al. 1997).
* :mod:`~workbench.faces.recognize` - known / unknown / not a face, threshold tuning.
* :mod:`~workbench.faces.gallery` - the SQLite gallery with its model cache.
* :mod:`~workbench.faces.metrics` - confusion matrix, ROC/AUC, precision/recall, EER.
* :mod:`~workbench.faces.cli` - ``workbench faces enroll|recognize|list|remove``.

Long work (``Gallery.enroll``, ``Gallery.recognizer``, ``EigenfaceModel.fit``) takes a
``progress(fraction, message)`` callback, which may raise to cancel: pass a worker job's
progress/check function and run it off the GUI thread.
"""

from workbench.faces.detect import FACE_SIZE, Face, FaceDetector, ShotCheck, check_shot
from workbench.faces.eigenfaces import EigenfaceModel, FisherfaceModel, load_model
from workbench.faces.gallery import Gallery, ModelSettings, Person
from workbench.faces.recognize import Calibration, Recognition, Recognizer, calibrate

__all__ = [
    "FACE_SIZE",
    "Calibration",
    "EigenfaceModel",
    "Face",
    "FaceDetector",
    "FisherfaceModel",
    "Gallery",
    "ModelSettings",
    "Person",
    "Recognition",
    "Recognizer",
    "ShotCheck",
    "calibrate",
    "check_shot",
    "load_model",
]
