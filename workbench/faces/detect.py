"""Find faces and eyes, align each face to a canonical crop, and judge enrolment shots.

The eigenface method compares faces pixel by pixel, so every face must be cut out the same way:
this module finds the face (Viola-Jones cascade), finds both eyes inside it, and maps the eye
centres by a similarity transform (rotation, uniform scale, shift) onto fixed positions in a
92 x 112 crop, the geometry of the ORL database, whose eyes sit near (28, 52) and (63, 52). The
crop's brightness is then normalised (by default each half of the face on its own: histogram
equalisation followed by CLAHE) so that a face under a brighter lamp, or a lamp to one side,
still lands near the same point in face space. An eye pair is used only when it fits the face
box (:func:`plausible_eyes`); otherwise the crop is cut from the box, with the eyes where they
sit on average, and :attr:`Face.alignment` says which was used. A photo where no upright face
with an eye pair is found is searched again turned by :data:`TILTS` (a head leaning to one
side), and a face found so is aligned upright by its eyes.

Why OpenCV's Haar cascades and not scikit-image's LBP cascade
-------------------------------------------------------------
Both ship with their libraries, so neither needs a download. OpenCV also ships an *eye* cascade,
which alignment needs and scikit-image does not have; its detector is C++ with a multi-scale
search over an integral image (on the 512 x 512 astronaut: ~0.10 s for Haar vs ~0.14 s for
scikit-image's LBP cascade with its size range already narrowed) and it returns boxes directly
in image coordinates. OpenCV 5 wheels drop ``CascadeClassifier``; the project pins
``opencv-python-headless<5`` for that reason, and :class:`FaceDetector` raises a clear error if
the class is missing.

Images come in the house convention (:func:`workbench.imaging.io.read_image`): grey, RGB or RGBA,
``uint8``/``uint16``/float. Boxes are ``(x, y, w, h)`` in the original image's pixels.

Thread use: a :class:`FaceDetector` may be shared between threads; its cascades run under a
lock because OpenCV does not promise that one classifier object is safe to use concurrently.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import cv2
import numpy as np

from workbench.faces.errors import FaceNotFoundError, FaceQualityError
from workbench.imaging.io import to_uint8_display

__all__ = [
    "DEFAULT_ILLUMINATION",
    "EYE_POSITIONS",
    "FACE_SIZE",
    "Face",
    "FaceDetector",
    "FaceTracker",
    "ONE_SIDED_LIMIT",
    "TILTS",
    "ShotCheck",
    "align_to_eyes",
    "check_shot",
    "light_balance",
    "normalize_illumination",
    "plausible_eyes",
    "prepare_aligned",
    "tan_triggs",
    "sharpness",
    "vertical_quotient",
    "to_gray",
]

#: Width and height of an aligned face crop, as in the ORL database.
FACE_SIZE: tuple[int, int] = (92, 112)
#: Where the eye centres go in a :data:`FACE_SIZE` crop: the eye on the image's left first
#: (the person's right eye). Measured on ORL: median eye centres (27.5, 52) and (62, 52).
EYE_POSITIONS: tuple[tuple[float, float], tuple[float, float]] = ((28.0, 52.0), (63.0, 52.0))

Illumination = Literal["halves", "equalize", "clahe", "tan-triggs", "none"]
#: The normalisation new galleries use (chosen by measurement, see normalize_illumination).
DEFAULT_ILLUMINATION: Illumination = "halves"
Box = tuple[int, int, int, int]
Point = tuple[float, float]

# Expected eye centres as fractions of a Haar face box (measured on the astronaut and ORL):
# used to pick the right detections and as the fall-back when the eyes are not found.
_EYES_IN_BOX: tuple[Point, Point] = ((0.30, 0.38), (0.70, 0.38))
_EYE_SEARCH_WIDTH = 160  # the face box is resized to this width before the eye search
_DEFAULT_MAX_SIDE = 1024  # larger images are shrunk for the face search only

# Enrolment-shot limits. Sharpness is measured on the central region of the aligned, normalised
# ("clahe") crop, see sharpness(): the 400 ORL faces score 601 at the 1st percentile (median
# 2,294); blurred by a Gaussian of sigma 1 px they score 265 (median), sigma 1.5 px 124 (median;
# 95th percentile 206), sigma 2 px 75. The astronaut's face scores 1,984 sharp and 782 from a
# 256 x 256 copy (a 47-pixel face, upsampled), 164-173 blurred by sigma 2 px of a 512 image.
BLUR_LIMIT = 200.0
DARK_LIMIT = 45.0  # mean grey level of the face before normalisation
BRIGHT_LIMIT = 210.0


def to_gray(image: np.ndarray) -> np.ndarray:
    """Grey ``uint8`` version of a grey, RGB or RGBA image of any dtype :func:`read_image` gives.

    Parameters
    ----------
    image : ndarray
        ``(H, W)``, ``(H, W, 1)``, ``(H, W, 3)`` RGB or ``(H, W, 4)`` RGBA.

    Returns
    -------
    ndarray
        ``(H, W)`` ``uint8``, C-contiguous (the same array when it already was one).
    """
    if not isinstance(image, np.ndarray):
        raise TypeError(f"image must be a numpy array, got {type(image).__name__}")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (3, 4)):
        raise ValueError(f"image must be (H, W), (H, W, 3) or (H, W, 4), got shape {image.shape}")
    if image.size == 0:
        raise ValueError("image is empty")
    pixels = to_uint8_display(image)
    if pixels.ndim == 3:
        code = cv2.COLOR_RGB2GRAY if pixels.shape[2] == 3 else cv2.COLOR_RGBA2GRAY
        pixels = cv2.cvtColor(np.ascontiguousarray(pixels), code)
    return np.ascontiguousarray(pixels)


def normalize_illumination(gray: np.ndarray, method: Illumination = DEFAULT_ILLUMINATION
                           ) -> np.ndarray:
    """Normalise the brightness and contrast of a grey face crop.

    Parameters
    ----------
    gray : ndarray
        ``(H, W)`` ``uint8``.
    method : {"halves", "clahe", "equalize", "tan-triggs", "none"}
        ``"halves"`` (default): ``"clahe"`` on the left and on the right half of the crop
        separately (each half plus 8 columns past the middle, blended linearly across those 16
        columns). A lamp to one side of a face mostly scales each half of it by its own factor
        (the nose ridge is the boundary); equalising the halves separately undoes that.
        ``"clahe"``: global histogram equalisation, then contrast-limited adaptive equalisation
        over 2 x 2 tiles (clip limit 2). ``"equalize"``: global equalisation only.
        ``"tan-triggs"``: Tan & Triggs (2010): gamma 0.2, difference of Gaussians (sigma 2 and
        6 px, for 92 x 112 crops), two-stage contrast equalisation (alpha 0.1, tau 10), stored
        as grey levels 127.5 + 38 x value. ``"none"``: unchanged.

    Notes
    -----
    Measured on the Georgia Tech photos (eye-aligned crops, photos 1-7 of 50 people enrolled,
    9-15 recognised) and ORL 5/5, rank-1 by eigenfaces (95 % variance) / Fisherfaces; "side
    lit": the recognised crops relit by :func:`workbench.faces.stress.relight` (a lamp on one
    side, hard shadow), the same crops otherwise:

    ============  ===========  ==================  =============
    method        gtdb         gtdb side lit       ORL
    ============  ===========  ==================  =============
    equalize      0.713/0.810  (not measured)      see bench
    clahe         0.716/0.813  0.296/0.664         0.875/0.885
    tan-triggs    0.647/0.767  0.641/0.684         0.805/0.820
    halves        0.736/0.816  0.678/0.739         see bench
    ============  ===========  ==================  =============

    Tan & Triggs' chain was built for local-pattern features; for pixel distances in a face
    space it loses to plain equalisation on faces lit as at enrolment, and with smaller DoG
    sigmas (1 and 2 px, the paper's) it does worse still (gtdb 0.59/0.65). The README's Faces
    section and ``tests/benchmarks/test_bench_faces.py`` keep the current figures.

    Returns
    -------
    ndarray
        ``(H, W)`` ``uint8``.
    """
    if gray.dtype != np.uint8 or gray.ndim != 2:
        raise ValueError(f"expected a (H, W) uint8 crop, got {gray.shape} {gray.dtype}")
    if method == "halves":
        return _equalize_halves(gray)
    if method == "equalize":
        return cv2.equalizeHist(gray)
    if method == "clahe":
        return _clahe(gray)
    if method == "tan-triggs":
        return tan_triggs(gray)
    if method == "none":
        return gray.copy()
    raise ValueError("illumination must be 'halves', 'clahe', 'equalize', 'tan-triggs' or "
                     f"'none', got {method!r}")


def _clahe(gray: np.ndarray) -> np.ndarray:
    return cv2.createCLAHE(clipLimit=2.0, tileGridSize=(2, 2)).apply(cv2.equalizeHist(gray))


def _equalize_halves(gray: np.ndarray, blend: int = 8) -> np.ndarray:
    """CLAHE on each half of a crop separately, blended across the middle ``2 * blend`` columns."""
    width = gray.shape[1]
    middle = width // 2
    blend = max(1, min(blend, middle - 1, width - middle - 1))
    left = _clahe(np.ascontiguousarray(gray[:, :middle + blend])).astype(np.float32)
    right = _clahe(np.ascontiguousarray(gray[:, middle - blend:])).astype(np.float32)
    weight = np.clip((np.arange(width, dtype=np.float32) - (middle - blend) + 0.5)
                     / (2 * blend), 0.0, 1.0)  # 0: all left, 1: all right
    out = np.empty(gray.shape, np.float32)
    out[:, :middle - blend] = left[:, :middle - blend]
    out[:, middle + blend:] = right[:, 2 * blend:]
    span = slice(middle - blend, middle + blend)
    out[:, span] = (left[:, span] * (1 - weight[span]) + right[:, :2 * blend] * weight[span])
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def tan_triggs(
    gray: np.ndarray, *, gamma: float = 0.2, sigmas: tuple[float, float] = (2.0, 6.0),
    alpha: float = 0.1, tau: float = 10.0, gain: float = 38.0,
) -> np.ndarray:
    """Tan & Triggs' (2010) illumination normalisation chain, as ``uint8``.

    Gamma correction, difference-of-Gaussians filtering, two-stage contrast equalisation and
    a ``tanh`` squash to ``(-tau, tau)``; the result is stored as ``127.5 + gain * value``.

    References
    ----------
    X. Tan and B. Triggs, "Enhanced local texture feature sets for face recognition under
    difficult lighting conditions", IEEE Trans. Image Processing 19(6), 2010.
    """
    x = np.power(gray.astype(np.float32) / 255.0 + 1e-3, gamma)
    inner, outer = sigmas
    d = cv2.GaussianBlur(x, (0, 0), inner) - cv2.GaussianBlur(x, (0, 0), outer)
    d /= float(np.mean(np.abs(d) ** alpha) ** (1 / alpha)) + 1e-8
    d /= float(np.mean(np.minimum(np.abs(d), tau) ** alpha) ** (1 / alpha)) + 1e-8
    d = tau * np.tanh(d / tau)
    return np.clip(np.rint(127.5 + gain * d), 0, 255).astype(np.uint8)


#: Below this :func:`light_balance`, an enrolment shot gets a note that the light is too
#: one-sided to enrol well (the darker half of the face under 60 % of the brighter's light).
ONE_SIDED_LIMIT = 0.6


def light_balance(crop: np.ndarray) -> float:
    """How evenly a face is lit: mean grey level of the darker half of an aligned crop over
    the brighter half's (cheeks and eyes, x 15-85 %, y 27-89 %), in (0, 1]; 1 is even.

    On the Georgia Tech photos the two halves of the face box differ by more than 10 % in 65
    of 748; the stress test's lamp (:func:`workbench.faces.stress.relight`) gives about 0.2.
    """
    height, width = crop.shape[:2]
    centre = crop[int(0.27 * height):int(0.89 * height), int(0.15 * width):int(0.85 * width)]
    half = centre.shape[1] // 2
    left, right = float(centre[:, :half].mean()), float(centre[:, half:].mean())
    return (min(left, right) + 1.0) / (max(left, right) + 1.0)


def sharpness(gray: np.ndarray, *, central: bool = True) -> float:
    """Variance of the Laplacian (3 x 3, 4-neighbour): low for blurred or featureless images.

    Parameters
    ----------
    gray : ndarray
        ``(H, W)`` ``uint8``; an aligned face crop when ``central`` is True.
    central : bool
        Measure only the eyes-nose-mouth region of an aligned crop (x 15-85 %, y 27-89 %), so
        that hair, collar and background edges do not count.
    """
    if central:
        height, width = gray.shape[:2]
        gray = gray[int(0.27 * height):int(0.89 * height), int(0.15 * width):int(0.85 * width)]
    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


def _similarity_from_eyes(
    eyes: tuple[Point, Point], targets: tuple[Point, Point]
) -> np.ndarray:
    """2 x 3 matrix of the similarity transform mapping the two eyes onto ``targets``."""
    (ax, ay), (bx, by) = eyes
    (tx, ty), (ux, uy) = targets
    source = complex(bx - ax, by - ay)
    target = complex(ux - tx, uy - ty)
    if abs(source) < 1e-6:
        raise ValueError("the two eye positions coincide")
    # z -> s * z + t in the complex plane, s = rotation and scale, t = shift
    s = target / source
    t = complex(tx, ty) - s * complex(ax, ay)
    return np.array([[s.real, -s.imag, t.real], [s.imag, s.real, t.imag]], dtype=np.float64)


def align_to_eyes(
    image: np.ndarray,
    eyes: tuple[Point, Point],
    *,
    size: tuple[int, int] = FACE_SIZE,
    eye_positions: tuple[Point, Point] = EYE_POSITIONS,
) -> np.ndarray:
    """Rotate, scale and crop so that the two eye centres land on ``eye_positions``.

    Parameters
    ----------
    image : ndarray
        Any image :func:`to_gray` accepts.
    eyes : ((x, y), (x, y))
        Eye centres in ``image`` pixels, the one on the image's left first.
    size : (width, height)
        Output size.
    eye_positions : ((x, y), (x, y))
        Where the eyes go in the output.

    Returns
    -------
    ndarray
        ``(height, width)`` ``uint8`` grey crop, not yet illumination-normalised; pixels from
        outside the image repeat the border.
    """
    gray = to_gray(image)
    matrix = _similarity_from_eyes(eyes, eye_positions)
    scale = math.hypot(matrix[0, 0], matrix[1, 0])
    if scale < 0.5:
        # warpAffine samples without low-pass filtering: shrink the face region by area
        # averaging first (to about twice the output scale), then warp the smaller image.
        gray, eyes = _shrink_around(gray, eyes, matrix, size, 2.0 * scale)
        matrix = _similarity_from_eyes(eyes, eye_positions)
    return cv2.warpAffine(gray, matrix, size, flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


def _shrink_around(
    gray: np.ndarray, eyes: tuple[Point, Point], matrix: np.ndarray, size: tuple[int, int],
    factor: float,
) -> tuple[np.ndarray, tuple[Point, Point]]:
    """Cut the source region the output window sees (plus a margin) and shrink it."""
    inverse = cv2.invertAffineTransform(matrix)
    width, height = size
    corners = np.array([[0, 0, 1], [width, 0, 1], [0, height, 1], [width, height, 1]], float)
    source = corners @ inverse.T
    margin = 4.0 / factor
    x0 = int(max(0, math.floor(source[:, 0].min() - margin)))
    y0 = int(max(0, math.floor(source[:, 1].min() - margin)))
    x1 = int(min(gray.shape[1], math.ceil(source[:, 0].max() + margin)))
    y1 = int(min(gray.shape[0], math.ceil(source[:, 1].max() + margin)))
    if x1 - x0 < 2 or y1 - y0 < 2:  # the window lies off the image: keep the whole image
        x0, y0, x1, y1 = 0, 0, gray.shape[1], gray.shape[0]
    region = gray[y0:y1, x0:x1]
    new_size = (max(1, round(region.shape[1] * factor)), max(1, round(region.shape[0] * factor)))
    small = cv2.resize(region, new_size, interpolation=cv2.INTER_AREA)
    fx, fy = new_size[0] / region.shape[1], new_size[1] / region.shape[0]
    moved = tuple(((ex - x0) * fx, (ey - y0) * fy) for ex, ey in eyes)
    return small, moved  # type: ignore[return-value]


def prepare_aligned(
    image: np.ndarray,
    *,
    size: tuple[int, int] = FACE_SIZE,
    illumination: Illumination = DEFAULT_ILLUMINATION,
) -> np.ndarray:
    """Turn an image that is already an aligned face crop into model input (``--aligned``).

    The crop is converted to grey, resized to ``size`` when it differs, and normalised.

    Returns
    -------
    ndarray
        ``(height, width)`` ``uint8``.
    """
    return normalize_illumination(_resize_to(to_gray(image), size), illumination)


def _resize_to(gray: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    width, height = size
    if gray.shape == (height, width):
        return gray
    shrinking = gray.shape[0] > height
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)


@dataclass(frozen=True)
class Face:
    """One face found in an image.

    Attributes
    ----------
    box : (x, y, w, h)
        The face in the original image's pixels.
    eyes : ((x, y), (x, y)) or None
        Eye centres in the original image (image-left first), or None when the eyes were not
        found and the crop was aligned from the box alone.
    aligned : ndarray
        ``(112, 92)`` ``uint8`` crop, aligned and illumination-normalised: model input.
    raw : ndarray
        The same crop before illumination normalisation (for quality checks and display).
    """

    box: Box
    eyes: tuple[Point, Point] | None
    aligned: np.ndarray = field(repr=False, compare=False)
    raw: np.ndarray = field(repr=False, compare=False)

    @property
    def eyes_found(self) -> bool:
        return self.eyes is not None

    @property
    def alignment(self) -> str:
        """How the crop was aligned: ``"eyes"`` (a validated eye pair) or ``"box"`` (the face
        box alone, with the eyes where they sit on average)."""
        return "eyes" if self.eyes is not None else "box"


def self_quotient(gray: np.ndarray) -> np.ndarray:
    """The image divided by a blurred copy of itself (Wang et al.'s self-quotient image), then
    histogram-equalised: slow changes of light (a lamp to one side) divide out, edges stay."""
    pixels = gray.astype(np.float32) + 1.0
    blurred = cv2.GaussianBlur(pixels, (0, 0), max(gray.shape) / 30.0)
    quotient = pixels / blurred
    top = float(np.percentile(quotient, 99)) or 1.0
    return cv2.equalizeHist(np.clip(quotient * (255.0 / top), 0, 255).astype(np.uint8))


#: What the face search tries, in order, on a whole frame where it found nothing, each hit
#: then needing a plausible eye pair. Measured on the 56 relit gtdb photos (stress test)
#: whose face the search missed with one retry by CLAHE over 8 x 8 tiles (clip 3): that
#: retry found 7 of them, CLAHE over 4 x 4 tiles (clip 4) 18, the self-quotient image 19
#: (and one false face with an eye pair); the two in turn, in the full search, found 11 more
#: than before (the others had a false face elsewhere, which stops retries, or no face
#: found at all) and added no false face in any of the 1,096 photos.
RETRY_NORMALISATIONS: tuple[Callable[[np.ndarray], np.ndarray], ...] = (
    lambda gray: cv2.createCLAHE(clipLimit=4.0, tileGridSize=(4, 4)).apply(gray),
    self_quotient,
)


def vertical_quotient(gray: np.ndarray) -> np.ndarray:
    """The image divided by a copy blurred over a tall, narrow window (3 px wide, half the
    image tall), then histogram-equalised.

    A lamp to one side changes the light from left to right far more than from top to
    bottom, and the edge of a shadow cast down the face (beside the nose) is a sharp vertical
    step. A tall, narrow window follows both, so the quotient evens them out, while the
    face's own horizontal features (eyes, brows, mouth) are much narrower than the window's
    height and stay. The self-quotient image's round window blurs the shadow's edge instead,
    and leaves a bright or dark band along it.
    """
    pixels = gray.astype(np.float32) + 1.0
    blurred = cv2.blur(pixels, (3, max(3, gray.shape[0] // 2) | 1))
    quotient = pixels / blurred
    top = float(np.percentile(quotient, 99)) or 1.0
    return cv2.equalizeHist(np.clip(quotient * (255.0 / top), 0, 255).astype(np.uint8))


#: Cascade confidence a face found on :func:`vertical_quotient` needs when only one of its
#: eyes is found where an eye belongs (a hit with a plausible eye pair needs only
#: ``min_confidence``); its box must also be lit unevenly (:func:`light_balance` below
#: :data:`ONE_SIDED_LIMIT`), since only then may the other eye be lost in shadow. Measured on
#: the development people's photos relit from either side (746, issue 14's stress test): the
#: 16 faces that copy found with one eye scored 2.1-9.7, 15 of them at least 3.2, and 15 had
#: a light balance of 0.20-0.50; the non-faces it found with one eye, two in the 513 colour
#: photos of scenes and objects (a sloth bear's eye, an organ's pipe) and the rocket beside
#: the astronaut turned by 25 degrees, scored 1.4, 2.0 and 2.5 with a balance of 0.54, 0.92
#: and 0.93.
ONE_EYE_CONFIDENCE = 2.5


#: Tilts (degrees, pairs tried in turn) at which a photo's search looks again for a head leaning
#: to one side when no face with a plausible eye pair was found upright: the face cascade and the
#: eye pair both expect an upright face (the eye pair may lean 20 degrees at most). On the
#: development people's photos (gtdb p01-p25) the upright search and its retries missed 3
#: plain and 9 relit faces, most of them heads leaning 15-30 degrees; the image turned by
#: 15 or 25 degrees either way found all 3 plain ones and 7 of the 9 relit ones with an eye
#: pair (two more without). Its faces also replace eyeless upright boxes of the same face:
#: on all 50 people that aligned 682 of 746 plain faces by their eyes instead of 619.
TILTS: tuple[tuple[float, float], ...] = ((15.0, -15.0), (25.0, -25.0))


class FaceDetector:
    """Viola-Jones face and eye detector (OpenCV Haar cascades) with alignment.

    Parameters
    ----------
    size : (width, height)
        Size of the aligned crops (default 92 x 112, as ORL).
    illumination : {"halves", "clahe", "equalize", "tan-triggs", "none"}
        Normalisation of the aligned crops, see :func:`normalize_illumination`.
    min_face : int
        Smallest face side searched for, in original image pixels.
    scale_factor, min_neighbors : float, int
        Passed to ``CascadeClassifier.detectMultiScale``: the step between search scales and how
        many overlapping hits make a detection (higher: fewer false faces, more missed ones).
    min_confidence : float
        Detections whose cascade confidence (the last stage's sum, OpenCV's ``levelWeights``)
        is below this are dropped. The confidence depends on where the scan grid falls: over
        the 16 shifts of 0-3 px of the 513 validation photos, the 11 real faces detected there
        scored 2.3 at the least (medians 4.1-9.0), while the weakest false hits (a cornet
        -0.45 to -0.19, a truck -0.08 to 0.95, the patch beside the rocket in the astronaut at
        0.9 scale up to 0.83) stay under 1 and others (fur, a stove, a kitten) range from
        below 1 to 5. The default, 1, drops the weakest false hits and keeps a margin of more
        than 1 below the weakest real face: a stranger shown as "unknown" is better than a face
        silently missed. 400 ORL faces (padded and enlarged) score 3.75 at the least.
    max_side : int
        Images whose longer side exceeds this are shrunk for the face search (the eyes are
        searched and the crop is cut at full resolution).

    Raises
    ------
    FaceNotFoundError
        OpenCV lacks ``CascadeClassifier`` (OpenCV 5) or its cascade files are missing.

    Examples
    --------
    >>> from skimage import data
    >>> faces = FaceDetector().detect(data.astronaut())
    >>> len(faces), faces[0].aligned.shape, faces[0].eyes_found
    (1, (112, 92), True)
    """

    def __init__(
        self,
        *,
        size: tuple[int, int] = FACE_SIZE,
        illumination: Illumination = DEFAULT_ILLUMINATION,
        min_face: int = 40,
        scale_factor: float = 1.1,
        min_neighbors: int = 5,
        min_confidence: float = 1.0,
        max_side: int = _DEFAULT_MAX_SIDE,
    ) -> None:
        normalize_illumination(np.zeros((2, 2), np.uint8), illumination)  # validates the name
        if not hasattr(cv2, "CascadeClassifier"):
            raise FaceNotFoundError(
                f"this OpenCV ({cv2.__version__}) has no CascadeClassifier, which face detection "
                "needs; install opencv-python-headless<5"
            )
        self.size = (int(size[0]), int(size[1]))
        self.illumination: Illumination = illumination
        self.min_face = int(min_face)
        self.scale_factor = float(scale_factor)
        self.min_neighbors = int(min_neighbors)
        self.min_confidence = float(min_confidence)
        self.max_side = int(max_side)
        width, height = self.size
        reference = (92.0, 112.0)
        self.eye_positions: tuple[Point, Point] = tuple(  # type: ignore[assignment]
            (x * width / reference[0], y * height / reference[1]) for x, y in EYE_POSITIONS
        )
        self._faces = _load_cascade("haarcascade_frontalface_default.xml")
        self._eyes = _load_cascade("haarcascade_eye.xml")
        self._alt: tuple[cv2.CascadeClassifier, ...] | None = None  # loaded when first needed
        self._lock = threading.Lock()

    # -- search -----------------------------------------------------------------------------
    def boxes(self, image: np.ndarray) -> list[Box]:
        """Face boxes ``(x, y, w, h)`` in ``image`` pixels, largest first."""
        return self._boxes(to_gray(image))

    def _boxes(
        self,
        gray: np.ndarray,
        region: Box | None = None,
        sides: tuple[float, float] | None = None,
        retries: Sequence[Callable[[np.ndarray], np.ndarray]] | None = None,
    ) -> list[Box]:
        """Face boxes in ``gray``, or only inside ``region`` with sides in ``sides`` (pixels).

        A region is searched at the scale the whole image would be (shrunk when it exceeds
        ``max_side``), so that a window finds the boxes a whole-image search would. A whole
        image where nothing is found is searched again on the ``retries`` copies (default
        :data:`RETRY_NORMALISATIONS`).
        """
        x0, y0 = 0, 0
        scale = min(1.0, self.max_side / max(gray.shape))
        if region is not None:
            x0, y0, w0, h0 = region
            gray = gray[max(0, y0) : max(0, y0 + h0), max(0, x0) : max(0, x0 + w0)]
            if min(gray.shape[:2]) == 0:
                return []
        small = gray if scale == 1.0 else cv2.resize(
            gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        low, high = sides if sides is not None else (self.min_face, math.inf)
        min_side = max(20, int(round(low * scale)))
        max_side = min(small.shape) if math.isinf(high) else int(round(high * scale))
        if max_side < min_side:
            return []
        found, confidence = self._cascade(small, min_side, max_side)
        boxes = self._kept(found, confidence, scale, x0, y0)
        if region is None and not len(found):
            # Nothing found: a face lit from one side is often missed because the cascade's
            # features compare the two halves of the face. Search again on copies whose light
            # is evened out (RETRY_NORMALISATIONS), until one gives a face with a plausible
            # eye pair (texture that equalisation brings out fools the face cascade more
            # often than both cascades together).
            for even_out in RETRY_NORMALISATIONS if retries is None else retries:
                found, confidence = self._cascade(even_out(small), min_side, max_side)
                boxes = [box for box in self._kept(found, confidence, scale, x0, y0)
                         if self._find_eyes(gray, box) is not None]
                if boxes:
                    break
        if region is None and retries is None and not any(
                self._find_eyes(gray, box) is not None for box in boxes):
            boxes += self._evened_out_columns(gray, small, min_side, max_side, scale, boxes)
        if region is None and retries is None and not any(
                self._find_eyes(gray, box) is not None for box in boxes):
            boxes += self._other_cascades(small, min_side, max_side, scale, boxes)
        return sorted(boxes, key=lambda b: b[2] * b[3], reverse=True)

    def _evened_out_columns(self, gray: np.ndarray, small: np.ndarray, min_side: int,
                            max_side: int, scale: float, known: list[Box]) -> list[Box]:
        """Faces found on :func:`vertical_quotient` that ``known`` lacks (IoU < 0.3).

        Used for a photo where no face with a plausible eye pair was found. A hit is kept with
        a plausible eye pair, or with one eye where it belongs when it is a strong hit lit
        unevenly (:data:`ONE_EYE_CONFIDENCE`: the other eye is often lost in the shadow). On
        the development people's photos relit from either side (746) the search missed 21
        faces; this finds 11 of them (5 when both eyes are asked for), with no box away from a
        labelled face among those and the 373 plain photos, and no face in the 513 colour
        photos of scenes and objects.
        """
        found, confidence = self._cascade(vertical_quotient(small), min_side, max_side)
        kept: list[Box] = []
        for hit, weight in zip(found if len(found) else [], np.ravel(confidence), strict=True):
            x, y, w, h = (int(round(v / scale)) for v in hit)
            box = (x, y, w, h)
            if weight < self.min_confidence or any(_overlap(box, old) >= 0.3 for old in known):
                continue
            if self._find_eyes(gray, box) is not None or (
                    weight >= ONE_EYE_CONFIDENCE and self._one_eye(gray, box)
                    and light_balance(gray[max(0, y):y + h, max(0, x):x + w]) < ONE_SIDED_LIMIT):
                kept.append(box)
        return kept

    def _other_cascades(self, small: np.ndarray, min_side: int, max_side: int, scale: float,
                        known: list[Box]) -> list[Box]:
        """Faces that OpenCV's two other frontal cascades find and ``known`` lacks.

        Used for a photo where no face with a plausible eye pair was found: the "alt" cascade,
        then "alt2", on the photo as it is; the first that finds a face not already in
        ``known`` (IoU < 0.3) gives its hits. On the development people's photos relit from one
        side (issue 14's stress test) this found 9 of the 18 faces the default cascade and its
        retries missed, with 3 more false boxes in 546 photos and 2 in 513 photos of scenes
        and objects; kept out of the live tracker, which must stay fast.
        """
        if self._alt is None:
            self._alt = tuple(_load_cascade(f"haarcascade_frontalface_{name}.xml")
                              for name in ("alt", "alt2"))
        for cascade in self._alt:
            with self._lock:
                found = cascade.detectMultiScale(
                    small, scaleFactor=self.scale_factor, minNeighbors=self.min_neighbors,
                    minSize=(min_side, min_side), maxSize=(max_side, max_side))
            new = [(int(round(x / scale)), int(round(y / scale)), int(round(w / scale)),
                    int(round(h / scale))) for x, y, w, h in (found if len(found) else [])]
            new = [box for box in new if all(_overlap(box, old) < 0.3 for old in known)]
            if new:
                return new
        return []

    def _kept(self, found: np.ndarray, confidence: np.ndarray, scale: float, x0: int, y0: int
              ) -> list[Box]:
        """The cascade's hits at least ``min_confidence`` strong, in image pixels."""
        return [
            (x0 + int(round(x / scale)), y0 + int(round(y / scale)), int(round(w / scale)),
             int(round(h / scale)))
            for (x, y, w, h), weight in zip(found if len(found) else [],
                                            np.ravel(confidence), strict=True)
            if weight >= self.min_confidence
        ]

    def _cascade(self, small: np.ndarray, min_side: int, max_side: int
                 ) -> tuple[np.ndarray, np.ndarray]:
        with self._lock:  # the same detections as detectMultiScale, with their confidences
            found, _, confidence = self._faces.detectMultiScale3(
                small, scaleFactor=self.scale_factor, minNeighbors=self.min_neighbors,
                minSize=(min_side, min_side), maxSize=(max_side, max_side),
                outputRejectLevels=True)
        return found, confidence

    def find_eyes(self, image: np.ndarray, box: Box) -> tuple[Point, Point] | None:
        """Eye centres inside a face box, image-left first, or None when not found reliably."""
        return self._find_eyes(to_gray(image), box)

    def _eye_centres(self, gray: np.ndarray, box: Box) -> list[Point]:
        """Every eye the eye cascade finds in the upper part of a face box."""
        x, y, w, h = box
        top, bottom = y + int(0.15 * h), y + int(0.60 * h)
        x0, x1 = max(0, x), min(gray.shape[1], x + w)
        top, bottom = max(0, top), min(gray.shape[0], bottom)
        if x1 - x0 < 8 or bottom - top < 8:
            return []
        region = gray[top:bottom, x0:x1]
        zoom = _EYE_SEARCH_WIDTH / region.shape[1]
        region = cv2.resize(region, None, fx=zoom, fy=zoom,
                            interpolation=cv2.INTER_AREA if zoom < 1 else cv2.INTER_LINEAR)
        # Each half equalised on its own: under light from one side the eye in the shaded
        # half is otherwise too dark for the cascade.
        region = _equalize_halves(np.ascontiguousarray(region))
        eye_min = max(8, int(0.12 * _EYE_SEARCH_WIDTH))
        with self._lock:
            found = self._eyes.detectMultiScale(region, scaleFactor=1.05, minNeighbors=3,
                                                minSize=(eye_min, eye_min),
                                                maxSize=(int(0.45 * _EYE_SEARCH_WIDTH),) * 2)
        return [(float(x0 + (ex + ew / 2) / zoom), float(top + (ey + eh / 2) / zoom))
                for ex, ey, ew, eh in (found if len(found) else [])]

    def _one_eye(self, gray: np.ndarray, box: Box) -> bool:
        """Whether an eye is found within 12 % of the box width of where either eye belongs
        (the other may be lost in shadow)."""
        x, y, w, h = box
        expected = [(x + fx * w, y + fy * h) for fx, fy in _EYES_IN_BOX]
        return any(math.dist(c, e) <= 0.12 * w for c in self._eye_centres(gray, box)
                   for e in expected)

    def _find_eyes(self, gray: np.ndarray, box: Box) -> tuple[Point, Point] | None:
        centres = self._eye_centres(gray, box)
        x, y, w, h = box
        expected = [(x + fx * w, y + fy * h) for fx, fy in _EYES_IN_BOX]
        left = [c for c in centres if c[0] < x + w / 2]
        right = [c for c in centres if c[0] >= x + w / 2]
        if not left or not right:
            return None
        pick_left = min(left, key=lambda c: math.dist(c, expected[0]))
        pick_right = min(right, key=lambda c: math.dist(c, expected[1]))
        if not plausible_eyes((pick_left, pick_right), box):
            return None
        return pick_left, pick_right

    # -- alignment ----------------------------------------------------------------------------
    def align(self, image: np.ndarray, box: Box) -> Face:
        """Align the face in ``box``: by its eyes when found, else by the box alone."""
        gray = to_gray(image)
        return self._align(gray, box)

    def _align(self, gray: np.ndarray, box: Box) -> Face:
        eyes = self._find_eyes(gray, box)
        x, y, w, h = box
        anchor = eyes or tuple((x + fx * w, y + fy * h) for fx, fy in _EYES_IN_BOX)
        raw = align_to_eyes(gray, anchor, size=self.size,  # type: ignore[arg-type]
                            eye_positions=self.eye_positions)
        return Face(box=box, eyes=eyes, aligned=normalize_illumination(raw, self.illumination),
                    raw=raw)

    def detect(self, image: np.ndarray, *, aligned: bool = False) -> list[Face]:
        """Find, align and normalise every face in ``image``, largest first.

        Parameters
        ----------
        image : ndarray
            Grey, RGB or RGBA image (any dtype :func:`to_gray` takes).
        aligned : bool
            The image already is an aligned face crop (e.g. ORL): skip the search and return
            one :class:`Face` whose box is the whole image.

        Returns
        -------
        list of Face
            Empty when no face is found.
        """
        gray = to_gray(image)
        if aligned:
            raw = _resize_to(gray, self.size)
            return [Face(box=(0, 0, gray.shape[1], gray.shape[0]), eyes=None,
                         aligned=normalize_illumination(raw, self.illumination), raw=raw)]
        faces = [self._align(gray, box) for box in self._boxes(gray)]
        if not any(face.eyes_found for face in faces):
            # a face found again turned, now with its eyes, replaces its eyeless upright box
            tilted = self._tilted_faces(gray)
            faces = [face for face in faces
                     if not any(_same_face(face.box, other.box) for other in tilted)]
            faces = sorted([*faces, *tilted], key=lambda face: face.box[2] * face.box[3],
                           reverse=True)
        return faces

    def _tilted_faces(self, gray: np.ndarray) -> list[Face]:
        """Faces of heads leaning to one side (:data:`TILTS`), each with a plausible eye pair
        in the turned image; aligned upright by their eyes.

        Each pair of tilts searches the image turned both ways (the face cascade, and where it
        finds nothing, once more on :func:`vertical_quotient`: on the development people's
        relit photos that found 3 more of the 10 faces the search missed, with no new box in
        the 513 colour photos); the first pair that finds a face gives its faces. The box is
        the turned box's size around its centre, in the photo's pixels (moved inside the
        photo where it would stick out). A face found at both tilts of a pair is kept once
        (:func:`_same_face`). A photo with no face at all costs about twice as much to search
        as upright alone (up to eight more cascade passes).
        """
        height, width = gray.shape[:2]
        frames = _TurnedFrames(gray)
        for pair in TILTS:
            faces: list[Face] = []
            for angle in pair:
                turned, back = frames.get(angle)
                # the turned photo where nothing is found: once more with its light evened
                # out from left to right (a lamp to one side of a leaning head)
                for found in self._boxes(turned, retries=(vertical_quotient,)):
                    eyes = self._find_eyes(turned, found)
                    if eyes is None:
                        continue
                    box = _frame_box(found, back, width, height)
                    if any(_same_face(box, face.box) for face in faces):
                        continue
                    faces.append(self._align_turned(gray, box, found, back, eyes))
            if faces:
                return faces
        return []

    def _align_turned(self, gray: np.ndarray, box: Box, turned_box: Box, back: np.ndarray,
                      eyes: tuple[Point, Point] | None) -> Face:
        """A face found in a turned copy of ``gray`` (``back`` maps that copy's pixels to
        ``gray``'s), aligned upright in ``gray`` by its ``eyes`` in the copy, or by where
        ``turned_box`` puts them when they were not found; ``box`` is its box in ``gray``."""
        x, y, w, h = turned_box
        anchor = eyes or tuple((x + fx * w, y + fy * h) for fx, fy in _EYES_IN_BOX)
        left, right = (tuple(float(v) for v in back @ (ex, ey, 1.0)) for ex, ey in anchor)
        raw = align_to_eyes(gray, (left, right), size=self.size,  # type: ignore[arg-type]
                            eye_positions=self.eye_positions)
        return Face(box=box, eyes=(left, right) if eyes else None,  # type: ignore[arg-type]
                    aligned=normalize_illumination(raw, self.illumination), raw=raw)

    def detect_one(self, image: np.ndarray, *, aligned: bool = False, source: str = "the image"
                   ) -> Face:
        """The single face in ``image``; raises when there is none or more than one.

        Raises
        ------
        FaceNotFoundError
            No face, or several faces (the message says how many).
        """
        faces = self.detect(image, aligned=aligned)
        if not faces:
            raise FaceNotFoundError(f"no face found in {source}")
        if len(faces) > 1:
            raise FaceNotFoundError(
                f"{len(faces)} faces found in {source}; it must show only the person to enrol")
        return faces[0]


@dataclass(frozen=True)
class _Tracked:
    """A face the tracker follows: its box in the frame, the angle the frame was turned by to
    find it (0: upright) and its box in that turned frame (the box itself when upright)."""

    box: Box
    angle: float = 0.0
    turned_box: Box | None = None
    eyes: tuple[Point, Point] | None = None  # in the turned frame, where a search found them

    @property
    def search_box(self) -> Box:
        return self.box if self.turned_box is None else self.turned_box


class FaceTracker:
    """Face search for a video stream: the whole frame now and then, near known faces between.

    A full search of a 640 x 480 frame costs ~85 ms on the 2-core development machine, most of
    a live frame's time. Faces move little from one frame to the next, so after a search finds
    faces the next frames search only a window around each (the box grown by ``margin`` of its
    side on every side) and only at sizes ``size_range`` times its own. The whole frame is
    searched again every ``full_every`` frames (to find people who come into view), whenever a
    tracked face is not found in its window (or only something not overlapping it, or another
    window's face), on request (``full=True``: enrolment shots must see everybody in view) and
    while no face is known. Measured on 640 x 480 frames of the moving astronaut, detection plus
    eyes and alignment (the live view's work without recognition): 110 ms per frame with the
    detector, 40 ms mean (27 ms median) with the tracker; the eye search and alignment are now
    most of a tracked frame.

    **Leaning heads.** The cascade finds faces turned up to about 20 degrees. While no face is
    in view, every ``tilt_every``-th whole-frame search also searches the frame turned by the
    next of ``tilts`` in turn (one cascade pass more; a hit counts only with an eye pair in the
    turned frame, as the photo search's turned hits do), so a head leaning 20-40 degrees is
    found within ``tilt_every × len(tilts)`` empty frames. A face found so is followed in its
    window of the frame turned by the same angle, aligned by its eyes there, and looked for
    upright again when it is lost. A whole-frame search while such a face is known searches its
    turned window too, so the periodic search does not drop it.

    Between whole-frame searches the answer can differ from the detector's: a newcomer is seen
    at the next whole-frame search, and the cascade's confidence depends on where its scan grid
    falls, so a window can keep a weak (often false) detection that a whole-frame search of
    the same frame would drop, or the reverse. Both last at most ``full_every - 1`` frames.

    Not thread-safe: one tracker per stream (its detector may be shared).
    """

    def __init__(
        self,
        detector: FaceDetector,
        *,
        full_every: int = 8,
        margin: float = 0.5,
        size_range: tuple[float, float] = (0.7, 1.45),
        tilts: Sequence[float] = (25.0, -25.0, 15.0, -15.0),
        tilt_every: int = 2,
    ) -> None:
        if full_every < 1 or tilt_every < 1:
            raise ValueError(f"full_every and tilt_every must be at least 1, got {full_every} "
                             f"and {tilt_every}")
        if margin < 0 or not 0 < size_range[0] <= 1 <= size_range[1]:
            raise ValueError("margin must be >= 0 and size_range must bracket 1")
        self.detector = detector
        self.full_every = int(full_every)
        self.margin = float(margin)
        self.size_range = (float(size_range[0]), float(size_range[1]))
        self.tilts = tuple(float(a) for a in tilts if a)
        self.tilt_every = int(tilt_every)
        self.full_searches = 0  # how many frames took the whole-frame search (for tests, stats)
        self.tilt_searches = 0  # how many of them searched the frame turned too
        self._known: list[_Tracked] = []
        self._shape: tuple[int, ...] = ()
        self._since_full = 0
        self._empty = 0  # whole-frame searches in a row that found nothing

    def reset(self) -> None:
        """Forget the known faces (a new stream, a jump in a video): the next search is full."""
        self._known = []

    def boxes(self, image: np.ndarray, *, full: bool = False) -> list[Box]:
        """Face boxes in this frame, largest first (as :meth:`FaceDetector.boxes`).

        ``full``: search the whole frame now (e.g. an enrolment shot, which must see everybody
        in view); the faces found are tracked from there.
        """
        return [t.box for t in self._track(to_gray(image), full)]

    def detect(self, image: np.ndarray, *, full: bool = False) -> list[Face]:
        """Faces in this frame, aligned, largest first (as :meth:`FaceDetector.detect`)."""
        gray = to_gray(image)
        turned = _TurnedFrames(gray)
        return [self._align(gray, turned, t) for t in self._track(gray, full, turned)]

    def _align(self, gray: np.ndarray, turned: _TurnedFrames, tracked: _Tracked) -> Face:
        if not tracked.angle:
            return self.detector._align(gray, tracked.box)
        image, back = turned.get(tracked.angle)
        # the turned search found the eyes already; a window search did not look for them
        eyes = tracked.eyes or self.detector._find_eyes(image, tracked.search_box)
        return self.detector._align_turned(gray, tracked.box, tracked.search_box, back, eyes)

    def _track(self, gray: np.ndarray, full: bool = False,
               turned: _TurnedFrames | None = None) -> list[_Tracked]:
        turned = turned or _TurnedFrames(gray)
        if gray.shape != self._shape:  # a camera that changed resolution: old boxes mean nothing
            self._known, self._shape = [], gray.shape
        found = None
        if not full and self._known and self._since_full + 1 < self.full_every:
            found = self._near_known(gray, turned)
        if found is None:
            found = self._whole_frame(gray, turned)
            self.full_searches += 1
            self._since_full = 0
        else:
            self._since_full += 1
        self._known = found
        return found

    def _whole_frame(self, gray: np.ndarray, turned: _TurnedFrames) -> list[_Tracked]:
        # With no face in view every frame is a whole-frame search; it tries one of the
        # retry copies per frame in turn (a side-lit face is found within two frames), so
        # an empty view costs two cascade passes a frame, not three.
        retry = RETRY_NORMALISATIONS[self.full_searches % len(RETRY_NORMALISATIONS)]
        found = [_Tracked(b) for b in self.detector._boxes(gray, retries=(retry,))]
        # leaning faces known from the frames before: their window of the turned frame, else
        # the whole frame turned by their angle (one pass; a window can miss a face the scan
        # grid of the whole turned frame finds)
        for t in self._known:
            if t.angle and not any(_same_face(t.box, f.box) for f in found):
                again = self._in_window(gray, turned, t)
                hits = [again] if again is not None else self._turned_search(turned, t.angle)
                found += [h for h in hits if not any(_same_face(h.box, f.box) for f in found)]
        # No face with its eyes (nothing, or only eyeless hits such as a badge or a shirt's
        # pattern): as the photo search does, look for a leaning head too.
        if any(t.angle or self.detector._find_eyes(gray, t.box) for t in found):
            self._empty = 0
        else:
            self._empty += 1
            if self.tilts and self._empty % self.tilt_every == 0:
                # one angle per such frame, in turn: an empty view costs half a pass more
                angle = self.tilts[self.tilt_searches % len(self.tilts)]
                found += [h for h in self._turned_search(turned, angle)
                          if not any(_same_face(h.box, f.box) for f in found)]
                self.tilt_searches += 1
        return sorted(found, key=lambda t: t.box[2] * t.box[3], reverse=True)

    def _turned_search(self, turned: _TurnedFrames, angle: float) -> list[_Tracked]:
        """The frame turned by ``angle``: faces with an eye pair there."""
        height, width = turned.gray.shape[:2]
        image, back = turned.get(angle)
        found = []
        for box in self.detector._boxes(image, retries=()):
            eyes = self.detector._find_eyes(image, box)
            if eyes is not None:
                found.append(_Tracked(_frame_box(box, back, width, height), angle, box, eyes))
        return found

    def _in_window(self, gray: np.ndarray, turned: _TurnedFrames,
                   tracked: _Tracked) -> _Tracked | None:
        """The tracked face looked for in its window (of the frame turned by its angle)."""
        image, back = turned.get(tracked.angle) if tracked.angle else (gray, None)
        height, width = image.shape[:2]
        low, high = self.size_range
        x, y, w, h = tracked.search_box
        grow = int(round(self.margin * max(w, h)))
        x0, y0 = max(0, x - grow), max(0, y - grow)
        x1, y1 = min(width, x + w + grow), min(height, y + h + grow)
        near = self.detector._boxes(image, (x0, y0, x1 - x0, y1 - y0),
                                    (max(self.detector.min_face, low * w), high * w))
        best = max(near, key=lambda b: _overlap(b, (x, y, w, h)), default=None)
        # Missing from its window (moved too far, turned away, left), or only something else
        # there: not this face.
        if best is None or _overlap(best, (x, y, w, h)) < 0.3:
            return None
        if not tracked.angle:
            return _Tracked(best)
        return _Tracked(_frame_box(best, back, width, height), tracked.angle, best)

    def _near_known(self, gray: np.ndarray, turned: _TurnedFrames) -> list[_Tracked] | None:
        """Each known face searched for in its window; None when one is missing."""
        found: list[_Tracked] = []
        for t in self._known:
            again = self._in_window(gray, turned, t)
            # Missing, or the same face as another window's: look everywhere instead.
            if again is None or any(_overlap(again.box, other.box) >= 0.5 for other in found):
                return None
            found.append(again)
        return sorted(found, key=lambda t: t.box[2] * t.box[3], reverse=True)


class _TurnedFrames:
    """One frame turned by the angles asked for, each turned once (with its inverse map)."""

    def __init__(self, gray: np.ndarray) -> None:
        self.gray = gray
        self._turned: dict[float, tuple[np.ndarray, np.ndarray]] = {}

    def get(self, angle: float) -> tuple[np.ndarray, np.ndarray]:
        if angle not in self._turned:
            height, width = self.gray.shape[:2]
            turn = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
            image = cv2.warpAffine(self.gray, turn, (width, height), flags=cv2.INTER_LINEAR,
                                   borderMode=cv2.BORDER_REPLICATE)
            self._turned[angle] = (image, cv2.invertAffineTransform(turn))
        return self._turned[angle]


def _frame_box(box: Box, back: np.ndarray, width: int, height: int) -> Box:
    """A box found in a turned frame, as a box of its size around its centre in the frame
    (moved inside the frame where it would stick out)."""
    x, y, w, h = box
    cx, cy = back @ (x + w / 2, y + h / 2, 1.0)
    return (min(max(0, int(round(cx - w / 2))), max(0, width - w)),
            min(max(0, int(round(cy - h / 2))), max(0, height - h)), w, h)


def _intersection(a: Box, b: Box) -> int:
    """Area shared by two boxes."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0, min(ay + ah, by + bh) - max(ay, by))
    return w * h


def _overlap(a: Box, b: Box) -> float:
    """Intersection over union of two boxes."""
    shared = _intersection(a, b)
    union = a[2] * a[3] + b[2] * b[3] - shared
    return shared / union if union else 0.0


def _same_face(a: Box, b: Box) -> bool:
    """Whether two boxes are one face: IoU at least 0.3, or one mostly (60 %) inside the other
    (a tilted search's box around an upright box of the same face can overlap it less)."""
    if _overlap(a, b) >= 0.3:
        return True
    smaller = min(a[2] * a[3], b[2] * b[3])
    return smaller > 0 and _intersection(a, b) >= 0.6 * smaller


def plausible_eyes(eyes: tuple[Point, Point], box: Box) -> bool:
    """Whether an eye pair fits its face box well enough to align by it.

    A wrong pair (an eyebrow, a nostril, a glint on glasses, a shadow's edge under side light)
    warps the face worse than the box alone would, so a pair must pass every test, else the
    crop is cut from the box (:attr:`Face.alignment` says which was used). Measured on the
    Georgia Tech photos, where the cascade's eyes sit at a median 31 % and 67 % of the box
    width and 39 % of its height, 36 % of the width apart (interquartile ranges under 3 %):

    * 28-48 % of the box width apart (the crop's scale differs from a box crop's by at most
      about a quarter);
    * tilted by less than 20 degrees;
    * their midpoint within 10 % of the box width of the box's centre line, at 27-50 % of its
      height;
    * symmetric: each eye's horizontal distance from the box's centre line is at least 0.55
      times the other's.
    """
    (ax, ay), (bx, by) = eyes
    x, y, w, h = box
    dx, dy = bx - ax, by - ay
    spacing = math.hypot(dx, dy)
    if not 0.28 * w <= spacing <= 0.48 * w or abs(math.degrees(math.atan2(dy, dx))) > 20:
        return False
    centre = x + 0.49 * w
    if abs((ax + bx) / 2 - centre) > 0.10 * w or not 0.27 * h <= (ay + by) / 2 - y <= 0.50 * h:
        return False
    near, far = sorted((centre - ax, bx - centre))
    return near > 0 and near >= 0.55 * far


def _load_cascade(name: str) -> cv2.CascadeClassifier:
    path = getattr(getattr(cv2, "data", None), "haarcascades", "") + name
    cascade = cv2.CascadeClassifier(path)
    if cascade.empty():
        raise FaceNotFoundError(f"OpenCV's cascade file {name} is missing (looked in '{path}')")
    return cascade


@dataclass(frozen=True)
class ShotCheck:
    """Verdict on one enrolment shot.

    Attributes
    ----------
    face : Face or None
        The face to enrol (None when there is not exactly one).
    reasons : tuple of str
        Why the shot is rejected, in the user's words; empty when it is accepted.
    notes : tuple of str
        Things worth saying that do not reject the shot (e.g. eyes not found).
    sharpness : float
        Variance of the Laplacian of the normalised crop (NaN without a face).
    brightness : float
        Mean grey level of the face before normalisation (of the whole image without a face).
    """

    face: Face | None
    reasons: tuple[str, ...]
    notes: tuple[str, ...]
    sharpness: float
    brightness: float

    @property
    def ok(self) -> bool:
        return not self.reasons

    def raise_if_rejected(self, source: str = "the shot") -> Face:
        """The face, or :class:`FaceQualityError` naming ``source`` and every reason."""
        if self.reasons or self.face is None:
            raise FaceQualityError(f"{source} rejected: {'; '.join(self.reasons)}", self.reasons)
        return self.face


#: What :func:`check_shot` advises, in front of a camera and for a photo file.
_CAMERA_ADVICE = {
    "none": "look straight at the camera, closer and in good light",
    "dark picture": "add light in front of the face",
    "several": "only the person being enrolled should be in view",
    "dark": "add light in front of it",
    "bright": "reduce the light or move back from the lamp",
    "blurred": "hold still and check the focus",
    "one-sided": "face a window or lamp, or add light on the dark side, to enrol well",
}
_PHOTO_ADVICE = {
    "none": "choose a photo where the face looks straight ahead, large and well lit",
    "dark picture": "choose a brighter photo",
    "several": "crop the photo to the person being enrolled",
    "dark": "choose a photo where the face is brighter",
    "bright": "choose a photo where the face is not washed out",
    "blurred": "choose a sharper photo",
    "one-sided": "a photo with light on both sides of the face enrols better",
}


def check_shot(
    image: np.ndarray,
    detector: FaceDetector | None = None,
    *,
    aligned: bool = False,
    faces: list[Face] | None = None,
    photo: bool = False,
    blur_limit: float = BLUR_LIMIT,
    dark_limit: float = DARK_LIMIT,
    bright_limit: float = BRIGHT_LIMIT,
) -> ShotCheck:
    """Decide whether a camera shot or photo is good enough to enrol, and say why not.

    Rejected: no face; several faces of similar size (faces less than half as wide as the
    largest are ignored); blurred (variance of the Laplacian of the aligned,
    normalised crop below ``blur_limit``); too dark or too bright (mean grey level of the face
    before normalisation outside ``[dark_limit, bright_limit]``).

    Parameters
    ----------
    image : ndarray
        The shot.
    detector : FaceDetector, optional
        Reused when given (building one loads two cascade files, ~20 ms).
    aligned : bool
        The shot is an aligned crop already (no search; only blur and exposure are checked).
    faces : list of Face, optional
        ``detector.detect(image)`` when the caller has it already (a live view that also
        recognises the frame): the search (~0.1 s on a 640 x 480 frame) is not repeated.
    photo : bool
        The shot is a photo file, not a camera frame: the reasons advise on choosing another
        photo instead of on what to do in front of the camera.

    Returns
    -------
    ShotCheck
    """
    advice = _PHOTO_ADVICE if photo else _CAMERA_ADVICE
    if faces is None:
        faces = (detector or FaceDetector()).detect(image, aligned=aligned)
    if not faces:
        brightness = float(to_gray(image).mean())
        reasons = [f"no face found: {advice['none']}"]
        if brightness < dark_limit:
            reasons.append(f"the picture is too dark: {advice['dark picture']}")
        return ShotCheck(None, tuple(reasons), (), float("nan"), brightness)
    # Faces much smaller than the largest are people far behind (or cascade false alarms):
    # they do not make the shot ambiguous.
    rivals = [f for f in faces if f.box[2] >= 0.5 * faces[0].box[2]]
    if len(rivals) > 1:
        return ShotCheck(None, (f"{len(rivals)} faces found: {advice['several']}",), (),
                         float("nan"),
                         float(faces[0].raw.mean()))
    face = faces[0]
    reasons: list[str] = []
    notes: list[str] = []
    brightness = float(face.raw.mean())
    if brightness < dark_limit:
        reasons.append(f"the face is too dark: {advice['dark']}")
    elif brightness > bright_limit:
        reasons.append(f"the face is too bright (overexposed): {advice['bright']}")
    focus = sharpness(_clahe(face.raw))  # the limits were measured on CLAHE crops
    if focus < blur_limit:
        reasons.append(f"the picture is blurred: {advice['blurred']}")
    if not aligned and not face.eyes_found:
        notes.append("eyes not found: the face was aligned from its outline only")
    balance = light_balance(face.raw)
    if balance < ONE_SIDED_LIMIT:
        notes.append("the light comes from one side (one half of the face is "
                     f"{100 * (1 - balance):.0f} % darker): {advice['one-sided']}")
    return ShotCheck(face, tuple(reasons), tuple(notes), focus, brightness)
