"""The Colorize panel's A/B view: two models on the same photo and on the same live frames."""

from __future__ import annotations

import numpy as np
import pytest
from gui_util import answer_file_dialog, drag, hover, open_window, settle_layout
from onnx_models import ab_model
from PySide6 import QtCore
from video_util import write_test_video


def choose(qtbot, combo, data=None, *, text=None) -> None:
    """Pick the item with ``data`` (or ``text``) in a combo box with the arrow keys, as a user
    would."""
    combo.setFocus()
    target = combo.findData(data) if text is None else combo.findText(text)
    assert target >= 0, (data, text)
    key = QtCore.Qt.Key.Key_Down if target > combo.currentIndex() else QtCore.Qt.Key.Key_Up
    while combo.currentIndex() != target:
        qtbot.keyClick(combo, key)


@pytest.fixture
def models(tmp_path):
    # A paints warm (a = +30), B cold (a = -30): which model made a pixel is plain to see
    return (ab_model(tmp_path / "warm.onnx", height=None, width=None, a=(0.0, 30.0), b=(0, 0)),
            ab_model(tmp_path / "cold.onnx", height=None, width=None, a=(0.0, -30.0), b=(0, 0)))


@pytest.fixture
def panel(qtbot, app_settings, models):
    win = open_window(qtbot, "colorize")
    p = win.activate_current()
    qtbot.waitUntil(lambda: not p.model_request.busy, timeout=20000)
    job = p.load_model(str(models[0]))
    with qtbot.waitSignal(job.ended, timeout=20000):
        pass
    qtbot.waitUntil(lambda: p.output is not None, timeout=20000)
    yield p
    p.shutdown()


def _warmth(rgb: np.ndarray) -> float:
    """Mean red minus mean blue: > 0 for A's warm colours, < 0 for B's cold ones."""
    return float(rgb[..., 0].astype(float).mean() - rgb[..., 2].astype(float).mean())


def _load_b(qtbot, panel, path) -> None:
    job = panel.load_compare(str(path))
    with qtbot.waitSignal(job.ended, timeout=20000):
        pass
    qtbot.waitUntil(lambda: panel.session.output_b is not None, timeout=20000)


def test_compare_with_an_opened_model_gives_b_a_labelled_pane(qtbot, panel, models):
    assert not panel._compare_box.isVisible()
    seen = answer_file_dialog(models[1].name, folder=models[1].parent)
    # "Open model…" chosen in the list (the popup's click, as activated), the real dialog answered
    index = panel.compare_combo.findData("open")
    panel.compare_combo.setCurrentIndex(index)
    panel.compare_combo.activated.emit(index)
    assert seen.get("answered")
    qtbot.waitUntil(lambda: panel.session.compare is not None and
                    panel.session.compare.model_path.name == "cold.onnx", timeout=20000)
    qtbot.waitUntil(lambda: panel.session.output_b is not None, timeout=20000)
    qtbot.waitUntil(lambda: panel.compare_view.image is not None, timeout=5000)
    assert panel._compare_box.isVisible() and not panel._input_box.isVisible()
    assert _warmth(panel.output_view.image) > 10 and _warmth(panel.compare_view.image) < -10
    a, b = panel.output_title.text(), panel.compare_title.text()
    assert "warm.onnx" in a and "CPU" in a and "ms" in a
    assert "cold.onnx" in b and "CPU" in b and "ms" in b
    assert panel.compare_combo.currentText() == "cold.onnx"
    choose(qtbot, panel.compare_combo, "off")  # back to A alone
    assert panel.session.compare is None
    assert not panel._compare_box.isVisible() and panel._input_box.isVisible()
    assert "cold.onnx" not in panel.output_title.text()


def test_split_view_puts_a_left_and_b_right_of_the_dragged_divider(qtbot, panel, models):
    _load_b(qtbot, panel, models[1])
    choose(qtbot, panel.view_combo, text="Split (wipe)")
    shown = panel.output_view.image
    w = shown.shape[1]
    assert panel.divider.isVisible()
    assert _warmth(shown[:, : w // 3]) > 10 and _warmth(shown[:, -w // 3:]) < -10
    assert "◀" in panel.output_title.text() and "cold.onnx" in panel.output_title.text()
    # drag the divider with the mouse to a fifth of the width: B fills the rest
    h = shown.shape[0]
    settle_layout()
    qtbot.wait(50)
    hover(panel.output_view, w / 2, h / 2)  # over the divider first, as a hand would be
    drag(panel.output_view, (w / 2, h / 2), (w / 5, h / 2))
    qtbot.waitUntil(lambda: panel.session.wipe_position < 0.3, timeout=5000)
    shown = panel.output_view.image
    assert _warmth(shown[:, int(w * 0.3):]) < -10
    assert _warmth(shown[:, : int(w * 0.1)]) > 10


def test_a_stale_b_prediction_is_never_shown(qtbot, panel, models, tmp_path):
    """B replaced while its prediction of the photo is still running: the old B's colours
    must not appear under the new B's label."""
    _load_b(qtbot, panel, models[1])
    old_b = panel.session.compare
    neutral = ab_model(tmp_path / "neutral.onnx", height=None, width=None, a=(0, 0), b=(0, 0))
    _load_b(qtbot, panel, neutral)
    late = old_b.predict(panel.image)  # the old B's prediction arrives after the switch
    from workbench.colorize.session import PredictionRequest

    panel._on_compare_predicted(PredictionRequest(panel.session.image_id, old_b, panel.image),
                                late)
    assert abs(_warmth(panel.compare_view.image)) < 3  # still the neutral model's result
    assert "neutral.onnx" in panel.compare_title.text()


def test_a_video_runs_through_both_models_with_their_own_fps(qtbot, panel, models, tmp_path):
    _load_b(qtbot, panel, models[1])
    clip = write_test_video(tmp_path / "clip.avi", frames=300, size=(96, 64), fps=30)
    assert panel.start_stream(str(clip), loop=True)
    runner = panel.runner
    qtbot.waitUntil(lambda: runner.channel_stats[0].processed >= 3 and
                    runner.channel_stats[1].processed >= 3, timeout=30000)
    qtbot.waitUntil(lambda: "fps" in panel.compare_title.text() and
                    "fps" in panel.output_title.text(), timeout=10000)
    assert panel.output.shape == panel.session.output_b.shape == (64, 96, 3)
    assert _warmth(panel.output) > 10 and _warmth(panel.session.output_b) < -10
    assert "B:" in panel.status.text()
    # the presentation (F11) keeps both labels
    panel.toggle_fullscreen()
    qtbot.waitUntil(lambda: panel._fullscreen is not None, timeout=5000)
    header = panel._fullscreen.header
    assert header.isVisible() and "warm.onnx" in header.text() and "cold.onnx" in header.text()
    image = panel._fullscreen.view.image
    assert image.shape[1] > 2 * 96  # A and B side by side
    assert _warmth(image[:, :96]) > 10 and _warmth(image[:, -96:]) < -10
    panel.toggle_fullscreen()
    qtbot.waitUntil(lambda: panel._fullscreen is None, timeout=5000)
    # B can be dropped while the stream runs: A goes on alone
    choose(qtbot, panel.compare_combo, "off")
    done = runner.channel_stats[0].processed
    qtbot.waitUntil(lambda: runner.channel_stats[0].processed > done + 2, timeout=20000)
    assert not panel._compare_box.isVisible()
    panel.stop_stream()


def test_b_that_cannot_load_keeps_a_alone_with_a_message(qtbot, panel, tmp_path):
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"not a model")
    job = panel.load_compare(str(bad))
    with qtbot.waitSignal(job.ended, timeout=20000):
        pass
    assert panel.session.compare is None
    assert panel.compare_combo.currentData() == "off"
    assert "broken.onnx" in panel.window().message_label.text()


def test_b_failing_on_a_stream_is_dropped_and_a_goes_on(qtbot, panel, models, tmp_path,
                                                         monkeypatch):
    _load_b(qtbot, panel, models[1])
    b = panel.session.compare

    def broken(*args, **kwargs):
        raise RuntimeError("B's session broke")

    monkeypatch.setattr(b, "predict", broken)
    clip = write_test_video(tmp_path / "clip.avi", frames=300, size=(96, 64), fps=30)
    assert panel.start_stream(str(clip), loop=True)
    qtbot.waitUntil(lambda: panel.session.compare is None, timeout=20000)
    assert "cold.onnx" in panel.window().message_label.text()
    runner = panel.runner
    done = runner.channel_stats[0].processed
    qtbot.waitUntil(lambda: runner.channel_stats[0].processed > done + 2, timeout=20000)
    assert panel.runner is runner and runner.running
    panel.stop_stream()


def test_hints_for_b_alone_are_placed_and_drawn_on_bs_pane(qtbot, panel, models, tmp_path):
    from gui_util import click
    from onnx_models import hint_model

    # A takes no hints, B does: side by side, B's pane takes the clicks and shows the markers
    _load_b(qtbot, panel, hint_model(tmp_path / "hints.onnx", height=None, width=None,
                                     a=(0.0, 2.0), b=(0.0, 2.0)))
    qtbot.waitUntil(lambda: panel.compare_view.image is not None, timeout=5000)
    assert panel._compare_box.isVisible()
    settle_layout()
    panel.compare_view.fit()
    h, w = panel.compare_view.image.shape[:2]
    click(panel.compare_view, w / 3, h / 2)
    assert len(panel.session.hints) == 1
    x, y = panel.session.hints[0].x, panel.session.hints[0].y
    assert abs(x - w / 3) < 3 and abs(y - h / 2) < 3
    assert len(panel.hint_overlay_b.points()) == 1 and panel.hint_overlay.points() == []
    qtbot.waitUntil(lambda: panel.session.result_b is not None and
                    panel.session.result_b.hints == panel.session.hints, timeout=20000)
    # a click on A's pane places nothing there (A ignores hints) and says where they go
    click(panel.output_view, 2 * w / 3, h / 2)
    assert len(panel.session.hints) == 1
    assert "click B's pane" in panel.window().message_label.text()
    # in the wipe B's half is in the result pane: the marker goes there
    choose(qtbot, panel.view_combo, text="Split (wipe)")
    assert panel.hint_overlay_b.points() == [] and len(panel.hint_overlay.points()) == 1
    choose(qtbot, panel.view_combo, text="Side by side")
    assert len(panel.hint_overlay_b.points()) == 1 and panel.hint_overlay.points() == []
    # B swapped for a model without hint inputs: no marker is left on its pane
    _load_b(qtbot, panel, models[1])
    assert panel.hint_overlay_b.points() == [] and panel.hint_overlay.points() == []
    assert "takes no colour hints" in panel.hints_label.text()


def test_the_shipped_hint_model_can_be_b_and_the_list_says_so(qtbot, panel):
    from workbench.colorize.engine import shipped_hint_model_path
    from workbench.colorize.session import takes_hints

    if not shipped_hint_model_path().is_file():
        pytest.skip("the shipped hint model is not in this checkout")
    # picked in the B list with the keyboard: it loads as B, and the list keeps showing it
    # (it fell back to "Nothing (A only)": the hint model was in A's list only)
    choose(qtbot, panel.compare_combo, "shipped-hints")
    qtbot.waitUntil(lambda: panel.session.compare is not None, timeout=30000)
    qtbot.waitUntil(lambda: panel.session.output_b is not None, timeout=30000)
    assert takes_hints(panel.session.compare)
    assert panel.compare_combo.currentData() == "shipped-hints"
    assert panel.hints_on_b()  # A (warm.onnx) takes none: B's pane takes the hints
