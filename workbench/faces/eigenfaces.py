"""Eigenfaces and Fisherfaces: linear face spaces for recognition.

Eigenfaces (Turk & Pentland 1991) describe each aligned face crop, a point in pixel space, by its
coordinates in a low-dimensional *face space*: the span of the leading principal components
("eigenfaces") of the training faces around their mean. Two distances come out of it:

* the distance **in** face space between a face and an enrolled person, which says *who* it is;
* the distance **from** face space (the reconstruction error), which says whether the image is a
  face at all.

Fisherfaces (Belhumeur, Hespanha & Kriegman 1997) first reduce with PCA and then project with
Fisher's linear discriminant, which keeps the directions separating people and discards those
along which one person's pictures vary (lighting, expression). Belhumeur et al. also observed
that dropping the first few principal components removes much of the lighting variation;
:class:`EigenfaceModel` offers that as ``drop_first``.

Units
-----
Both distances of :class:`EigenfaceModel` are root-mean-square grey levels per pixel: the
Euclidean norm divided by the square root of the number of pixels, so a threshold does not
depend on the crop size (a face 10 grey levels away differs from it by 10 grey levels RMS).
:class:`FisherfaceModel`'s identity distances are in units of the within-person standard
deviation along the discriminant axes (its eigenvectors are scaled so that the within-class
scatter, divided by N - c, is the identity); its distance from face space is in grey levels.

With ``metric="angle"`` an identity distance is instead the angle in degrees, seen from the
mean face, between the two points in the identity coordinates (cosine distance, as an angle so
that thresholds read like the other distances: 0 the same direction, 90 unrelated). Measured
on Fisherfaces (gtdb photos 1-7 enrolled, 9-15 recognised / those relit / ORL 5-5, rank-1
counting faces not found as wrong): development people (gtdb p01-p25, ORL s1-s20) Euclidean
0.908 / 0.705 / 0.940, angle 0.919 / 0.734 / 0.980; held-out people (p26-p50, s21-s40)
Euclidean 0.863 / 0.714 / 0.970, angle 0.857 / 0.726 / 0.980: about the same. What the angle
does change is the open set: Fisherfaces' Euclidean distances are in units of the within-person
spread of the people trained on, which changes when cross-validation holds people out, so
thresholds tuned that way do not transfer to strangers; an angle has no such scale. The
gallery therefore uses the angle for Fisherfaces (:class:`workbench.faces.gallery.ModelSettings`).

Gradient orientations
---------------------
:class:`FisherfaceModel` can separate people by what :func:`orientation_features` sees of a
face instead of its grey levels: the direction of the grey-level gradient at each pixel
(Tzimiropoulos et al. 2012), with the normalised grey levels beside them at a lower weight.
A lamp to one side scales a region's grey levels; that changes their differences, hardly their
direction. Its face space ("is it a face", the Insight tab) stays in grey levels. Measured
(development people, rank-1, grey levels → orientations): gtdb 0.919 → 0.954, the same relit
0.757 → 0.844, ORL 0.98 → 0.99.

Local binary patterns
---------------------
``features="lbp"`` describes a face by histograms of local binary patterns over a grid of
cells (Ahonen et al. 2006; :mod:`workbench.faces.texture`): each pixel's code says which of its
neighbours are brighter, which no change of light that keeps the order of nearby grey levels
alters. Fisherfaces over these histograms are the gallery's default
(:class:`workbench.faces.gallery.ModelSettings`): development people, rank-1, orientations →
LBP histograms: gtdb 0.977 → 0.983, relit 0.896 → 0.942, ORL 0.99 → 1.00.

Distances to a person
---------------------
``distance="nearest"`` (the default) uses the nearest of that person's training faces,
``distance="mean"`` the person's mean in face space (Turk & Pentland's face class). On ORL with
5 training and 5 test images per person, nearest-neighbour gives the higher rank-1 accuracy (see
``tests/benchmarks/test_bench_faces.py`` for the figures); a class mean blurs a person who was
photographed with and without glasses into one point that resembles neither.

References
----------
.. [1] M. Turk and A. Pentland, "Eigenfaces for recognition", Journal of Cognitive Neuroscience
   3(1), 71-86, 1991.
.. [2] P. N. Belhumeur, J. P. Hespanha and D. J. Kriegman, "Eigenfaces vs. Fisherfaces:
   recognition using class specific linear projection", IEEE Trans. PAMI 19(7), 711-720, 1997.
.. [3] G. Tzimiropoulos, S. Zafeiriou and M. Pantic, "Subspace learning from image gradient
   orientations", IEEE Trans. PAMI 34(12), 2454-2466, 2012.
.. [4] T. Ahonen, A. Hadid and M. Pietikäinen, "Face description with local binary patterns:
   application to face recognition", IEEE Trans. PAMI 28(12), 2037-2041, 2006.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Literal

import numpy as np
import scipy.linalg

from workbench.faces.errors import ModelError
from workbench.faces.texture import lbp_features

__all__ = [
    "AUGMENTATIONS",
    "AUGMENT_MAX_FACES",
    "EigenfaceModel",
    "FEATURES",
    "FEATURE_WORDS",
    "PCA_CAP",
    "FisherfaceModel",
    "Progress",
    "load_model",
    "augment_faces",
    "orientation_features",
    "principal_components",
]

#: A progress callback: ``progress(fraction in [0, 1], message)``. It may raise to cancel.
Progress = Callable[[float, str], None]
DistanceMode = Literal["nearest", "mean"]
Metric = Literal["euclidean", "angle"]
Solver = Literal["auto", "gram", "svd"]
Features = Literal["pixels", "orientations", "lbp"]
#: What :class:`FisherfaceModel` may separate people by, and how the panel names each.
FEATURE_WORDS: dict[str, str] = {"pixels": "grey levels", "orientations": "gradient orientations",
                                 "lbp": "LBP histograms"}
FEATURES: tuple[str, ...] = tuple(FEATURE_WORDS)

# 1: pixels only; 2: Fisherfaces may be in gradient orientations; 3: or in LBP histograms
_FORMAT_VERSION = 3


def report_progress(progress: Progress | None, fraction: float, message: str) -> None:
    if progress is not None:
        progress(fraction, message)


def _as_matrix(faces: Any, name: str = "faces") -> tuple[np.ndarray, tuple[int, ...] | None]:
    """(N, D) float64 rows and the image shape, from (N, H, W), (N, D), (H, W) or (D,)."""
    array = np.asarray(faces)
    if array.dtype.kind not in "uif":
        raise TypeError(f"{name} must hold numbers, got dtype {array.dtype}")
    if array.ndim == 3:
        shape: tuple[int, ...] | None = array.shape[1:]
        matrix = array.reshape(array.shape[0], -1)
    elif array.ndim == 2:
        shape, matrix = None, array
    else:
        raise ValueError(f"{name} must be (N, H, W) images or (N, D) rows, got shape {array.shape}")
    matrix = np.asarray(matrix, dtype=np.float64)
    if matrix.shape[1] == 0:
        raise ValueError(f"{name} have no pixels")
    if not np.isfinite(matrix).all():
        raise ValueError(f"{name} contain NaN or infinity")
    return matrix, shape


def principal_components(
    data: np.ndarray, *, solver: Solver = "auto", n_components: float | int | None = None,
    progress: Progress | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """Principal axes and variances of centred rows, by the small-matrix trick or by SVD.

    With N rows of D values and N < D, the D x D covariance ``AᵀA`` has the same non-zero
    eigenvalues as the N x N matrix ``AAᵀ``, and if ``AAᵀv = μv`` then ``Aᵀv`` is an eigenvector
    of ``AᵀA`` with norm ``√μ`` (Turk & Pentland 1991, section 2.1). Decomposing the small
    matrix costs O(N²D + N³) instead of O(D³). When N >= D the SVD of ``A`` is used.

    Parameters
    ----------
    data : ndarray, shape (N, D)
        Rows already centred (mean subtracted).
    solver : {"auto", "gram", "svd"}
        ``"gram"``: eigen-decomposition of ``AAᵀ``; ``"svd"``: thin SVD of ``A``; ``"auto"``:
        ``"gram"`` when N < D, else ``"svd"``.
    n_components : float, int or None
        How many axes to form: a float in (0, 1] picks the fewest reaching that fraction of the
        variance, an int that many, None all. Only those axes are computed (with the
        small-matrix trick that saves the ``Aᵀv`` products); all variances are returned.
    progress : callable, optional
        ``progress(fraction, message)``.

    Returns
    -------
    axes : ndarray, shape (K, D)
        Orthonormal rows, by decreasing variance. Each axis's sign is fixed so that its
        entries sum to a non-negative number (a deterministic choice, so eigenfaces look the
        same from one training to the next).
    variances : ndarray, shape (R,)
        Every non-zero eigenvalue of the covariance ``AᵀA / (N - 1)``, decreasing (R <= N - 1).
    scores : ndarray, shape (N, K)
        The rows' coordinates on the axes, ``A @ axes.T``, obtained from the decomposition
        (``√μ v`` for the small-matrix trick) without another N x D x K product.
    solver : str
        The solver used, ``"gram"`` or ``"svd"``.
    """
    n, d = data.shape
    if solver == "auto":
        solver = "gram" if n < d else "svd"
    if solver == "gram":
        report_progress(progress, 0.1, f"A·Aᵀ of {n} faces")
        gram = data @ data.T
        report_progress(progress, 0.5, f"eigen-decomposition of a {n} × {n} matrix")
        mu, vectors = np.linalg.eigh(gram)
        mu, vectors = mu[::-1], vectors[:, ::-1]
    elif solver == "svd":
        report_progress(progress, 0.1, f"SVD of {n} × {d}")
        left, singular, vt = np.linalg.svd(data, full_matrices=False)
        mu = singular**2
    else:
        raise ValueError(f"solver must be 'auto', 'gram' or 'svd', got {solver!r}")
    tolerance = max(n, d) * np.finfo(np.float64).eps * (mu[0] if mu.size and mu[0] > 0 else 1.0)
    rank = int(np.sum(mu > max(tolerance, 0.0)))
    rank = min(rank, n - 1)  # centring removes one degree of freedom
    variances = mu[:rank] / max(n - 1, 1)
    keep = _count_for_variance(variances, n_components) if rank else 0
    report_progress(progress, 0.8, f"{keep} eigenfaces")
    if solver == "gram":
        roots = np.sqrt(mu[:keep])
        axes = ((data.T @ vectors[:, :keep]) / roots).T
        scores = vectors[:, :keep] * roots
    else:
        axes = vt[:keep].copy()
        scores = left[:, :keep] * singular[:keep]
    signs = np.where(axes.sum(axis=1) < 0, -1.0, 1.0)
    axes *= signs[:, None]
    scores *= signs[None, :]
    return np.ascontiguousarray(axes), variances, scores, solver


def _count_for_variance(variances: np.ndarray, n_components: int | float | None) -> int:
    rank = variances.size
    if n_components is None:
        return rank
    if isinstance(n_components, (bool, np.bool_)):
        raise TypeError("n_components must be an int, a float in (0, 1] or None")
    if isinstance(n_components, (int, np.integer)):
        if n_components < 1:
            raise ValueError(f"n_components must be >= 1, got {n_components}")
        return min(int(n_components), rank)
    fraction = float(n_components)
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"a variance fraction must lie in (0, 1], got {fraction}")
    cumulative = np.cumsum(variances) / variances.sum()
    return min(int(np.searchsorted(cumulative, fraction - 1e-12)) + 1, rank)


#: What :func:`augment_faces` adds for each crop: its mirror image, shifts by 2 pixels left,
#: right, up and down, scalings by 0.94 and 1.06 about the point between the eyes, and the crop
#: shaded by a linear ramp from each side (half the light on the dark edge), normalised again.
AUGMENTATIONS: tuple[str, ...] = ("mirror", "shift", "scale", "light")

#: Fisherfaces' PCA step keeps at most this many dimensions by default. With augmented
#: enrolment the (N - c) / 2 rule counts copies as if they were new photos; measured with
#: 8 copies per crop (gtdb date split / ORL 5-5 rank-1): (N - c) / 2 0.903 / 0.930, 200 dims
#: 0.917 / 0.935, 400 dims 0.913 / 0.950, 100 dims 0.857 / 0.955.
PCA_CAP = 400

#: Galleries with more faces than this train without augmentation: they have many shots
#: already, and ten copies of each would need ten times the memory (4,000 copies of 92 x 112
#: crops are 330 MB as float64, and training holds a few such matrices).
AUGMENT_MAX_FACES = 400


def augment_faces(
    faces: np.ndarray, labels: np.ndarray, kinds: Sequence[str] = AUGMENTATIONS,
) -> tuple[np.ndarray, np.ndarray]:
    """The crops plus altered copies that a camera could as well have taken.

    A face seen a little to the side, a pixel or two off in alignment or slightly nearer is
    still the same person; training on such copies of each enrolled crop teaches the model
    that these changes do not make another person (and gives Fisherfaces' within-person
    scatter more than the handful of shots a user enrols).

    Parameters
    ----------
    faces : ndarray, shape (N, H, W)
    labels : ndarray, shape (N,)
    kinds : sequence of {"mirror", "shift", "scale", "light"}

    Returns
    -------
    faces, labels : the originals first, then each kind's copies in order.
    """
    import cv2

    crops = np.asarray(faces)
    if crops.ndim != 3:
        raise ValueError(f"augmentation needs (N, H, W) images, got shape {crops.shape}")
    height, width = crops.shape[1:]
    pixels = crops.astype(np.float32)
    out, names = [pixels], [labels]

    def warp(matrix: np.ndarray) -> np.ndarray:
        return np.stack([cv2.warpAffine(face, matrix, (width, height), flags=cv2.INTER_LINEAR,
                                        borderMode=cv2.BORDER_REPLICATE) for face in pixels])

    for kind in kinds:
        if kind == "mirror":
            out.append(pixels[:, :, ::-1])
            names.append(labels)
        elif kind == "shift":
            for dx, dy in ((2, 0), (-2, 0), (0, 2), (0, -2)):
                out.append(warp(np.float32([[1, 0, dx], [0, 1, dy]])))
                names.append(labels)
        elif kind == "scale":
            for factor in (0.94, 1.06):
                out.append(warp(cv2.getRotationMatrix2D((width / 2, 0.46 * height), 0, factor)))
                names.append(labels)
        elif kind == "light":
            # A lamp to one side, imitated simply (a linear ramp, not the stress test's
            # tanh ramp and hard shadow), then normalised again as the detector does.
            from workbench.faces.detect import normalize_illumination

            ramp = np.linspace(0.5, 1.0, width, dtype=np.float32)[None, :]
            for shade in (ramp, ramp[:, ::-1]):
                out.append(np.stack([normalize_illumination(
                    np.clip(face * shade, 0, 255).astype(np.uint8)).astype(np.float32)
                    for face in pixels]))
                names.append(labels)
        else:
            raise ValueError(f"unknown augmentation {kind!r}")
    return np.concatenate(out), np.concatenate(names)


#: How much the normalised grey levels count beside the gradient orientations in
#: :func:`orientation_features` (each pixel's orientation is a unit vector, so 1.0 would weigh
#: them alike). Chosen on the development people, gtdb p01-p25 / relit / ORL s1-s20 rank-1:
#: 0 0.954 / 0.827 / 0.98, 0.5 0.954 / 0.844 / 0.99 (maps at full size: 0.25 0.948 / 0.827 /
#: 0.98, 0.5 0.954 / 0.844 / 0.99, 1.0 0.942 / 0.838 / 1.00; README, Faces: figures).
ORIENTATION_GREY_WEIGHT = 0.5


def orientation_features(rows: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """What Fisherfaces see of each face with ``features="orientations"``: ``(M, 3·H/2·W/2)``.

    The direction of the grey-level gradient at each pixel, as ``(cos φ, sin φ)``, after a
    Gaussian blur of σ = 1 px (Tzimiropoulos, Zafeiriou & Pantic 2012, "Subspace learning from
    image gradient orientations"): a lamp moved to one side scales the grey levels of a region,
    which changes their differences but hardly their direction. The face's grey levels, scaled
    to zero mean and unit spread, come beside them at :data:`ORIENTATION_GREY_WEIGHT`. Each map
    is then averaged over 2 x 2 pixel blocks (a third of the numbers, and measured no worse).
    """
    import cv2

    height, width = shape
    size = (max(1, width // 2), max(1, height // 2))
    out = np.empty((rows.shape[0], 3 * size[0] * size[1]), dtype=np.float64)
    for i, row in enumerate(rows):
        face = np.asarray(row, dtype=np.float32).reshape(shape)
        smooth = cv2.GaussianBlur(face, (0, 0), 1.0)
        gx = cv2.Sobel(smooth, cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(smooth, cv2.CV_32F, 0, 1, ksize=3)
        magnitude = np.sqrt(gx * gx + gy * gy)
        flat = magnitude < 1e-6  # no gradient: direction 0, as arctan2(0, 0) gives
        cos = np.where(flat, 1.0, gx / np.maximum(magnitude, 1e-6)).astype(np.float32)
        sin = np.where(flat, 0.0, gy / np.maximum(magnitude, 1e-6)).astype(np.float32)
        grey = (face - face.mean()) / (face.std() + 1e-6) * ORIENTATION_GREY_WEIGHT
        out[i] = np.concatenate([cv2.resize(m, size, interpolation=cv2.INTER_AREA).ravel()
                                 for m in (cos, sin, grey)])
    return out


class _FaceSpaceModel:
    """What Eigenfaces and Fisherfaces share: labels, the identity distances, saving."""

    kind: ClassVar[str] = ""

    def __init__(self, distance: DistanceMode = "nearest", augment: bool = False,
                 metric: Metric = "euclidean") -> None:
        if distance not in ("nearest", "mean"):
            raise ValueError(f"distance must be 'nearest' or 'mean', got {distance!r}")
        if metric not in ("euclidean", "angle"):
            raise ValueError(f"metric must be 'euclidean' or 'angle', got {metric!r}")
        self.distance: DistanceMode = distance
        self.metric: Metric = metric
        self.augment = bool(augment)
        self.mean_: np.ndarray | None = None
        self.image_shape_: tuple[int, ...] | None = None
        self.labels_: np.ndarray = np.array([], dtype=str)
        self.classes_: list[str] = []
        self.projections_: np.ndarray = np.zeros((0, 0))
        # the face-space basis used for project/reconstruct (orthonormal rows)
        self.components_: np.ndarray = np.zeros((0, 0))

    # -- shape handling ---------------------------------------------------------------------
    def _check_fitted(self) -> np.ndarray:
        if self.mean_ is None:
            raise ModelError(f"the {type(self).__name__} is not trained yet (call fit first)")
        return self.mean_

    def _rows(self, faces: Any) -> tuple[np.ndarray, bool, tuple[int, ...] | None]:
        """(M, D) rows, whether the input was a single face, and the input image shape."""
        mean = self._check_fitted()
        array = np.asarray(faces)
        single = array.ndim == 1 or (array.ndim == 2 and self.image_shape_ is not None
                                     and array.shape == self.image_shape_)
        matrix, shape = _as_matrix(array[None] if single else array)
        if matrix.shape[1] != mean.size:
            expected = "x".join(map(str, self.image_shape_ or (mean.size,)))
            got = "x".join(map(str, shape or (matrix.shape[1],)))
            raise ValueError(
                f"faces must have {mean.size} pixels ({expected}) like the training faces, "
                f"got {got}"
            )
        return matrix, single, shape

    def _training_data(
        self, faces: Any, labels: Sequence[Any] | None
    ) -> tuple[np.ndarray, tuple[int, ...] | None, np.ndarray, list[str]]:
        """Rows, image shape, names and classes to train on (augmented when asked to)."""
        matrix, shape = _as_matrix(faces)
        names, classes = self._check_labels(matrix.shape[0], labels)
        if (self.augment and shape is not None and len(shape) == 2
                and matrix.shape[0] <= AUGMENT_MAX_FACES):
            images, names = augment_faces(matrix.reshape((-1, *shape)), names)
            matrix = images.reshape(images.shape[0], -1).astype(np.float64)
        return matrix, shape, names, classes

    @staticmethod
    def _check_labels(n: int, labels: Sequence[Any] | None) -> tuple[np.ndarray, list[str]]:
        if labels is None:
            names = np.array([""] * n, dtype=str)
        else:
            names = np.asarray([str(label) for label in labels], dtype=str)
            if names.shape != (n,):
                raise ValueError(f"labels must have one entry per face ({n}), got {len(names)}")
        return names, sorted(set(names.tolist()))

    # -- identity ---------------------------------------------------------------------------
    def embed(self, faces: Any) -> np.ndarray:
        """Coordinates used for identity distances, ``(M, K')`` (or ``(K',)`` for one face)."""
        rows, single, _ = self._rows(faces)
        result = self._embed_rows(rows)
        return result[0] if single else result

    def distances(self, faces: Any) -> np.ndarray:
        """Distance in face space from each face to each enrolled person.

        Parameters
        ----------
        faces : array_like
            One face ``(H, W)``/``(D,)`` or several ``(M, H, W)``/``(M, D)``.

        Returns
        -------
        ndarray, shape (M, P) (or (P,) for one face)
            Column ``p`` is the distance to ``classes_[p]``: to the nearest of that person's
            training faces (``distance="nearest"``) or to their mean (``"mean"``).
        """
        rows, single, _ = self._rows(faces)
        coordinates = self._embed_rows(rows)
        result = self._distances_from_coordinates(coordinates)
        return result[0] if single else result

    def _distances_from_coordinates(self, coordinates: np.ndarray) -> np.ndarray:
        if not self.classes_:
            raise ModelError("the model has no enrolled people")
        if self.distance == "mean":
            references, groups = self._class_means(), None
        else:
            references, groups = self.projections_, self.labels_
        pairwise = (_angle(coordinates, references) if self.metric == "angle"
                    else _euclidean(coordinates, references))
        if groups is None:
            return pairwise
        out = np.empty((coordinates.shape[0], len(self.classes_)))
        for p, name in enumerate(self.classes_):
            out[:, p] = pairwise[:, groups == name].min(axis=1)
        return out

    def _class_means(self) -> np.ndarray:
        return np.stack([self.projections_[self.labels_ == name].mean(axis=0)
                         for name in self.classes_])

    def nearest(self, faces: Any) -> tuple[list[str], np.ndarray]:
        """The nearest enrolled person for each face and the distance to them.

        Returns
        -------
        names : list of str, length M
        distances : ndarray, shape (M,)
        """
        rows, _, _ = self._rows(faces)
        table = self._distances_from_coordinates(self._embed_rows(rows))
        best = table.argmin(axis=1)
        return [self.classes_[i] for i in best], table[np.arange(len(best)), best]

    def _embed_rows(self, rows: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def assess(self, faces: Any) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Everything recognition needs, from one pass over the basis (the fast path).

        Returns
        -------
        names : list of str, length M
            The nearest enrolled person of each face.
        distances : ndarray, shape (M,)
            Distance in face space to that person.
        face_distances : ndarray, shape (M,)
            Distance from face space, computed as ``√((‖x - mean‖² - ‖w‖²) / D)`` from the
            weights ``w`` (the basis is orthonormal), which saves the reconstruction; it agrees
            with :meth:`distance_from_face_space` to rounding (~1e-6 grey levels).
        """
        rows, _, _ = self._rows(faces)
        centred = rows - self.mean_
        weights = centred @ self.components_.T
        residual = (np.einsum("ij,ij->i", centred, centred)
                    - np.einsum("ij,ij->i", weights, weights))
        face_distances = np.sqrt(np.maximum(residual, 0.0) / rows.shape[1])
        table = self._distances_from_coordinates(self._embed_weights(rows, weights))
        best = table.argmin(axis=1)
        return ([self.classes_[i] for i in best], table[np.arange(len(best)), best],
                face_distances)

    def _embed_weights(self, rows: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Identity coordinates, given the face-space weights already computed."""
        return self._embed_rows(rows)

    # -- face space -------------------------------------------------------------------------
    def project(self, faces: Any) -> np.ndarray:
        """Weights of the faces on the face-space basis ``components_``, ``(M, K)``."""
        rows, single, _ = self._rows(faces)
        weights = (rows - self.mean_) @ self.components_.T
        return weights[0] if single else weights

    def reconstruct(self, faces: Any) -> np.ndarray:
        """The faces as face space sees them: mean + Σ weight × basis, in the input's shape."""
        rows, single, shape = self._rows(faces)
        rebuilt = self._reconstruct_rows(rows)
        if shape is not None:
            rebuilt = rebuilt.reshape((-1, *shape))
        elif single and self.image_shape_ is not None and np.asarray(faces).ndim == 2:
            rebuilt = rebuilt.reshape((-1, *self.image_shape_))
        return rebuilt[0] if single else rebuilt

    def _reconstruct_rows(self, rows: np.ndarray) -> np.ndarray:
        weights = (rows - self.mean_) @ self.components_.T
        return self.mean_ + weights @ self.components_

    def distance_from_face_space(self, faces: Any) -> np.ndarray:
        """Reconstruction error: RMS grey levels per pixel between a face and its reconstruction.

        Small for faces, large for images face space cannot represent (Turk & Pentland 1991,
        section 2.3: "distance from face space").

        Returns
        -------
        ndarray, shape (M,) (or a 0-d value for one face)
        """
        rows, single, _ = self._rows(faces)
        residual = rows - self._reconstruct_rows(rows)
        result = np.sqrt(np.mean(residual**2, axis=1))
        return result[0] if single else result

    @property
    def mean_face(self) -> np.ndarray:
        """The mean training face, in the training images' shape."""
        mean = self._check_fitted()
        return mean.reshape(self.image_shape_) if self.image_shape_ else mean.copy()

    def clone(self) -> _FaceSpaceModel:
        """An untrained model with the same settings (for cross-validation)."""
        params = self._params()
        params.pop("solver_used", None)
        return type(self)(**params)

    # -- saving -----------------------------------------------------------------------------
    def _params(self) -> dict[str, Any]:
        raise NotImplementedError

    def _arrays(self) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def to_bytes(self) -> bytes:
        """Serialise the trained model (``.npz``; float arrays stored as float32).

        float32 halves the size (the model is cached in the gallery database) and changes
        distances by about 1e-5 grey levels, far below what 8-bit pixels can express.
        """
        mean = self._check_fitted()
        arrays = {name: np.asarray(value, dtype=np.float32) for name, value in
                  self._arrays().items()}
        # a model in orientations is format 2, in LBP histograms 3: older versions say "newer
        # Workbench" instead of failing on a setting they do not know
        fmt = {"pixels": 1, "orientations": 2, "lbp": 3}[getattr(self, "features", "pixels")]
        header = {"kind": self.kind, "format": fmt, "params": self._params(),
                  "image_shape": list(self.image_shape_) if self.image_shape_ else None}
        buffer = io.BytesIO()
        np.savez_compressed(buffer, header=np.array(json.dumps(header)), labels=self.labels_,
                            mean=mean.astype(np.float32), **arrays)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> _FaceSpaceModel:
        """Load a model saved by :meth:`to_bytes` (the class must match; see :func:`load_model`)."""
        model = load_model(data)
        if not isinstance(model, cls):
            raise ModelError(f"the data holds a {type(model).__name__}, not a {cls.__name__}")
        return model

    def _restore(self, header: dict[str, Any], archive: Any) -> None:
        self.mean_ = archive["mean"].astype(np.float64)
        shape = header.get("image_shape")
        self.image_shape_ = tuple(shape) if shape else None
        self.labels_ = archive["labels"].astype(str)
        self.classes_ = sorted(set(self.labels_.tolist()))


def _angle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angles in degrees between the rows of ``a`` and of ``b`` (seen from the mean face)."""
    unit = lambda m: m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)  # noqa: E731
    return np.degrees(np.arccos(np.clip(unit(a) @ unit(b).T, -1.0, 1.0)))


def _euclidean(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    squared = (np.einsum("ij,ij->i", a, a)[:, None] + np.einsum("ij,ij->i", b, b)[None, :]
               - 2.0 * a @ b.T)
    return np.sqrt(np.maximum(squared, 0.0))


class EigenfaceModel(_FaceSpaceModel):
    """Eigenfaces: PCA face space, identity by distance in it (Turk & Pentland 1991).

    Parameters
    ----------
    n_components : float, int or None
        A float in (0, 1]: keep the fewest eigenfaces whose cumulative variance reaches that
        fraction (default 0.95). An int: keep that many (at most N - 1). None: keep all.
    drop_first : int
        Leave the first ``drop_first`` eigenfaces out of identity distances (they mostly encode
        lighting, Belhumeur et al. 1997). They stay in face space for reconstruction and the
        distance from face space.
    distance : {"nearest", "mean"}
        Distance to a person: to their nearest training face or to their mean in face space.
    metric : {"euclidean", "angle"}
        Identity distances as RMS grey levels (default) or as angles in degrees from the mean
        face (see the module notes).
    solver : {"auto", "gram", "svd"}
        See :func:`principal_components`. ``"auto"`` uses the small-matrix trick when there
        are fewer faces than pixels.

    Attributes
    ----------
    mean_ : ndarray, shape (D,)
    components_ : ndarray, shape (K, D)
        The eigenfaces (orthonormal rows), by decreasing eigenvalue.
    eigenvalues_ : ndarray, shape (R,)
        Every non-zero eigenvalue of the training covariance (for a scree plot).
    explained_variance_ratio_ : ndarray, shape (R,)
    n_components_ : int
        K, the eigenfaces kept.
    solver_ : str
        ``"gram"`` (small-matrix trick) or ``"svd"``.
    projections_ : ndarray, shape (N, K - drop_first)
        Identity coordinates of the training faces: their weights on the eigenfaces kept for
        identity, divided by √D (so distances are RMS grey levels per pixel).
    labels_, classes_ : the training labels and the sorted distinct names.

    References
    ----------
    M. Turk and A. Pentland, "Eigenfaces for recognition", J. Cognitive Neuroscience 3(1), 1991.
    P. N. Belhumeur, J. P. Hespanha, D. J. Kriegman, "Eigenfaces vs. Fisherfaces", PAMI 1997.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> faces = rng.integers(0, 256, (6, 112, 92)).astype(np.uint8)
    >>> model = EigenfaceModel(n_components=None).fit(faces, ["a", "a", "a", "b", "b", "b"])
    >>> model.n_components_, model.solver_
    (5, 'gram')
    >>> bool(np.allclose(model.reconstruct(faces), faces))
    True
    >>> model.nearest(faces[:2])[0]
    ['a', 'a']
    """

    kind = "eigenfaces"

    def __init__(
        self,
        n_components: float | int | None = 0.95,
        *,
        drop_first: int = 0,
        distance: DistanceMode = "nearest",
        solver: Solver = "auto",
        augment: bool = False,
        metric: Metric = "euclidean",
    ) -> None:
        super().__init__(distance, augment, metric)
        if int(drop_first) != drop_first or drop_first < 0:
            raise ValueError(f"drop_first must be a non-negative integer, got {drop_first}")
        if solver not in ("auto", "gram", "svd"):
            raise ValueError(f"solver must be 'auto', 'gram' or 'svd', got {solver!r}")
        _count_for_variance(np.ones(1), n_components)  # validates the value
        self.n_components = n_components
        self.drop_first = int(drop_first)
        self.solver = solver
        self.eigenvalues_ = np.zeros(0)
        self.n_components_ = 0
        self.solver_ = ""

    def fit(
        self, faces: Any, labels: Sequence[Any] | None = None, *,
        progress: Progress | None = None,
    ) -> EigenfaceModel:
        """Learn the mean face and the eigenfaces, and project the training faces.

        Parameters
        ----------
        faces : array_like, shape (N, H, W) or (N, D)
            Aligned, illumination-normalised crops (any numeric dtype), N >= 2.
        labels : sequence of str, length N, optional
            The person each face shows (needed for :meth:`distances` and :meth:`nearest`).
        progress : callable, optional
            ``progress(fraction, message)``; it may raise to cancel (the model is then left
            untrained).

        Returns
        -------
        self

        Raises
        ------
        ModelError
            Fewer than two faces, all faces identical, or ``drop_first`` leaves no component.
        """
        matrix, shape, names, classes = self._training_data(faces, labels)
        n = matrix.shape[0]
        if n < 2:
            raise ModelError(f"eigenfaces need at least 2 training faces, got {n}")
        if (matrix == matrix[0]).all():
            raise ModelError("all training faces are identical: there is no variation to learn")
        report_progress(progress, 0.0, "mean face")
        mean = matrix.mean(axis=0)
        centred = matrix - mean
        axes, variances, scores, solver = principal_components(
            centred, solver=self.solver, n_components=self.n_components, progress=progress)
        if variances.size == 0:
            raise ModelError("all training faces are identical: there is no variation to learn")
        keep = axes.shape[0]
        if self.drop_first >= keep:
            raise ModelError(
                f"dropping the first {self.drop_first} eigenfaces leaves none of the {keep} kept;"
                " lower drop_first or keep more components"
            )
        self.mean_, self.image_shape_ = mean, shape
        self.labels_, self.classes_ = names, classes
        self.components_ = axes[:keep]
        self.eigenvalues_ = variances
        self.n_components_ = keep
        self.solver_ = solver
        report_progress(progress, 0.9, "projecting the training faces")
        self.projections_ = scores[:, self.drop_first:] / np.sqrt(matrix.shape[1])
        report_progress(progress, 1.0, f"{keep} eigenfaces from {n} faces")
        return self

    @property
    def explained_variance_ratio_(self) -> np.ndarray:
        total = self.eigenvalues_.sum()
        return self.eigenvalues_ / total if total > 0 else self.eigenvalues_.copy()

    def eigenfaces(self) -> np.ndarray:
        """The eigenfaces as images ``(K, H, W)`` (or rows ``(K, D)`` without an image shape)."""
        self._check_fitted()
        if self.image_shape_ is None:
            return self.components_.copy()
        return self.components_.reshape((-1, *self.image_shape_))

    def _embed_rows(self, rows: np.ndarray) -> np.ndarray:
        # weights / sqrt(D): Euclidean distances between these are RMS grey levels per pixel
        scale = 1.0 / np.sqrt(rows.shape[1])
        return ((rows - self.mean_) @ self.components_[self.drop_first:].T) * scale

    def _embed_weights(self, rows: np.ndarray, weights: np.ndarray) -> np.ndarray:
        return weights[:, self.drop_first:] / np.sqrt(rows.shape[1])

    def _params(self) -> dict[str, Any]:
        return {"n_components": self.n_components, "drop_first": self.drop_first,
                "distance": self.distance, "solver": self.solver, "solver_used": self.solver_,
                "augment": self.augment, "metric": self.metric}

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"components": self.components_, "eigenvalues": self.eigenvalues_,
                "projections": self.projections_}

    def _restore(self, header: dict[str, Any], archive: Any) -> None:
        super()._restore(header, archive)
        self.components_ = archive["components"].astype(np.float64)
        self.eigenvalues_ = archive["eigenvalues"].astype(np.float64)
        self.projections_ = archive["projections"].astype(np.float64)
        # models saved before orientations existed are in pixels and have no feature mean
        self.feature_mean_ = (archive["feature_mean"].astype(np.float64)
                              if "feature_mean" in archive.files else np.zeros(0))
        self.n_components_ = self.components_.shape[0]
        self.solver_ = header["params"].get("solver_used", "")


class FisherfaceModel(_FaceSpaceModel):
    """Fisherfaces: PCA, then Fisher's linear discriminant (Belhumeur et al. 1997).

    The PCA step makes the within-class scatter non-singular; the discriminant step keeps at
    most c - 1 directions (c people) that maximise between-person over within-person scatter.

    Belhumeur et al. reduce to N - c dimensions, the most for which the within-class scatter
    can be non-singular. With few pictures per person that estimate is fitted exactly by the
    training faces, and the discriminant overfits: on ORL (5 training images per person,
    N - c = 160) rank-1 accuracy is 0.415 at 160 PCA dimensions, 0.87 at 80 and 0.885 at 40.
    The default here is therefore half of that, ``(N - c) // 2`` (at least c - 1), which gives
    the within-class scatter two samples per dimension, and at most :data:`PCA_CAP` (augmented
    copies are not new photos).

    Parameters
    ----------
    n_components : int or None
        Discriminant directions to keep (default all, c - 1).
    pca_components : int or None
        Dimensions of the PCA step (default ``max(c - 1, (N - c) // 2)``, at most N - c).
    distance : {"nearest", "mean"}, metric : {"euclidean", "angle"}
        As for :class:`EigenfaceModel`.
    face_space_variance : float
        The distance from face space uses a PCA face space holding this fraction of the
        variance (default 0.95, as eigenfaces), not the N - c dimensional one, which would fit
        almost any image.
    features : {"pixels", "orientations", "lbp"}
        What the PCA and discriminant steps see: the grey levels (the default here, as
        Belhumeur et al.), :func:`orientation_features`, or local binary pattern histograms
        (:func:`workbench.faces.texture.lbp_features`, the gallery's default). The face space
        above is in grey levels either way. Orientations and LBP histograms need (N, H, W)
        images.

    Attributes
    ----------
    fisherfaces_ : ndarray, shape (c - 1, D)
        The projection onto the discriminant axes (not orthonormal); D is the number of
        features (pixels, orientation features or histogram bins).
    components_ : ndarray, shape (K, D)
        The PCA face-space basis used by :meth:`project`, :meth:`reconstruct` and
        :meth:`distance_from_face_space`.
    eigenvalues_ : ndarray
        Generalised eigenvalues (between / within scatter) of the kept directions.
    feature_mean_ : ndarray
        The mean of the training faces' features (empty in pixels).

    References
    ----------
    P. N. Belhumeur, J. P. Hespanha, D. J. Kriegman, "Eigenfaces vs. Fisherfaces: recognition
    using class specific linear projection", IEEE Trans. PAMI 19(7), 1997.
    """

    kind = "fisherfaces"

    def __init__(
        self,
        n_components: int | None = None,
        *,
        pca_components: int | None = None,
        distance: DistanceMode = "nearest",
        face_space_variance: float = 0.95,
        augment: bool = False,
        metric: Metric = "euclidean",
        features: Features = "pixels",
    ) -> None:
        super().__init__(distance, augment, metric)
        for name, value in (("n_components", n_components), ("pca_components", pca_components)):
            if value is not None and (int(value) != value or value < 1):
                raise ValueError(f"{name} must be a positive integer or None, got {value}")
        if features not in FEATURES:
            raise ValueError(f"features must be one of {', '.join(FEATURES)}, got {features!r}")
        self.features: Features = features
        self.feature_mean_ = np.zeros(0)
        self.pca_components = pca_components
        _count_for_variance(np.ones(1), float(face_space_variance))
        self.n_components = n_components
        self.face_space_variance = float(face_space_variance)
        self.fisherfaces_ = np.zeros((0, 0))
        self.eigenvalues_ = np.zeros(0)

    def fit(
        self, faces: Any, labels: Sequence[Any], *, progress: Progress | None = None
    ) -> FisherfaceModel:
        """Learn the PCA and discriminant projections.

        Raises
        ------
        ModelError
            Fewer than two people, or no more faces than people (nothing left to estimate the
            within-person scatter from).
        """
        matrix, shape, names, classes = self._training_data(faces, labels)
        n = matrix.shape[0]
        c = len(classes)
        if c < 2:
            raise ModelError("Fisherfaces need at least 2 people")
        if self.features != "pixels" and (shape is None or len(shape) != 2):
            raise ModelError(f"features={self.features!r} need face images (N, H, W), not rows")
        if n <= c:
            raise ModelError(
                f"Fisherfaces need more faces than people ({n} faces for {c} people): enrol at "
                "least two faces for someone"
            )
        report_progress(progress, 0.0, "mean face")
        mean = matrix.mean(axis=0)
        centred = matrix - mean
        inner = lambda f, m: None if progress is None else progress(0.6 * f, m)  # noqa: E731
        dims = min(self.pca_components or min(max(c - 1, (n - c) // 2), PCA_CAP), n - c)
        axes, variances, scores, _ = principal_components(centred, progress=inner)
        total = float(np.sum(variances))
        # the eigenfaces' share of the variance, for the Insight tab's scree plot
        self.face_space_variance_ratio_ = variances / total if total > 0 else variances.copy()
        face_space = _count_for_variance(variances, self.face_space_variance)
        self.components_ = axes[:face_space]  # "is it a face" stays in pixels either way
        if self.features != "pixels":
            report_progress(progress, 0.6, FEATURE_WORDS[self.features])
            described = self._describe(matrix, shape)  # type: ignore[arg-type]
            feature_mean = described.mean(axis=0)
            described -= feature_mean
            axes, _, scores, _ = principal_components(described)
        else:
            feature_mean, described = np.zeros(0), centred
        pca_axes = axes[:dims]
        reduced = scores[:, :dims]  # = described @ pca_axes.T
        report_progress(progress, 0.65, "scatter matrices")
        index = np.searchsorted(classes, names)
        class_means = np.stack([reduced[index == k].mean(axis=0) for k in range(c)])
        counts = np.bincount(index, minlength=c).astype(np.float64)
        within = reduced - class_means[index]
        scatter_w = within.T @ within / (n - c)
        scatter_b = (class_means * counts[:, None]).T @ class_means  # overall mean is 0
        # a tiny ridge keeps the problem definite when faces repeat exactly
        ridge = 1e-9 * np.trace(scatter_w) / max(scatter_w.shape[0], 1)
        scatter_w[np.diag_indices_from(scatter_w)] += ridge
        report_progress(progress, 0.8, "discriminant directions")
        values, vectors = scipy.linalg.eigh(scatter_b, scatter_w)
        keep = c - 1 if self.n_components is None else min(int(self.n_components), c - 1)
        order = np.argsort(values)[::-1][:keep]
        vectors = vectors[:, order]
        fisher = (pca_axes.T @ vectors).T  # (keep, D)
        signs = np.where(fisher.sum(axis=1) < 0, -1.0, 1.0)
        self.fisherfaces_ = fisher * signs[:, None]
        self.eigenvalues_ = values[order]
        self.feature_mean_ = feature_mean
        self.mean_, self.image_shape_ = mean, shape
        self.labels_, self.classes_ = names, classes
        self.projections_ = described @ self.fisherfaces_.T
        report_progress(progress, 1.0, f"{keep} Fisherfaces from {n} faces of {c} people")
        return self

    def _describe(self, rows: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
        """The features the discriminant sees (not in pixels)."""
        if self.features == "lbp":
            return lbp_features(rows, shape)
        return orientation_features(rows, shape)

    def _embed_rows(self, rows: np.ndarray) -> np.ndarray:
        if self.features != "pixels":
            described = self._describe(rows, self.image_shape_) - self.feature_mean_  # type: ignore[arg-type]
            return described @ self.fisherfaces_.T
        return (rows - self.mean_) @ self.fisherfaces_.T

    def _params(self) -> dict[str, Any]:
        params = {"n_components": self.n_components, "pca_components": self.pca_components,
                  "distance": self.distance, "face_space_variance": self.face_space_variance,
                  "augment": self.augment, "metric": self.metric}
        if self.features != "pixels":  # a grey-level model saves as before: older versions read it
            params["features"] = self.features
        return params

    def _arrays(self) -> dict[str, np.ndarray]:
        arrays = {"components": self.components_, "fisherfaces": self.fisherfaces_,
                  "eigenvalues": self.eigenvalues_, "projections": self.projections_}
        if self.features != "pixels":
            arrays["feature_mean"] = self.feature_mean_
        return arrays

    def _restore(self, header: dict[str, Any], archive: Any) -> None:
        super()._restore(header, archive)
        self.components_ = archive["components"].astype(np.float64)
        self.fisherfaces_ = archive["fisherfaces"].astype(np.float64)
        self.eigenvalues_ = archive["eigenvalues"].astype(np.float64)
        self.projections_ = archive["projections"].astype(np.float64)
        # models saved before orientations existed are in pixels and have no feature mean
        self.feature_mean_ = (archive["feature_mean"].astype(np.float64)
                              if "feature_mean" in archive.files else np.zeros(0))


_KINDS: dict[str, type[_FaceSpaceModel]] = {
    EigenfaceModel.kind: EigenfaceModel, FisherfaceModel.kind: FisherfaceModel,
}


def load_model(data: bytes) -> EigenfaceModel | FisherfaceModel:
    """Rebuild a model from :meth:`~EigenfaceModel.to_bytes` output, whatever its kind.

    Raises
    ------
    ModelError
        The bytes are not a saved model, are damaged, or come from a newer format.
    """
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            header = json.loads(str(archive["header"]))
            cls = _KINDS.get(header.get("kind"))
            if cls is None:
                raise ModelError(f"unknown face model kind {header.get('kind')!r}")
            if int(header.get("format", 0)) > _FORMAT_VERSION:
                raise ModelError("the face model was saved by a newer Workbench; retrain it")
            params = dict(header["params"])
            params.pop("solver_used", None)
            model = cls(**params)  # type: ignore[arg-type]
            model._restore(header, archive)
    except ModelError:
        raise
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as exc:
        raise ModelError(f"the saved face model is damaged ({type(exc).__name__}: {exc})") from None
    return model  # type: ignore[return-value]
