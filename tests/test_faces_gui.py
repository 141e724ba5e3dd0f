"""The Faces panel: enrol from a generated video, recognise, rename, delete, thresholds."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data

from workbench.imaging.io import write_image
from workbench.imaging.video import VideoRecorder
from workbench.ui.main_window import MainWindow


@pytest.fixture
def astronaut_video(tmp_path):
    """The astronaut moving a little: a stand-in camera with one person in front of it."""
    import cv2

    image = data.astronaut()
    path = tmp_path / "person.avi"
    with VideoRecorder(path, fps=20) as rec:
        for i in range(24):
            dx, dy = 3 * np.sin(i / 3), 2 * np.cos(i / 4)
            M = np.float32([[1, 0, dx], [0, 1, dy]])
            rec.write(cv2.warpAffine(image, M, (512, 512), borderMode=cv2.BORDER_REFLECT))
    return path


@pytest.fixture
def synthetic_person(tmp_path):
    """Aligned-size crops of a second, synthetic 'person' (for an ROC you need two)."""
    rng = np.random.default_rng(3)
    base = cv2_blur(rng.uniform(40, 220, (112, 92)))
    paths = []
    for i in range(4):
        p = tmp_path / f"other{i}.png"
        write_image(p, np.clip(base + rng.normal(0, 6, base.shape), 0, 255).astype(np.uint8))
        paths.append(p)
    return paths


def cv2_blur(a):
    import cv2

    return cv2.GaussianBlur(a.astype(np.float32), (0, 0), 2)


@pytest.fixture
def panel(qtbot, app_settings, tmp_path):
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1200, 800)
    win.select_panel("faces")
    win.show()
    p = win.activate_current()
    assert p.open_gallery(tmp_path / "test.gallery")
    qtbot.waitUntil(lambda: p._train_job is None, timeout=20000)
    p._countdown_timer.setInterval(20)  # the 3-2-1 countdown, quicker for the test
    return p


def wait_idle(qtbot, panel, timeout=60000):
    qtbot.waitUntil(lambda: panel._enrol_job is None and panel._train_job is None,
                    timeout=timeout)


def _click(qtbot, button):
    from PySide6 import QtCore

    assert button.isVisible() and button.isEnabled(), button.text()
    qtbot.mouseClick(button, QtCore.Qt.MouseButton.LeftButton)


def _select(qtbot, panel, name):
    from PySide6 import QtCore

    for i in range(panel.people.count()):
        item = panel.people.item(i)
        if item.data(QtCore.Qt.ItemDataRole.UserRole) == name:
            rect = panel.people.visualItemRect(item)
            qtbot.mouseClick(panel.people.viewport(), QtCore.Qt.MouseButton.LeftButton,
                             pos=rect.center())
            assert panel.selected_person() == name
            return
    raise AssertionError(f"{name} is not in the list")


def _answer_dialog_with(text: str, seen: dict | None = None) -> None:
    """Type ``text`` into the next modal input dialog and press OK (as a user would)."""
    from PySide6 import QtCore, QtWidgets

    def answer():
        dialog = QtWidgets.QApplication.activeModalWidget()
        if dialog is None:  # not open yet
            QtCore.QTimer.singleShot(20, answer)
            return
        if seen is not None:
            seen["title"], seen["width"] = dialog.windowTitle(), dialog.width()
        dialog.setTextValue(text)
        dialog.accept()

    QtCore.QTimer.singleShot(20, answer)


def test_enrol_from_video_recognise_rename_delete_and_thresholds(
        qtbot, panel, astronaut_video, synthetic_person, monkeypatch):
    from PySide6 import QtWidgets

    # the first run shows a photo with its face found but nobody enrolled
    assert panel.recognizer is None
    # enrol a synthetic second person from files (aligned crops)
    panel.name_edit.setText("Other")
    job = panel.add_photos(synthetic_person, aligned=True)
    assert job is not None
    wait_idle(qtbot, panel)
    # enrol the astronaut by capturing from the running "camera"
    assert panel.start_stream(str(astronaut_video))
    panel.name_edit.setText("Eileen")
    panel.shots.setValue(3)
    _click(qtbot, panel.capture_button)
    assert panel.session.capture is not None  # the countdown runs
    qtbot.waitUntil(lambda: panel.session.capture is None and panel._enrol_job is None,
                    timeout=60000)
    wait_idle(qtbot, panel)
    names = [panel.people.item(i).data(0x0100) for i in range(panel.people.count())]
    assert sorted(names) == ["Eileen", "Other"]
    assert panel.recognizer is not None
    # recognised live, with a name and a distance
    qtbot.waitUntil(lambda: any(getattr(r, "name", None) == "Eileen"
                                for r in panel.recognitions), timeout=30000)
    assert panel.eigen_view.image is not None  # the insight view shows the eigenfaces
    # the identity threshold slider: at its lowest everybody is a stranger
    panel.identity_slider.setValue(1)
    assert panel.recognizer.identity_threshold < 1
    qtbot.waitUntil(lambda: panel.recognitions and all(
        getattr(r, "status", None) != "known" for r in panel.recognitions), timeout=30000)
    panel.stop_stream()
    # rename and delete
    _select(qtbot, panel, "Eileen")
    _answer_dialog_with("Eileen Collins")
    _click(qtbot, panel.rename_button)
    wait_idle(qtbot, panel)
    _select(qtbot, panel, "Other")
    asked = []
    monkeypatch.setattr(QtWidgets.QMessageBox, "question", lambda *a, **k: (
        asked.append(a[2]), QtWidgets.QMessageBox.StandardButton.Yes)[1])
    _click(qtbot, panel.delete_button)
    assert asked and "Other" in asked[0]
    wait_idle(qtbot, panel)
    names = [panel.people.item(i).data(0x0100) for i in range(panel.people.count())]
    assert names == ["Eileen Collins"]
    assert [p.name for p in panel.gallery.people()] == ["Eileen Collins"]


def test_capture_needs_a_name_and_a_stream(qtbot, panel):
    win = panel.window()
    panel.name_edit.setText("")
    _click(qtbot, panel.capture_button)
    assert "name" in win.message_label.text()
    panel.name_edit.setText("Someone")
    _click(qtbot, panel.capture_button)
    assert "camera" in win.message_label.text().lower()
    assert panel.session.capture is None


def test_a_damaged_gallery_file_is_a_clear_message(qtbot, panel, tmp_path):
    bad = tmp_path / "bad.gallery"
    bad.write_bytes(b"this is not sqlite" * 100)
    assert not panel.open_gallery(bad)
    assert "not a Workbench face gallery" in panel.window().message_label.text()
    assert panel.gallery.path.name == "test.gallery"  # the open one is kept


def test_a_slow_recognition_of_the_previous_photo_is_not_drawn_over_the_next(
        qtbot, panel, monkeypatch):
    """Still photos are recognised off the GUI thread; the latest photo wins."""
    import threading

    from workbench.faces import session as session_module

    first, second = data.astronaut(), np.ascontiguousarray(data.astronaut()[:, ::-1])
    release_first = threading.Event()
    real = session_module.analyse_frame

    def analyse(image, *args, **kwargs):
        if image is first:
            release_first.wait(10)
        return real(image, *args, **kwargs)

    monkeypatch.setattr(session_module, "analyse_frame", analyse)
    panel.show_photo(first, "a.png")
    first_job = panel.recognition_request.job
    panel.show_photo(second, "b.png")
    qtbot.waitUntil(lambda: len(panel.recognitions) == 1, timeout=20000)
    box = panel.recognitions[0][0] if isinstance(panel.recognitions[0], tuple) else \
        panel.recognitions[0].box
    assert not first_job.done  # the old photo's detection is still running
    release_first.set()
    qtbot.waitUntil(lambda: first_job.done, timeout=20000)
    qtbot.wait(50)
    now = panel.recognitions[0][0] if isinstance(panel.recognitions[0], tuple) else \
        panel.recognitions[0].box
    assert tuple(now) == tuple(box)
    assert box[0] > first.shape[1] / 3  # the mirrored photo's face, not the first one's


def test_the_panel_is_not_settled_until_the_photo_is_recognised(qtbot, panel, monkeypatch):
    """--screenshot waits for settled(): the boxes must be on the photo by then."""
    import threading

    from workbench.faces import session as session_module

    release = threading.Event()
    real = session_module.analyse_frame
    monkeypatch.setattr(session_module, "analyse_frame",
                        lambda *a, **k: (release.wait(10), real(*a, **k))[1])
    panel.show_photo(data.astronaut(), "a.png")
    assert not panel.settled()
    release.set()
    qtbot.waitUntil(panel.settled, timeout=20000)
    assert len(panel.recognitions) == 1


def test_thresholds_tab_shows_rates_warning_and_the_method(qtbot, panel, tmp_path):
    from PySide6 import QtCore

    rng = np.random.default_rng(7)
    people = {}
    for name in ("Ann", "Ben"):
        base = cv2_blur(rng.uniform(30, 230, (112, 92)))
        paths = []
        for i in range(4):
            path = tmp_path / f"{name}{i}.png"
            write_image(path, np.clip(base + rng.normal(0, 6, base.shape), 0, 255
                                      ).astype(np.uint8))
            paths.append(path)
        people[name] = paths
        panel.name_edit.setText(name)
        assert panel.add_photos(paths, aligned=True) is not None
        wait_idle(qtbot, panel)
    assert panel.recognizer is not None
    # two people, four shots each: trained, but the user is told not to trust the thresholds
    assert not panel.warning_label.isHidden() and "Too few faces" in panel.warning_label.text()
    assert "% of enrolled people's faces are named" in panel.rates_label.text()
    assert "% of strangers are rejected" in panel.rates_label.text()
    # the method is visible: Fisherfaces chosen, eigenfaces used until there are 3 people
    assert panel.method_combo.currentData() == "fisherfaces"
    assert "Eigenfaces (Fisherfaces from 3 people on)" in panel.status.text()
    # and the threshold rule in words, not "far=0.2"
    assert "thresholds: at most 20 % of strangers accepted" in panel.status.text()
    # the histogram's key sits above it, not inside the plot on the bars
    assert panel.hist.getPlotItem().legend is None
    key = panel.hist.getPlotItem().titleLabel.text
    assert "same person" in key and "different people" in key
    assert panel.hist.getPlotItem().titleLabel.isVisible()
    before = panel.rates_label.text()
    panel.identity_slider.setValue(1)  # the strictest threshold names nobody
    assert panel.rates_label.text() != before and "0% of enrolled" in panel.rates_label.text()
    # switching the method with the keyboard stores it in the gallery and retrains
    panel.method_combo.setFocus()
    qtbot.keyClick(panel.method_combo, QtCore.Qt.Key.Key_Down)
    wait_idle(qtbot, panel)
    assert panel.gallery.settings.method == "eigenfaces"
    assert panel.method_combo.currentData() == "eigenfaces"
    assert "Eigenfaces ·" in panel.status.text()


def test_thresholds_tab_warns_when_people_do_not_separate(qtbot, panel, tmp_path):
    """4 people with 5 shots each (enough by count), but every shot a pattern of its own."""
    from PySide6 import QtCore

    rng = np.random.default_rng(5)
    for name in ("Ann", "Ben", "Cal", "Dee"):
        paths = []
        for i in range(5):
            path = tmp_path / f"{name}{i}.png"
            write_image(path, np.clip(cv2_blur(rng.uniform(0, 255, (112, 92))), 0, 255
                                      ).astype(np.uint8))
            paths.append(path)
        panel.name_edit.setText(name)
        assert panel.add_photos(paths, aligned=True) is not None
        wait_idle(qtbot, panel)
    tabs = panel.side.tabBar()
    index = next(k for k in range(tabs.count()) if tabs.tabText(k) == "Thresholds")
    qtbot.mouseClick(tabs, QtCore.Qt.MouseButton.LeftButton, pos=tabs.tabRect(index).center())
    assert panel.side.currentIndex() == index
    assert panel.warning_label.isVisible()
    assert "hard to tell from strangers (ROC AUC" in panel.warning_label.text()
    assert "Too few faces" not in panel.warning_label.text()
    # four people: the gallery's Fisherfaces, and what they compare, are named in the status
    assert "Fisherfaces on LBP histograms ·" in panel.status.text()


def _two_people(qtbot, panel, tmp_path, shots=4):
    rng = np.random.default_rng(11)
    for name in ("Ann", "Ben"):
        base = cv2_blur(rng.uniform(30, 230, (112, 92)))
        paths = []
        for i in range(shots):
            path = tmp_path / f"{name}{i}.png"
            write_image(path, np.clip(base + rng.normal(0, 6, base.shape), 0, 255
                                      ).astype(np.uint8))
            paths.append(path)
        panel.name_edit.setText(name)
        assert panel.add_photos(paths, aligned=True) is not None
        wait_idle(qtbot, panel)


def test_add_photos_asks_for_the_name_before_the_file_dialog(qtbot, panel, monkeypatch):
    from PySide6 import QtWidgets

    opened = []
    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileNames",
                        lambda *a, **k: (opened.append(1), ([], ""))[1])
    panel.name_edit.setText("  ")
    _click(qtbot, panel.add_photos_button)
    assert opened == []  # no photos chosen and then thrown away
    assert "name first" in panel.window().message_label.text()


def test_add_photos_button_enrols_the_faces_of_chosen_photos_and_skips_a_photo_without_one(
        qtbot, panel, tmp_path, monkeypatch):
    """Typed name, a click on Add photos…, photos chosen in the file dialog: full photos go
    through the face search as the camera's frames do; a photo with no face is named."""
    from PySide6 import QtWidgets

    photo = data.astronaut()
    chosen = []
    for k, (gain, shift) in enumerate(((1.0, 0), (0.8, 12), (1.15, -10))):
        moved = np.roll(np.clip(photo * gain, 0, 255).astype(np.uint8), shift, axis=1)
        chosen.append(tmp_path / f"eileen{k}.png")
        write_image(chosen[-1], moved)
    chosen.append(tmp_path / "coffee.png")
    write_image(chosen[-1], data.coffee())
    asked = []

    def dialog(parent, title, folder, filters):
        asked.append((title, filters))
        return [str(p) for p in chosen], filters

    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileNames", dialog)
    panel.name_edit.setFocus()
    qtbot.keyClicks(panel.name_edit, "Eileen")
    _click(qtbot, panel.add_photos_button)
    wait_idle(qtbot, panel)
    assert asked and asked[0][0] == "Photos of the person"
    assert "png" in asked[0][1].lower()
    assert panel.gallery.faces_of("Eileen") and len(panel.gallery.faces_of("Eileen")) == 3
    assert "(3 faces)" in panel.people.currentItem().text()
    # what was enrolled and what was skipped (and why) stay side by side in the message
    message = panel.window().message_label.text()
    assert "Enrolled 3 face(s) of Eileen" in message
    assert "Skipped coffee.png" in message and "face" in message, message
    assert "choose a photo" in message and "camera" not in message  # advice for a file


def test_after_enrolling_and_renaming_the_name_field_is_empty_and_the_person_selected(
        qtbot, panel, tmp_path):

    _two_people(qtbot, panel, tmp_path)
    assert panel.name_edit.text() == ""  # the next photos cannot go to Ben by mistake
    assert panel.selected_person() == "Ben"
    assert "(4 faces)" in panel.people.currentItem().text()
    _select(qtbot, panel, "Ann")
    seen = {}
    _answer_dialog_with("Ann Lee", seen)
    _click(qtbot, panel.rename_button)
    wait_idle(qtbot, panel)
    assert seen["title"] == "Rename person" and seen["width"] >= 380
    assert panel.selected_person() == "Ann Lee"
    assert "2 people" in panel.status.text()


def test_moving_one_threshold_leaves_the_other_exactly_where_it_was(qtbot, panel, tmp_path):
    from PySide6 import QtCore

    _two_people(qtbot, panel, tmp_path, shots=5)
    r = panel.recognizer
    face_before = r.face_threshold
    panel.identity_slider.setFocus()
    qtbot.keyClick(panel.identity_slider, QtCore.Qt.Key.Key_PageUp)
    assert panel.recognizer.face_threshold == face_before  # not rounded to a slider step
    identity = panel.recognizer.identity_threshold
    panel.identity_spin.setFocus()
    qtbot.keyClick(panel.identity_spin, QtCore.Qt.Key.Key_Up)
    assert panel.recognizer.identity_threshold == pytest.approx(round(identity, 1) + 0.1)
    assert panel.recognizer.face_threshold == face_before
    assert f"{panel.recognizer.identity_threshold:.1f}" in panel.identity_label.text()


def test_insight_shows_the_eigenfaces_with_fisherfaces_too(qtbot, panel, tmp_path):
    _two_people(qtbot, panel, tmp_path)
    panel.name_edit.setText("Cy")
    rng = np.random.default_rng(5)
    paths = []
    for i in range(4):
        path = tmp_path / f"cy{i}.png"
        write_image(path, rng.integers(30, 230, (112, 92), dtype=np.uint8))
        paths.append(path)
    assert panel.add_photos(paths, aligned=True) is not None
    wait_idle(qtbot, panel)
    assert panel.recognizer.model.kind == "fisherfaces"  # three people: the default method
    h, w = panel.recognizer.model.image_shape_
    assert panel.eigen_view.image.shape[1] > 2 * w  # the mean face and eigenfaces beside it
