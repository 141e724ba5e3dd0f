"""The Colorize panel's state without a window: images, stale predictions, knobs and views."""

from __future__ import annotations

import numpy as np
import pytest
from onnx_models import realistic_model

from workbench.colorize.engine import Colorizer
from workbench.colorize.session import VIEWS, ColorizeSession, is_colour


@pytest.fixture(scope="module")
def colorizer(tmp_path_factory):
    return Colorizer(realistic_model(tmp_path_factory.mktemp("m") / "bins.onnx", size=64, width=8),
                     provider="cpu")


def _photo(seed: int, shape=(48, 64)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
    return np.kron(base, np.ones((shape[0] // 6, shape[1] // 8, 1), np.uint8))


def test_a_prediction_for_an_earlier_photo_of_the_same_size_is_refused(colorizer):
    session = ColorizeSession()
    session.set_model(colorizer)
    session.set_image(_photo(1), None)
    a = session.prediction_request()
    session.set_image(_photo(2), None)  # same size: every photo from one camera
    b = session.prediction_request()
    result_b = b.colorizer.predict(b.image)
    assert session.accept_prediction(b.image_id, result_b)
    shown = session.output.copy()
    result_a = a.colorizer.predict(a.image)  # A's prediction finishes last
    assert not session.accept_prediction(a.image_id, result_a)
    np.testing.assert_array_equal(session.output, shown)
    assert session.result is result_b


def test_a_live_stream_makes_a_running_still_prediction_stale(colorizer):
    session = ColorizeSession()
    session.set_model(colorizer)
    session.set_image(_photo(3), None)
    request = session.prediction_request()
    session.begin_stream()
    assert session.image is None and session.prediction_request() is None
    assert not session.accept_prediction(request.image_id, colorizer.predict(request.image))


def test_knobs_redecode_the_cached_prediction(colorizer):
    session = ColorizeSession()
    session.set_model(colorizer)
    assert session.temperature == pytest.approx(colorizer.contract.temperature)
    session.set_image(_photo(4), None)
    r = session.prediction_request()
    session.accept_prediction(r.image_id, colorizer.predict(r.image))
    calm = session.output.copy()
    session.set_knobs(0.05, 2.0)
    assert not np.array_equal(calm, session.output)
    np.testing.assert_array_equal(session.output, session.result.recolor(0.05, 2.0))
    session.set_knobs(0.5, 1.0, recolor=False)  # on a live stream the frames decode themselves
    np.testing.assert_array_equal(session.output, session.result.recolor(0.05, 2.0))


def test_views_wipe_and_uncertainty(colorizer):
    session = ColorizeSession()
    session.set_model(colorizer)
    photo = _photo(5)
    session.set_image(photo, None)
    assert is_colour(photo) and session.truth is not None and session.shows_inputs
    r = session.prediction_request()
    session.accept_prediction(r.image_id, colorizer.predict(r.image))
    session.view, session.wipe_position = VIEWS[1], 0.25
    shown = session.displayed()
    np.testing.assert_array_equal(shown[:, :16], session.gray[:, :16])
    np.testing.assert_array_equal(shown[:, 16:], session.output[:, 16:])
    assert not session.shows_inputs
    session.view, session.show_uncertainty = VIEWS[2], True
    u = session.displayed()
    assert u.shape == photo.shape and np.array_equal(u[..., 0], u[..., 2])
    assert not np.array_equal(u, session.output)


def test_nothing_to_run_without_a_model_or_an_image(colorizer):
    session = ColorizeSession()
    assert session.prediction_request() is None and session.displayed() is None
    session.set_image(np.full((8, 8), 128, np.uint8), None)
    assert session.prediction_request() is None  # no model yet
    assert session.truth is None  # a gray photo has no colours to compare with
    session.set_model(colorizer)
    assert session.prediction_request().image.shape == (8, 8)
