"""The Colorize panel with small ONNX models: open, temperature, views, stream, batch, save."""

from __future__ import annotations

import numpy as np
import pytest
from onnx_models import ab_model, realistic_model
from skimage import data
from video_util import write_test_video

from workbench.imaging.io import read_image, write_image
from workbench.imaging.video import VideoFileSource
from workbench.ui.main_window import MainWindow


@pytest.fixture(scope="module")
def bins_onnx(tmp_path_factory):
    return realistic_model(tmp_path_factory.mktemp("m") / "bins.onnx", size=64, width=8)


@pytest.fixture
def window(qtbot, app_settings):
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1200, 800)
    win.select_panel("colorize")
    win.show()
    return win


@pytest.fixture
def panel(qtbot, window, bins_onnx):
    p = window.activate_current()
    qtbot.waitUntil(lambda: not p.model_request.busy, timeout=20000)  # the shipped-model attempt
    job = p.load_model(str(bins_onnx))
    with qtbot.waitSignal(job.ended, timeout=20000):
        pass
    assert p.colorizer is not None
    qtbot.waitUntil(lambda: p.output is not None, timeout=20000)
    return p


def test_opens_on_a_colour_photo_with_gray_input_and_ground_truth(panel):
    assert panel.truth is not None  # chelsea is a colour photo: its real colours are shown
    gray = panel.gray.astype(int)
    assert np.abs(gray[..., 0] - gray[..., 1]).max() <= 1  # the input view is gray
    assert panel.output.shape == panel.image.shape[:2] + (3,)


def test_temperature_redecodes_without_running_the_network(qtbot, panel, monkeypatch):
    calls = []
    session = panel.colorizer.session
    original = session.run

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(session, "run", counting)
    before = panel.output.copy()
    panel.temperature.setValue(5)  # T = 0.05: close to the mode, more vivid
    after = panel.output
    assert calls == []
    assert not np.array_equal(before, after)
    assert panel.t_spin.value() == pytest.approx(0.05)


def test_split_view_wipes_between_gray_and_colour(qtbot, panel):
    panel.view_combo.setCurrentText("Split (wipe)")
    shown = panel.output_view.image
    w = shown.shape[1]
    assert panel.divider.isVisible()
    np.testing.assert_array_equal(shown[:, : w // 4], panel.gray[:, : w // 4])
    np.testing.assert_array_equal(shown[:, -w // 4:], panel.output[:, -w // 4:])
    panel.divider.setValue(w * 0.9)
    assert np.array_equal(panel.output_view.image[:, : int(w * 0.8)],
                          panel.gray[:, : int(w * 0.8)])
    panel.view_combo.setCurrentText("Side by side")
    assert not panel.divider.isVisible()


def test_uncertainty_view(qtbot, panel):
    panel.uncertainty.setChecked(True)
    shown = panel.output_view.image
    assert shown.shape[:2] == panel.image.shape[:2]
    assert np.array_equal(shown[..., 0], shown[..., 1])  # a gray entropy map


def test_stream_from_a_video_file_then_stop(qtbot, panel, tmp_path):
    clip = write_test_video(tmp_path / "clip.avi", frames=15, size=(96, 64), fps=30)
    assert panel.start_stream(str(clip), loop=True)
    qtbot.waitUntil(lambda: panel.runner is not None and panel.runner.stats.processed >= 3,
                    timeout=20000)
    assert "fps" in panel.status.text()
    assert panel.output.shape == (64, 96, 3)
    assert panel.stop_button.isVisible()
    recorded = tmp_path / "rec.avi"
    assert panel.record_to(recorded)
    qtbot.waitUntil(lambda: panel.recorder is not None and panel.recorder.frames >= 3,
                    timeout=20000)
    panel.stop_stream()
    assert panel.runner is None and not panel.stop_button.isVisible()
    with VideoFileSource(recorded) as src:
        assert len(list(src)) >= 3


def test_missing_camera_is_a_clear_message(qtbot, window, panel):
    assert not panel.start_stream(95)
    assert "No camera at index 95" in window.message_label.text()


def test_batch_folder_with_progress(qtbot, window, panel, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    for i in range(3):
        write_image(src / f"p{i}.png", data.camera()[::8, ::8])
    (src / "notes.txt").write_text("not an image")
    job = panel.run_batch(src, tmp_path / "out")
    with qtbot.waitSignal(job.ended, timeout=30000):
        pass
    written = sorted(p.name for p in (tmp_path / "out").glob("*.png"))
    assert written == ["p0.png", "p1.png", "p2.png"]
    assert "Colorized 3 of 3" in window.message_label.text()


def test_save_current_result(qtbot, panel, tmp_path):
    out = tmp_path / "frame.png"
    assert panel.save_to(out)
    np.testing.assert_array_equal(read_image(out), panel.output)


def test_a_model_that_does_not_fit_keeps_the_current_one(qtbot, window, panel, tmp_path):
    from onnx_models import rgb_input_model

    good = panel.colorizer
    job = panel.load_model(str(rgb_input_model(tmp_path / "bad.onnx")))
    with qtbot.waitSignal(job.ended, timeout=20000):
        pass
    assert panel.colorizer is good
    assert "channel" in window.message_label.text().lower()


def test_ab_model_disables_temperature(qtbot, panel, tmp_path):
    job = panel.load_model(str(ab_model(tmp_path / "ab.onnx", height=None, width=None)))
    with qtbot.waitSignal(job.ended, timeout=20000):
        pass
    assert not panel.temperature.isEnabled()
    assert panel.model_combo.currentText() == "ab.onnx"  # remembered among recent models


def test_status_line_keeps_gpu_advice_to_the_tooltip(panel):
    from workbench.colorize.session import provider_summary
    from workbench.runtime import GPU_HELP

    note = f"CPU (no GPU provider works here: no NVIDIA GPU or driver was found). {GPU_HELP}"
    short = provider_summary(note)
    assert GPU_HELP not in short and short.startswith("CPU (no GPU provider works here")
    assert "Help ▸ About" in short
    assert provider_summary("CUDA (NVIDIA H100)") == "CUDA (NVIDIA H100)"
    # the panel shows the short form and keeps the whole note one hover away
    assert panel.status.toolTip() == panel.colorizer.provider_note
    assert provider_summary(panel.colorizer.provider_note) in panel.status.text()


def test_a_slow_prediction_of_the_previous_photo_is_not_shown_over_the_next(
        qtbot, panel, monkeypatch):
    """Open A, then B of the same size; A's prediction finishes last and must be dropped."""
    import threading

    a, b = data.astronaut()[::8, ::8], data.coffee()[:64, :64]
    a = a[:64, :64]
    release_a = threading.Event()
    real_predict = panel.colorizer.predict

    def predict(image):
        if np.array_equal(image, a):
            release_a.wait(10)  # A's network run is slow
        return real_predict(image)

    monkeypatch.setattr(panel.colorizer, "predict", predict)
    panel.set_image(a, None)
    first_job = panel.predict_request.job
    panel.set_image(b, None)
    qtbot.waitUntil(lambda: panel.output is not None, timeout=20000)
    expected = real_predict(b).recolor(panel.temperature_value(), panel.saturation_value())
    np.testing.assert_array_equal(panel.output, expected)
    release_a.set()
    # A's job ends (or was skipped before it ran: a superseded queued job never runs)
    qtbot.waitUntil(lambda: first_job.done, timeout=20000)
    qtbot.wait(50)
    np.testing.assert_array_equal(panel.output, expected)
    np.testing.assert_array_equal(panel.output_view.image, expected)


def test_the_save_button_saves_the_result(qtbot, window, panel, tmp_path):
    from gui_util import answer_file_dialog
    from PySide6 import QtCore

    out = tmp_path / "clicked.png"
    seen = answer_file_dialog(out.name, folder=tmp_path)  # the real dialog, answered
    qtbot.mouseClick(panel.save_button, QtCore.Qt.MouseButton.LeftButton)
    assert seen.get("answered")
    np.testing.assert_array_equal(read_image(out), panel.output)
    assert "Saved" in window.message_label.text()


# ------------------------------------------------------------------- issue 19: papercuts
from PySide6 import QtCore, QtGui, QtWidgets  # noqa: E402

LEFT = QtCore.Qt.MouseButton.LeftButton


def test_a_video_file_has_a_transport_and_plays_once(qtbot, window, panel, tmp_path):
    clip = write_test_video(tmp_path / "clip.avi", frames=40, size=(96, 64), fps=30)
    assert panel.play_video(clip)
    qtbot.waitUntil(lambda: panel.runner is not None and panel.runner.stats.processed >= 2,
                    timeout=20000)
    assert panel.transport.isVisible() and not panel.loop.isChecked()  # off for files
    assert panel.seek.maximum() == 39
    qtbot.mouseClick(panel.play_button, LEFT)  # pause
    assert panel.runner.paused and panel.play_button.text() == "Play"
    assert "fps" not in panel.status.text()
    # a paused video can still be looked through: End goes to the last frame, shown
    panel.seek.setFocus()
    qtbot.keyClick(panel.seek, QtCore.Qt.Key.Key_End)
    qtbot.waitUntil(lambda: panel.position_label.text().startswith("frame 40 of 40"),
                    timeout=20000)
    qtbot.keyClick(panel.seek, QtCore.Qt.Key.Key_Home)
    qtbot.waitUntil(lambda: panel.position_label.text().startswith("frame 1 of 40"),
                    timeout=20000)
    qtbot.mouseClick(panel.play_button, LEFT)  # play: to the end, once
    qtbot.waitUntil(lambda: panel.runner is None, timeout=30000)
    assert "End of clip.avi" in panel.status.text() and "fps" not in panel.status.text()
    assert panel.play_button.text() == "Play" and panel.transport.isVisible()
    qtbot.mouseClick(panel.play_button, LEFT)  # again, from the start
    qtbot.waitUntil(lambda: panel.runner is not None and panel.runner.stats.processed >= 1,
                    timeout=20000)
    qtbot.mouseClick(panel.loop, LEFT)  # loop, now, for the running video
    assert panel.runner._source.loop
    panel.stop_stream()


def test_leaving_the_tab_pauses_the_stream_and_coming_back_resumes(qtbot, window, panel,
                                                                  tmp_path):
    clip = write_test_video(tmp_path / "clip.avi", frames=300, size=(96, 64), fps=30)
    assert panel.start_stream(str(clip))
    qtbot.waitUntil(lambda: panel.runner is not None and panel.runner.stats.processed >= 2,
                    timeout=20000)
    window.select_panel("rectify")
    window.activate_current()
    assert panel.runner.paused
    assert "Paused while the panel is hidden" in panel.status.text()
    window.select_panel("colorize")
    assert not panel.runner.paused
    done = panel.runner.stats.processed
    qtbot.waitUntil(lambda: panel.runner.stats.processed > done, timeout=20000)
    panel.stop_stream()


def test_the_fps_readout_clears_on_stop_and_after_an_error(qtbot, window, panel, tmp_path,
                                                          monkeypatch):
    clip = write_test_video(tmp_path / "clip.avi", frames=300, size=(96, 64), fps=30)
    assert panel.start_stream(str(clip))
    qtbot.waitUntil(lambda: "fps" in panel.status.text(), timeout=20000)
    qtbot.mouseClick(panel.stop_button, LEFT)
    assert "fps" not in panel.status.text()
    real_predict = panel.colorizer.predict
    calls = []

    def failing(frame):
        calls.append(1)
        if len(calls) > 3:
            raise RuntimeError("the GPU fell off the bus")
        return real_predict(frame)

    monkeypatch.setattr(panel.colorizer, "predict", failing)
    assert panel.start_stream(str(clip))
    qtbot.waitUntil(lambda: panel.runner is None, timeout=20000)
    assert "fps" not in panel.status.text()
    assert "GPU fell off" in window.message_label.text()


def test_uncertainty_has_its_header_and_a_colour_bar_in_bits(qtbot, panel):
    assert not panel.colour_bar.isVisible()
    qtbot.mouseClick(panel.uncertainty, LEFT, pos=QtCore.QPoint(8, panel.uncertainty.height()
                                                                   // 2))
    assert panel.uncertainty.isChecked()
    assert "Uncertainty" in panel.output_title.text() and "bits" in panel.output_title.text()
    assert panel.colour_bar.isVisible()
    q = panel.colorizer.contract.num_bins
    assert panel.colour_bar.bins == q
    labels = panel.colour_bar.tick_labels()
    assert labels[0] == "0" and float(labels[-1]) == pytest.approx(np.log2(q), abs=0.05)
    qtbot.mouseClick(panel.uncertainty, LEFT, pos=QtCore.QPoint(8, panel.uncertainty.height()
                                                                   // 2))
    assert "Colorized" in panel.output_title.text() and not panel.colour_bar.isVisible()


def _wheel(view, steps: int) -> None:
    pos = QtCore.QPointF(view.viewport().rect().center()) + QtCore.QPointF(30, 10)
    event = QtGui.QWheelEvent(pos, QtCore.QPointF(view.viewport().mapToGlobal(pos.toPoint())),
                              QtCore.QPoint(0, 0), QtCore.QPoint(0, 120 * steps),
                              QtCore.Qt.MouseButton.NoButton,
                              QtCore.Qt.KeyboardModifier.NoModifier,
                              QtCore.Qt.ScrollPhase.NoScrollPhase, False)
    QtWidgets.QApplication.sendEvent(view.viewport(), event)


def _lined_up(panel) -> bool:
    out = panel.output_view
    centre, scale = out.view_box.viewRect().center(), out.pixel_scale()
    for view in (panel.input_view, panel.truth_view):
        c = view.view_box.viewRect().center()
        if abs(view.pixel_scale() / scale - 1) > 0.01 or \
                abs(c.x() - centre.x()) > 1 or abs(c.y() - centre.y()) > 1:
            return False
    return True


def test_side_by_side_panes_zoom_and_pan_together(qtbot, panel):
    assert panel.truth_view.isVisible() and panel.input_view.isVisible()
    _wheel(panel.output_view, 2)  # zoom in on the result
    qtbot.waitUntil(lambda: _lined_up(panel))
    assert panel.input_view.pixel_scale() > 1.3 * panel.input_view.view_box.width() / \
        panel.image.shape[1]  # the input zoomed in too
    _wheel(panel.truth_view, -1)  # zoom the ground truth: the others follow
    qtbot.waitUntil(lambda: _lined_up(panel))
    # the wipe view zooms the result alone; back side by side, the panes line up with it
    panel.view_combo.setCurrentText("Split (wipe)")
    _wheel(panel.output_view, 3)
    panel.view_combo.setCurrentText("Side by side")
    qtbot.waitUntil(lambda: _lined_up(panel))


def test_temperature_and_saturation_have_room_and_spin_boxes(qtbot, panel):
    assert panel.temperature.width() >= 200 and panel.saturation.width() >= 160
    panel.temperature.setValue(38)
    panel.temperature.setFocus()
    qtbot.keyClick(panel.temperature, QtCore.Qt.Key.Key_Right)  # one step: 0.01
    assert panel.t_spin.value() == pytest.approx(0.39)
    assert panel.session.temperature == pytest.approx(0.39)
    panel.s_spin.setFocus()
    panel.s_spin.selectAll()
    qtbot.keyClicks(panel.s_spin, "1.25")
    qtbot.keyClick(panel.s_spin, QtCore.Qt.Key.Key_Return)
    assert panel.saturation.value() == 125 and panel.session.saturation == pytest.approx(1.25)


def test_save_without_an_extension_saves_a_png(qtbot, window, panel, tmp_path):
    from gui_util import answer_file_dialog

    seen = answer_file_dialog("cat", folder=tmp_path)
    qtbot.mouseClick(panel.save_button, LEFT)
    assert seen.get("answered")
    np.testing.assert_array_equal(read_image(tmp_path / "cat.png"), panel.output)


def test_a_recorded_stream_goes_on_while_hidden_and_its_tab_says_so(qtbot, window, panel,
                                                                  tmp_path):
    clip = write_test_video(tmp_path / "clip.avi", frames=300, size=(96, 64), fps=30)
    assert panel.start_stream(str(clip))
    qtbot.waitUntil(lambda: panel.runner is not None and panel.runner.stats.processed >= 1,
                    timeout=20000)
    assert panel.record_to(tmp_path / "rec.avi")
    window.select_panel("pyramid")
    window.activate_current()
    assert not panel.runner.paused  # the recording continues
    assert window.tabs.tabText(1) == "Colorize ●"
    assert "recording to rec.avi" in window.tabs.tabToolTip(1)
    window.select_panel("colorize")
    assert window.tabs.tabText(1) == "Colorize"
    panel.stop_stream()
