"""EigenfaceModel and FisherfaceModel on small synthetic data (no data sets needed)."""

from __future__ import annotations

import io

import numpy as np
import pytest

from workbench.faces.eigenfaces import (
    EigenfaceModel,
    FisherfaceModel,
    load_model,
    principal_components,
)
from workbench.faces.errors import ModelError


def _people(n_people=4, per_person=5, shape=(14, 12), spread=3.0, seed=0):
    """Synthetic 'faces': a person is a random image, their pictures are it plus noise."""
    rng = np.random.default_rng(seed)
    bases = rng.uniform(40, 210, (n_people, *shape))
    faces = np.concatenate([b + rng.normal(0, spread, (per_person, *shape)) for b in bases])
    labels = [f"p{k}" for k in range(n_people) for _ in range(per_person)]
    return faces, labels


def _align_signs(a, b):
    return a * np.sign(np.sum(a * b, axis=1))[:, None]


@pytest.mark.parametrize("solver", ["gram", "svd"])
def test_eigenfaces_equal_svd_based_pca(solver):
    rng = np.random.default_rng(1)
    data = rng.normal(size=(12, 50)) @ np.diag(np.linspace(3, 0.1, 50))
    model = EigenfaceModel(n_components=None, solver=solver).fit(data)
    centred = data - data.mean(axis=0)
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    rank = 11  # 12 centred rows
    np.testing.assert_allclose(model.mean_, data.mean(axis=0))
    np.testing.assert_allclose(model.eigenvalues_, singular[:rank] ** 2 / 11, rtol=1e-10)
    assert model.n_components_ == rank
    np.testing.assert_allclose(_align_signs(model.components_, vt[:rank]), vt[:rank],
                               atol=1e-9)
    np.testing.assert_allclose(model.components_ @ model.components_.T, np.eye(rank),
                               atol=1e-10)


def test_small_matrix_trick_is_used_when_fewer_faces_than_pixels(monkeypatch):
    faces, labels = _people()  # 20 faces of 168 pixels
    # the trick decomposes the 20 x 20 matrix A·Aᵀ: no SVD of A may be needed
    def no_svd(*args, **kwargs):
        raise AssertionError("SVD called although N < D")

    monkeypatch.setattr(np.linalg, "svd", no_svd)
    model = EigenfaceModel().fit(faces, labels)
    assert model.solver_ == "gram"
    monkeypatch.undo()
    wide = EigenfaceModel().fit(faces.reshape(20, -1)[:, :10])  # 20 faces of 10 values
    assert wide.solver_ == "svd"


def test_gram_and_svd_solvers_agree_on_faces():
    faces, labels = _people()
    gram = EigenfaceModel(solver="gram").fit(faces, labels)
    svd = EigenfaceModel(solver="svd").fit(faces, labels)
    assert gram.n_components_ == svd.n_components_
    np.testing.assert_allclose(gram.components_, svd.components_, atol=1e-8)  # same signs
    np.testing.assert_allclose(gram.distances(faces), svd.distances(faces), atol=1e-5)


def test_reconstruction_with_all_components_is_exact():
    faces, labels = _people()
    model = EigenfaceModel(n_components=None).fit(faces, labels)
    np.testing.assert_allclose(model.reconstruct(faces), faces, atol=1e-8)
    np.testing.assert_allclose(model.distance_from_face_space(faces), 0, atol=1e-8)
    assert model.reconstruct(faces[0]).shape == faces[0].shape
    weights = model.project(faces)
    np.testing.assert_allclose(model.mean_ + weights @ model.components_,
                               faces.reshape(len(faces), -1), atol=1e-8)


def test_distance_from_face_space_is_rms_of_the_residual():
    faces, labels = _people()
    model = EigenfaceModel(n_components=3).fit(faces, labels)
    probe = faces[0] + np.random.default_rng(5).normal(0, 20, faces[0].shape)
    residual = probe - model.reconstruct(probe)
    assert model.distance_from_face_space(probe) == pytest.approx(
        np.sqrt(np.mean(residual**2)))


def test_components_chosen_by_cumulative_variance():
    faces, labels = _people(n_people=6)
    model = EigenfaceModel(n_components=0.9).fit(faces, labels)
    cumulative = np.cumsum(model.explained_variance_ratio_)
    k = model.n_components_
    assert cumulative[k - 1] >= 0.9 > cumulative[k - 2]
    assert EigenfaceModel(n_components=3).fit(faces, labels).n_components_ == 3
    assert EigenfaceModel(n_components=1000).fit(faces, labels).n_components_ == 29  # N - 1


def test_nearest_and_class_mean_distances():
    # people on a line in 2-D: p0 at 0 and 10 (two pictures), p1 at 6
    data = np.array([[0.0, 0.0], [10.0, 0.0], [6.0, 0.0]])
    labels = ["p0", "p0", "p1"]
    nearest = EigenfaceModel(n_components=None, solver="svd").fit(data, labels)
    mean = EigenfaceModel(n_components=None, solver="svd", distance="mean").fit(data, labels)
    probe = np.array([9.0, 0.0])
    scale = np.sqrt(2)  # distances are RMS per value: Euclidean / sqrt(D)
    np.testing.assert_allclose(nearest.distances(probe), np.array([1.0, 3.0]) / scale)
    np.testing.assert_allclose(mean.distances(probe), np.array([4.0, 3.0]) / scale)
    assert nearest.nearest(probe[None])[0] == ["p0"]
    assert mean.nearest(probe[None])[0] == ["p1"]


def test_angle_metric_ignores_the_length_and_can_change_the_winner():
    # around the mean (0, 0): p0 along +x far out, p1 at 45 degrees close in
    data = np.array([[10.0, 0.0], [-10.0, 0.0], [1.0, 1.0], [-1.0, -1.0]])
    labels = ["p0", "p2", "p1", "p3"]
    euclid = EigenfaceModel(n_components=None, solver="svd").fit(data, labels)
    angle = EigenfaceModel(n_components=None, solver="svd", metric="angle").fit(data, labels)
    probe = np.array([2.0, 0.4])  # near p1 in distance, near p0's direction (11.3 degrees)
    assert euclid.nearest(probe[None])[0] == ["p1"]
    assert angle.nearest(probe[None])[0] == ["p0"]
    table = angle.distances(probe)
    np.testing.assert_allclose(table[angle.classes_.index("p0")],
                               np.degrees(np.arctan2(0.4, 2.0)), atol=1e-9)
    np.testing.assert_allclose(table[angle.classes_.index("p1")],
                               45.0 - np.degrees(np.arctan2(0.4, 2.0)), atol=1e-9)
    assert np.all((table >= 0) & (table <= 180))
    # a longer probe in the same direction is the same distance
    np.testing.assert_allclose(angle.distances(3 * probe), table, atol=1e-9)
    with pytest.raises(ValueError, match="metric"):
        FisherfaceModel(metric="cosine")


def test_recognises_its_training_people():
    faces, labels = _people(spread=8.0)
    model = EigenfaceModel().fit(faces[::2], labels[::2])
    names, distances = model.nearest(faces[1::2])
    assert names == labels[1::2]
    assert distances.shape == (10,)


def test_drop_first_removes_leading_components_from_identity_only():
    faces, labels = _people(n_people=6)
    full = EigenfaceModel(n_components=10).fit(faces, labels)
    dropped = EigenfaceModel(n_components=10, drop_first=2).fit(faces, labels)
    assert dropped.projections_.shape == (30, 8)
    np.testing.assert_allclose(dropped.embed(faces), full.embed(faces)[:, 2:])
    # face space (reconstruction) still uses all 10
    np.testing.assert_allclose(dropped.distance_from_face_space(faces),
                               full.distance_from_face_space(faces))
    with pytest.raises(ModelError, match="drop"):
        EigenfaceModel(n_components=2, drop_first=2).fit(faces, labels)


def test_fisherfaces_find_the_direction_eigenfaces_miss():
    # identity lives in one low-variance axis; three axes of large nuisance ("lighting")
    rng = np.random.default_rng(3)
    n_people, per = 5, 8
    d = 40
    identity = np.zeros((n_people, d))
    identity[:, 0] = np.arange(n_people) * 2.0
    def pictures(count):
        out = []
        for p in range(n_people):
            x = identity[p] + rng.normal(0, 0.1, (count, d))
            x[:, 1:4] += rng.normal(0, 30, (count, 3))
            out.append(x)
        return np.concatenate(out)
    train, test = pictures(per), pictures(per)
    labels = [f"p{p}" for p in range(n_people) for _ in range(per)]
    fisher = FisherfaceModel().fit(train, labels)
    eigen = EigenfaceModel(n_components=3).fit(train, labels)
    fisher_acc = np.mean(np.array(fisher.nearest(test)[0]) == labels)
    eigen_acc = np.mean(np.array(eigen.nearest(test)[0]) == labels)
    assert fisher_acc > 0.95
    assert eigen_acc < 0.6
    assert fisher.fisherfaces_.shape == (n_people - 1, d)


@pytest.mark.parametrize("make", [
    lambda: EigenfaceModel(0.95, drop_first=1, distance="mean"),
    lambda: FisherfaceModel(distance="nearest"),
    lambda: FisherfaceModel(metric="angle"),
    lambda: FisherfaceModel(metric="angle", features="orientations"),
    lambda: FisherfaceModel(metric="angle", features="lbp"),
])
def test_save_and_load_round_trip(make):
    faces, labels = _people()
    model = make().fit(faces, labels)
    loaded = load_model(model.to_bytes())
    assert type(loaded) is type(model)
    assert loaded.classes_ == model.classes_
    assert loaded.image_shape_ == model.image_shape_
    assert loaded.distance == model.distance
    assert loaded.metric == model.metric
    np.testing.assert_allclose(loaded.distances(faces), model.distances(faces), rtol=1e-4,
                               atol=1e-3)
    np.testing.assert_allclose(loaded.distance_from_face_space(faces),
                               model.distance_from_face_space(faces), atol=1e-3)
    assert type(model).from_bytes(model.to_bytes()).classes_ == model.classes_


def test_load_refuses_damaged_or_foreign_bytes():
    faces, labels = _people()
    data = EigenfaceModel().fit(faces, labels).to_bytes()
    with pytest.raises(ModelError, match="damaged"):
        load_model(data[: len(data) // 2])
    with pytest.raises(ModelError, match="damaged"):
        load_model(b"not a model")
    with pytest.raises(ModelError, match="not a FisherfaceModel"):
        FisherfaceModel.from_bytes(data)


def test_progress_reports_and_cancellation():
    faces, labels = _people()
    seen = []
    model = EigenfaceModel().fit(faces, labels, progress=lambda f, m: seen.append((f, m)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0

    class Cancelled(Exception):
        pass

    def cancel(fraction, message):
        if fraction > 0.2:
            raise Cancelled

    fresh = EigenfaceModel()
    with pytest.raises(Cancelled):
        fresh.fit(faces, labels, progress=cancel)
    with pytest.raises(ModelError, match="not trained"):
        fresh.project(faces)
    assert model.n_components_ > 0


def test_bad_input_gives_clear_errors():
    faces, labels = _people()
    with pytest.raises(ModelError, match="at least 2"):
        EigenfaceModel().fit(faces[:1])
    with pytest.raises(ModelError, match="identical"):
        EigenfaceModel().fit(np.repeat(faces[:1], 3, axis=0))
    with pytest.raises(ValueError, match="one entry per face"):
        EigenfaceModel().fit(faces, labels[:-1])
    model = EigenfaceModel().fit(faces, labels)
    with pytest.raises(ValueError, match="168 pixels"):
        model.distances(np.zeros((2, 10, 10)))
    with pytest.raises(ModelError, match="at least 2 people"):
        FisherfaceModel().fit(faces[:5], labels[:5])
    with pytest.raises(ModelError, match="more faces than people"):
        FisherfaceModel().fit(faces[::5], labels[::5])
    with pytest.raises(ValueError):
        EigenfaceModel(n_components=1.5)
    with pytest.raises(ValueError):
        EigenfaceModel(distance="cosine")


def test_principal_components_signs_are_deterministic():
    rng = np.random.default_rng(9)
    data = rng.normal(size=(8, 30))
    data -= data.mean(axis=0)
    axes, _, scores, _ = principal_components(data)
    assert (axes.sum(axis=1) >= 0).all()
    np.testing.assert_allclose(scores, data @ axes.T, atol=1e-10)
    flipped, _, _, _ = principal_components(-data)
    np.testing.assert_allclose(flipped, axes, atol=1e-10)
    svd_axes, _, svd_scores, _ = principal_components(data, solver="svd")
    np.testing.assert_allclose(svd_axes, axes, atol=1e-10)
    np.testing.assert_allclose(svd_scores, scores, atol=1e-10)


@pytest.mark.parametrize("make", [lambda: EigenfaceModel(0.9, drop_first=1),
                                  lambda: FisherfaceModel(),
                                  lambda: FisherfaceModel(metric="angle"),
                                  lambda: FisherfaceModel(features="orientations"),
                                  lambda: FisherfaceModel(features="lbp", metric="angle")])
def test_assess_agrees_with_the_separate_calls(make):
    faces, labels = _people(spread=10.0)
    model = make().fit(faces[::2], labels[::2])
    probes = np.concatenate([faces[1::2], np.random.default_rng(2).uniform(0, 255, (3, 14, 12))])
    names, distances, away = model.assess(probes)
    expected_names, expected_distances = model.nearest(probes)
    assert names == expected_names
    np.testing.assert_allclose(distances, expected_distances, atol=1e-9)
    np.testing.assert_allclose(away, model.distance_from_face_space(probes), atol=1e-6)


def test_orientation_models_say_they_are_newer_and_pixel_models_stay_readable():
    # The version before orientations loads a model by ``FisherfaceModel(**params)`` with
    # these parameters only, and refuses a format above 1 with "retrain it".
    import json

    before = {"n_components", "pca_components", "distance", "face_space_variance", "augment",
              "metric"}
    faces, labels = _people()
    pixels = FisherfaceModel().fit(faces, labels)
    with np.load(io.BytesIO(pixels.to_bytes())) as archive:
        header = json.loads(str(archive["header"]))
        assert "feature_mean" not in archive.files
    assert header["format"] == 1 and set(header["params"]) == before
    oriented = FisherfaceModel(features="orientations").fit(faces, labels)
    with np.load(io.BytesIO(oriented.to_bytes())) as archive:
        header = json.loads(str(archive["header"]))
        assert "feature_mean" in archive.files
    assert header["format"] == 2 and header["params"]["features"] == "orientations"
    # LBP histograms are format 3: the version with orientations says "retrain it" too
    textured = FisherfaceModel(features="lbp").fit(faces, labels)
    with np.load(io.BytesIO(textured.to_bytes())) as archive:
        header = json.loads(str(archive["header"]))
    assert header["format"] == 3 and header["params"]["features"] == "lbp"
    # and a grey-level model saved that way loads as grey levels, distances unchanged
    loaded = load_model(pixels.to_bytes())
    assert loaded.features == "pixels"
    np.testing.assert_allclose(loaded.distances(faces), pixels.distances(faces), atol=1e-3)


def test_orientation_features_need_images_and_a_known_kind():
    faces, labels = _people()
    with pytest.raises(ValueError, match="features"):
        FisherfaceModel(features="edges")
    model = FisherfaceModel(features="orientations").fit(faces, labels)
    before = model.components_.copy()
    with pytest.raises(ModelError, match="images"):
        model.fit(faces.reshape(len(faces), -1), labels)
    np.testing.assert_array_equal(model.components_, before)  # a refused refit changes nothing


def test_the_version_before_lbp_refuses_an_lbp_model_in_plain_words(monkeypatch):
    from workbench.faces import eigenfaces as module

    faces, labels = _people()
    saved = FisherfaceModel(features="lbp").fit(faces, labels).to_bytes()
    oriented = FisherfaceModel(features="orientations").fit(faces, labels).to_bytes()
    monkeypatch.setattr(module, "_FORMAT_VERSION", 2)  # what the version before reads
    with pytest.raises(ModelError, match="newer Workbench; retrain it"):
        load_model(saved)
    assert load_model(oriented).features == "orientations"
