"""Colour hints in the Colorize panel: placed, recoloured, dragged, deleted with real clicks and
keys; undo/redo; JSON beside the photo; a model without hint inputs says so."""

from __future__ import annotations

import json

import numpy as np
import pytest
from gui_util import answer_file_dialog, click, drag, hover, open_window, settle_layout
from onnx_models import ab_model, hint_model
from PySide6 import QtCore, QtWidgets

from workbench.colorize.hints import Hint
from workbench.imaging.io import write_image

RED = (220, 30, 30)


@pytest.fixture
def photo(tmp_path):
    # a gray photo with smooth structure, 256 x 192
    y, x = np.mgrid[0:192, 0:256]
    gray = (100 + 60 * np.sin(x / 23.0) * np.cos(y / 31.0)).astype(np.uint8)
    path = tmp_path / "street.png"
    write_image(path, gray)
    return path


@pytest.fixture
def panel(qtbot, app_settings, tmp_path, photo):
    win = open_window(qtbot, "colorize")
    p = win.activate_current()
    qtbot.waitUntil(lambda: not p.model_request.busy, timeout=20000)
    # a hint model: near-neutral colours, the hint's own colour where a hint is
    job = p.load_model(str(hint_model(tmp_path / "hints.onnx", a=(0.0, 2.0), b=(0.0, 2.0))))
    with qtbot.waitSignal(job.ended, timeout=20000):
        pass
    assert p.open_file(photo)
    qtbot.waitUntil(lambda: p.output is not None, timeout=20000)
    p.view_combo.setCurrentText("Result only")
    settle_layout()
    p.output_view.fit()
    yield p
    p.shutdown()


def _redness(panel, x: float, y: float) -> float:
    """Red minus blue around image pixel (x, y) of the result shown."""
    out = panel.output.astype(float)
    patch = out[int(y) - 2:int(y) + 3, int(x) - 2:int(x) + 3]
    return float(patch[..., 0].mean() - patch[..., 2].mean())


def _settled(qtbot, panel) -> None:
    qtbot.waitUntil(lambda: not panel.predict_request.busy and panel.result is not None and
                    panel.result.hints == panel.session.hints, timeout=20000)


def _recolour_from_reference(qtbot, panel, tmp_path, rgb) -> None:
    """"From photo…", the real file dialog answered, then a click in the reference photo."""
    ref = tmp_path / "reference.png"
    write_image(ref, np.full((60, 80, 3), rgb, np.uint8))

    def click_picker() -> None:
        picker = getattr(panel, "_picker", None)
        if picker is None or not picker.isVisible():
            QtCore.QTimer.singleShot(20, click_picker)
            return
        settle_layout()
        picker.view.fit()
        click(picker.view, 40, 30)

    seen = answer_file_dialog(ref.name, folder=tmp_path)
    QtCore.QTimer.singleShot(20, click_picker)
    qtbot.mouseClick(panel.reference_button, QtCore.Qt.MouseButton.LeftButton)
    assert seen.get("answered")


def test_place_recolour_drag_and_delete_a_hint_with_the_mouse(qtbot, panel, tmp_path):
    assert "click the result" in panel.hints_label.text()
    before = _redness(panel, 64, 96)
    click(panel.output_view, 64, 96)  # place a hint: it starts with the model's own colour
    assert len(panel.session.hints) == 1 and panel.selected_hint == 0
    h = panel.session.hints[0]
    assert abs(h.x - 64) < 2 and abs(h.y - 96) < 2
    assert panel.swatches[0].isVisible()  # the model's suggestion at that pixel
    _settled(qtbot, panel)
    _recolour_from_reference(qtbot, panel, tmp_path, RED)
    assert panel.session.hints[0].rgb == RED
    _settled(qtbot, panel)
    assert _redness(panel, 64, 96) > before + 40  # the colour at the hint follows
    assert _redness(panel, 200, 40) < 20  # and only there
    # drag the hint's marker to the right: the red goes with it
    settle_layout()
    hover(panel.output_view, h.x, h.y)
    drag(panel.output_view, (h.x, h.y), (192, 96))
    _settled(qtbot, panel)
    moved = panel.session.hints[0]
    assert abs(moved.x - 192) < 3 and abs(moved.y - 96) < 3 and moved.rgb == RED
    assert _redness(panel, 192, 96) > 40 and _redness(panel, 64, 96) < 20
    # Delete removes the selected hint (window shortcuts fire in the active window)
    window = panel.window()
    window.windowHandle().requestActivate()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    panel.output_view.setFocus()
    qtbot.keyClick(panel.output_view, QtCore.Qt.Key.Key_Delete)
    assert panel.session.hints == ()
    _settled(qtbot, panel)
    assert _redness(panel, 192, 96) < 20
    # undo brings it back where it was dragged to; redo removes it again
    qtbot.keyClick(panel.output_view, QtCore.Qt.Key.Key_Z,
                   QtCore.Qt.KeyboardModifier.ControlModifier)  # Ctrl+Z
    assert panel.session.hints == (moved,)
    _settled(qtbot, panel)
    assert _redness(panel, 192, 96) > 40
    qtbot.mouseClick(panel.undo_hint_button, QtCore.Qt.MouseButton.LeftButton)  # the drag
    assert abs(panel.session.hints[0].x - h.x) < 1e-6
    qtbot.mouseClick(panel.redo_hint_button, QtCore.Qt.MouseButton.LeftButton)
    assert panel.session.hints == (moved,)


def test_clicking_a_hint_selects_it_instead_of_placing_another(qtbot, panel):
    click(panel.output_view, 40, 40)
    click(panel.output_view, 200, 150)
    assert len(panel.session.hints) == 2 and panel.selected_hint == 1
    click(panel.output_view, 41, 40)
    assert len(panel.session.hints) == 2 and panel.selected_hint == 0
    assert "#1 selected" in panel.hints_label.text()


def test_temperature_redecodes_hinted_result_without_running_the_network(qtbot, panel,
                                                                        monkeypatch):
    click(panel.output_view, 64, 96)
    _settled(qtbot, panel)
    calls = []
    original = panel.colorizer.session.run
    monkeypatch.setattr(panel.colorizer.session, "run",
                        lambda *a, **k: calls.append(1) or original(*a, **k))
    panel.saturation.setValue(150)
    assert calls == []


def test_hints_are_saved_beside_the_photo_and_come_back_with_it(qtbot, panel, photo, tmp_path):
    panel.session.add_hint(10, 20, RED)
    panel.session.add_hint(100.5, 50, (0, 0, 255))
    panel._hints_changed()
    beside = photo.with_suffix(".hints.json")
    seen = answer_file_dialog(beside.name, folder=photo.parent)
    qtbot.mouseClick(panel.save_hints_button, QtCore.Qt.MouseButton.LeftButton)
    assert seen.get("answered") and seen["name"] == "street.hints.json"
    doc = json.loads(beside.read_text())
    assert doc == [{"x": 10, "y": 20, "rgb": list(RED)}, {"x": 100.5, "y": 50, "rgb": [0, 0, 255]}]
    panel.clear_hints()
    assert panel.session.hints == ()
    assert panel.open_file(photo)  # opened again: its hints come with it
    assert panel.session.hints == (Hint(10, 20, RED), Hint(100.5, 50, (0, 0, 255)))
    assert not panel.session.can_undo
    _settled(qtbot, panel)


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON"),
    ('[{"x": 9999, "y": 1, "rgb": [1, 2, 3]}]', "outside"),
    ('[{"x": 1, "y": 1, "rgb": [1, 2, 300]}]', "bad colour"),
])
def test_a_bad_hints_file_changes_nothing_and_says_why(qtbot, panel, tmp_path, content, message):
    panel.session.add_hint(10, 20, RED)
    panel._hints_changed()
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    assert not panel.load_hints_from(bad)
    assert panel.session.hints == (Hint(10, 20, RED),)
    assert message in panel.window().message_label.text()


def test_a_model_without_hint_inputs_says_so_and_places_nothing(qtbot, panel, tmp_path):
    job = panel.load_model(str(ab_model(tmp_path / "plain.onnx", height=None, width=None)))
    with qtbot.waitSignal(job.ended, timeout=20000):
        pass
    qtbot.waitUntil(lambda: panel.output is not None, timeout=20000)
    assert "takes no colour hints" in panel.hints_label.text()
    click(panel.output_view, 64, 96)
    assert panel.session.hints == ()
    assert "takes no colour hints" in panel.window().message_label.text()
    assert not panel.undo_hint_button.isEnabled()


def test_pinned_hints_colour_every_frame_of_a_stream(qtbot, panel, tmp_path):
    from video_util import write_test_video

    clip = write_test_video(tmp_path / "clip.avi", frames=300, size=(96, 64), fps=30)
    qtbot.mouseClick(panel.pin_hints, QtCore.Qt.MouseButton.LeftButton)
    assert panel.session.pin_hints
    assert panel.start_stream(str(clip), loop=True)
    qtbot.waitUntil(lambda: panel.runner.stats.processed >= 2, timeout=20000)
    # placed on the stream's frame, above the white disc's path (rows 22-42): on the disc a
    # red hint can show little red (an sRGB colour that light holds little chroma), and which
    # frame comes first with the hint depends on how busy the machine is
    panel.session.add_hint(48, 12, RED)
    panel._hints_changed()
    qtbot.waitUntil(lambda: panel.result is not None and panel.result.hints ==
                    panel.session.hints, timeout=20000)
    assert _redness(panel, 48, 12) > 40
    panel.pin_hints.setChecked(False)
    qtbot.waitUntil(lambda: panel.result is not None and panel.result.hints == (),
                    timeout=20000)
    panel.stop_stream()


def test_no_file_dialog_is_left_open(qtbot, panel):
    assert not any(isinstance(w, QtWidgets.QFileDialog) and w.isVisible()
                   for w in QtWidgets.QApplication.topLevelWidgets())
