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


# ------------------------------------------------------------------------ A/B (issue 16)
@pytest.fixture(scope="module")
def cold(tmp_path_factory):
    from onnx_models import ab_model

    return Colorizer(ab_model(tmp_path_factory.mktemp("b") / "cold.onnx", height=None,
                              width=None, a=(0.0, -30.0), b=(0.0, 0.0)), provider="cpu")


def _with_b(colorizer, cold, photo) -> ColorizeSession:
    session = ColorizeSession()
    session.set_model(colorizer)
    session.set_image(photo, None)
    r = session.prediction_request()
    session.accept_prediction(r.image_id, colorizer.predict(r.image))
    session.set_compare(cold)
    rb = session.compare_request()
    assert rb.colorizer is cold and rb.image_id == r.image_id
    assert session.accept_compare(rb.image_id, cold, cold.predict(rb.image))
    return session


def test_compare_wipes_a_against_b_and_gives_b_its_own_pane(colorizer, cold):
    session = _with_b(colorizer, cold, _photo(7))
    assert session.shows_b and not session.shows_inputs and session.shows_truth
    np.testing.assert_array_equal(session.displayed_b(), session.output_b)
    session.view, session.wipe_position = VIEWS[1], 0.25
    shown = session.displayed()
    np.testing.assert_array_equal(shown[:, :16], session.output[:, :16])  # A left
    np.testing.assert_array_equal(shown[:, 16:], session.output_b[:, 16:])  # B right
    assert session.wipes and not session.shows_b
    session.set_compare(None)
    assert session.displayed_b() is None
    np.testing.assert_array_equal(session.displayed()[:, :16], session.gray[:, :16])


def test_knobs_recolour_both_models(colorizer, cold):
    session = _with_b(colorizer, cold, _photo(8))
    session.set_knobs(0.38, 0.0)  # saturation 0: both gray
    for out in (session.output, session.output_b):
        assert np.abs(out[..., 0].astype(int) - out[..., 2]).max() <= 2


def test_a_b_prediction_from_a_replaced_b_or_an_old_photo_is_refused(colorizer, cold):
    session = _with_b(colorizer, cold, _photo(9))
    shown = session.output_b.copy()
    old = session.compare_request()
    session.set_compare(colorizer)  # B is another model now
    assert not session.accept_compare(old.image_id, cold, cold.predict(old.image))
    assert session.output_b is None
    session.set_compare(cold)
    session.set_image(_photo(10), None)  # a new photo of the same size
    assert not session.accept_compare(old.image_id, cold, cold.predict(old.image))
    assert session.output_b is None and not np.array_equal(shown, np.zeros_like(shown))
    assert not session.show_frame_b(colorizer, None, shown)  # a live frame of a replaced B


# ------------------------------------------------------------------ hints (issue 16)
@pytest.fixture(scope="module")
def hinted(tmp_path_factory):
    from onnx_models import hint_model

    return Colorizer(hint_model(tmp_path_factory.mktemp("h") / "hints.onnx"), provider="cpu")


def test_hint_edits_undo_and_redo_one_step_each(hinted):
    session = ColorizeSession()
    session.set_model(hinted)
    session.set_image(_photo(11), None)
    assert session.takes_hints and not session.can_undo
    i = session.add_hint(5, 6, (200, 0, 0))
    session.add_hint(500, -3, (0, 0, 200))  # kept inside the 64 x 48 image
    assert session.hints[1].x < 64 and session.hints[1].y == 0
    session.begin_edit()  # a drag: many moves, one undo step
    for x in range(6, 20):
        session.move_hint(i, x, 6, record=False)
    session.recolour_hint(i, (0, 200, 0))
    session.remove_hint(1)
    assert [h.rgb for h in session.hints] == [(0, 200, 0)] and session.hints[0].x == 19
    assert session.undo() and len(session.hints) == 2  # the removal
    assert session.undo() and session.hints[0].rgb == (200, 0, 0)  # the recolouring
    assert session.undo() and session.hints[0].x == 5  # the whole drag
    assert session.redo() and session.hints[0].x == 19
    session.set_image(_photo(12), None)  # a new photo: no hints, no history
    assert session.hints == () and not session.can_undo and not session.can_redo


def test_a_prediction_made_with_other_hints_is_refused(hinted):
    session = ColorizeSession()
    session.set_model(hinted)
    session.set_image(_photo(13), None)
    session.add_hint(10, 10, (200, 0, 0))
    old = session.prediction_request()
    assert old.hints == session.hints
    session.move_hint(0, 30, 10)  # the user moved it while the network ran
    assert not session.accept_prediction(old.image_id, old.run())
    new = session.prediction_request()
    assert session.accept_prediction(new.image_id, new.run())
    assert session.result.hints == session.hints


def test_hints_go_only_to_models_that_take_them_and_live_only_when_pinned(colorizer, hinted):
    session = ColorizeSession()
    session.set_model(colorizer)  # an L-only model
    session.set_image(_photo(14), None)
    session.set_compare(hinted)  # B takes hints
    session.add_hint(10, 10, (200, 0, 0))
    assert session.prediction_request().hints == ()
    assert session.compare_request().hints == session.hints
    assert session.live_hints(hinted, 64, 48) == ()  # not pinned
    session.pin_hints = True
    assert session.live_hints(hinted, 64, 48) == session.hints
    assert session.live_hints(hinted, 8, 8) == ()  # outside a smaller frame: left out
    assert session.live_hints(colorizer, 64, 48) == ()
    session.begin_stream()
    assert session.hints != ()  # pinned hints stay for the stream


def test_a_drag_that_changes_nothing_and_a_same_colour_leave_no_undo_step(hinted):
    session = ColorizeSession()
    session.set_model(hinted)
    session.set_image(_photo(15), None)
    session.add_hint(5, 6, (200, 0, 0))
    steps = len(session._history)
    session.begin_edit()
    session.move_hint(0, 9, 9, record=False)
    session.move_hint(0, 5, 6, record=False)  # back where it started
    session.end_edit()
    session.recolour_hint(0, (200, 0, 0))  # the colour it has
    assert len(session._history) == steps


def test_a_new_model_does_not_show_the_old_models_colours(colorizer, hinted):
    session = ColorizeSession()
    session.set_model(colorizer)
    session.set_image(_photo(16), None)
    r = session.prediction_request()
    session.accept_prediction(r.image_id, r.run())
    assert session.output is not None
    session.set_model(hinted)
    assert session.result is None and session.output is None
