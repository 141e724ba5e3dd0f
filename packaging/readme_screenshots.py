"""Make the README's screenshots with the app itself.

Run from the repository root:  QT_QPA_PLATFORM=offscreen python packaging/readme_screenshots.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from PySide6 import QtCore, QtWidgets

OUT = Path("resources/screenshots")


def settle(app: QtWidgets.QApplication, panel, seconds: float = 0.3) -> None:
    """Let debounced work start and background jobs finish."""
    end = time.monotonic() + seconds
    while time.monotonic() < end or not panel.settled():
        app.processEvents()
        time.sleep(0.01)


def enrol_demo_people(panel, app) -> None:
    """A throw-away gallery with the astronaut (a few shifted copies) and a second person."""
    import cv2
    import numpy as np
    from skimage import data

    from workbench.imaging.io import write_image

    folder = Path(tempfile.mkdtemp())
    panel.open_gallery(folder / "demo.gallery")
    settle(app, panel)
    astronaut = data.astronaut()
    shots = []
    # (shifts by (-3, 3) or (-3, -2) make the cascade find a second, eyeless "face" on the
    # rocket, and the shot is skipped for showing two faces)
    for i, (dx, dy) in enumerate([(0, 0), (4, 2), (3, 3), (2, -4)]):
        moved = cv2.warpAffine(astronaut, np.float32([[1, 0, dx], [0, 1, dy]]), (512, 512),
                               borderMode=cv2.BORDER_REFLECT)
        write_image(folder / f"a{i}.png", moved)
        shots.append(folder / f"a{i}.png")
    # scikit-image's small LFW faces, enlarged to crop size, as demo people (4 pictures each:
    # they are not really the same person, which is fine for showing the tool)
    lfw = data.lfw_subset()[:16]
    groups = []
    for g in range(4):
        files = []
        for i in range(4):
            face = cv2.resize((lfw[4 * g + i] * 255).astype(np.uint8), (92, 112),
                              interpolation=cv2.INTER_CUBIC)
            write_image(folder / f"lfw{g}_{i}.png", face)
            files.append(folder / f"lfw{g}_{i}.png")
        groups.append((f"LFW sample {g + 1}", files, True))
    for name, files, aligned in (*groups, ("Eileen", shots, False)):
        panel.name_edit.setText(name)
        panel.add_photos(files, aligned=aligned)
        while panel._enrol_job is not None or panel._train_job is not None:
            settle(app, panel, 0.2)
    panel.name_edit.clear()
    unseen = cv2.resize(astronaut, None, fx=0.9, fy=0.9, interpolation=cv2.INTER_AREA)
    panel.show_photo(unseen, "astronaut, smaller than any enrolled shot")
    settle(app, panel, 0.3)


def colorize_hints_and_ab(app, window, colorize) -> None:
    """The hint model with a few hints on the astronaut (colours picked from her real photo, as
    a user picks them from a reference), then A/B: that (A) beside the shipped model (B)."""
    from workbench.colorize.engine import shipped_hint_model_path
    from workbench.samples import load_sample_photo
    from workbench.ui.app import screenshot

    if not shipped_hint_model_path().is_file():
        print("no shipped hint model: the hint and A/B screenshots are not made")
        return
    photo = load_sample_photo("astronaut.jpg")
    colorize.set_image(photo, None)
    colorize.load_model(str(shipped_hint_model_path()))
    settle(app, colorize, 1.0)
    for x, y in ((150, 420), (59, 142), (6, 126), (225, 115)):  # suit, flag red, blue, face
        colorize.session.add_hint(x, y, tuple(int(c) for c in photo[y, x, :3]))
    colorize.selected_hint = 0
    colorize._hints_changed()
    settle(app, colorize, 1.0)
    print(screenshot(window, OUT / "colorize_hints.png"))
    colorize.load_compare("shipped")  # B: the shipped model, which takes no hints
    settle(app, colorize, 1.0)
    print(screenshot(window, OUT / "colorize_ab.png"))
    colorize.load_compare(None)
    settle(app, colorize, 0.3)


def main() -> None:
    QtCore.QSettings.setPath(QtCore.QSettings.Format.NativeFormat,
                             QtCore.QSettings.Scope.UserScope, tempfile.mkdtemp())
    app = QtWidgets.QApplication([])
    from workbench.ui.app import configure_application, screenshot

    configure_application(app)
    # the README shows the panels at work, not the one-time welcome hint
    QtCore.QSettings().setValue("first_run/welcome_dismissed", True)
    from workbench.ui.main_window import MainWindow

    window = MainWindow()
    window.resize(1280, 800)
    window.show()
    OUT.mkdir(parents=True, exist_ok=True)

    window.select_panel("rectify")
    settle(app, window.activate_current())
    print(screenshot(window, OUT / "rectify.png"))

    window.select_panel("colorize")
    colorize = window.activate_current()
    settle(app, colorize, 1.0)  # settled: the model loaded and the sample colorized
    print(screenshot(window, OUT / "colorize.png"))
    colorize_hints_and_ab(app, window, colorize)

    window.select_panel("faces")
    faces = window.activate_current()
    enrol_demo_people(faces, app)
    faces.side.setCurrentIndex(1)  # Insight: the eigenfaces
    settle(app, faces, 0.5)
    print(screenshot(window, OUT / "faces.png"))

    window.select_panel("pyramid")
    pyramid = window.activate_current()
    settle(app, pyramid)
    pyramid.mode.setCurrentIndex(pyramid.mode.findData("laplacian"))
    settle(app, pyramid)
    pyramid.show_level(1)
    settle(app, pyramid, 0.1)
    print(screenshot(window, OUT / "pyramid.png"))


if __name__ == "__main__":
    main()
