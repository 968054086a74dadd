"""File > Export slide: the canvas with the lesson's caption (and table) as a 1080p or 4K
PNG or as SVG, through ProjectFiles and its small dialog."""

import pytest
from PySide6 import QtCore, QtGui, QtWidgets
from tests.helpers import settle, wait_lesson

from backprop_lab.controller.lessons import LessonPlayer, lessons_dir, load_lesson
from backprop_lab.controller.teaching import PhaseStepper
from backprop_lab.ui.canvas import NetworkCanvas
from backprop_lab.ui.files import ProjectFiles, SlideExportDialog, lesson_slide_text
from backprop_lab.ui.presenter import Presenter


@pytest.fixture
def stage(qtbot, session, tmp_path):
    """A lesson on a session, its canvas and the files object (no main window)."""
    host = QtWidgets.QWidget()
    qtbot.addWidget(host)
    canvas = NetworkCanvas(host)
    canvas.resize(900, 520)
    host.show()
    stepper = PhaseStepper(session)
    presenter = Presenter(session, stepper, canvas, *[QtWidgets.QLabel() for _ in range(3)])
    player = LessonPlayer(session, stepper)
    settings = QtCore.QSettings(str(tmp_path / "settings.ini"), QtCore.QSettings.IniFormat)
    settings.setValue("last_dir", str(tmp_path))
    files = ProjectFiles(session, settings, canvas, host, confirm_unsaved=False)
    player.start(load_lesson(lessons_dir() / "01-article-xor.json"))
    wait_lesson(qtbot, player)
    player.go(6)  # step 7: the weight update, with the article's errors in a table
    wait_lesson(qtbot, player)
    settle(session)
    presenter.render()
    yield files, player, stepper
    player.stop()
    presenter.stop()
    stepper.stop()


def test_the_slide_text_is_the_steps_caption_and_table(stage):
    _, player, stepper = stage
    caption, rows = lesson_slide_text(player, stepper)
    step = player.step
    assert step.title in caption and step.caption_html in caption
    assert rows[0] == list(player.lesson.compare_headers)
    assert len(rows) == len(step.compare) + 1 and rows[1][0] == step.compare[0].what
    player.stop()
    # outside a lesson, the stepped update's phase (the stepper is still on the update)
    caption, rows = lesson_slide_text(player, stepper)
    assert rows is None and ("Weight update" in caption or caption == "")


@pytest.mark.parametrize("size", [(1920, 1080), (3840, 2160)])
def test_a_png_slide_at_each_size(stage, tmp_path, size):
    files, player, stepper = stage
    caption, rows = lesson_slide_text(player, stepper)
    out = tmp_path / "slide.png"
    assert files.export_slide(out, size, caption, rows)
    img = QtGui.QImage(str(out))
    assert (img.width(), img.height()) == size
    colours = {img.pixel(x, y) for x in range(0, size[0], size[0] // 48)
               for y in range(0, size[1], size[1] // 27)}
    assert len(colours) > 5


def test_an_svg_slide_holds_the_caption_as_text(stage, tmp_path):
    files, player, stepper = stage
    caption, rows = lesson_slide_text(player, stepper)
    out = tmp_path / "slide.svg"
    assert files.export_slide(out, (1920, 1080), caption, rows)
    svg = out.read_text()
    assert "<svg" in svg and 'viewBox="0 0 1920 1080"' in svg
    # the caption and the table are text, wrapped into lines, not pictures of text
    assert "The weight update" in svg and "Every weight steps downhill" in svg
    assert ">Correct<" in svg and ">W10, W20," in svg
    assert "L = 8" in svg  # the canvas's loss node


def test_an_unwritable_place_is_one_message(stage, tmp_path):
    files, *_ = stage
    target = tmp_path / "missing" / "slide.png"
    assert not files.export_slide(target, (1920, 1080), "caption")
    box = files.parent().findChild(QtWidgets.QMessageBox, "problem_box")
    assert box is not None and "slide.png" in box.text()
    box.close()
    assert not target.exists()


def test_the_dialog_chooses_size_format_and_table(stage, tmp_path, monkeypatch):
    files, player, stepper = stage
    chosen = {}

    def fake_exec(dlg):
        assert dlg.table_check.isEnabled() and dlg.table_check.isChecked()
        dlg.size_combo.setCurrentIndex(1)  # 3840 x 2160
        dlg.format_combo.setCurrentIndex(0)  # PNG
        dlg.table_check.setChecked(False)
        return QtWidgets.QDialog.Accepted

    def fake_save(parent, title, start, filters):
        chosen["start"] = start
        return str(tmp_path / "lecture"), filters  # no suffix typed: .png is added

    monkeypatch.setattr(SlideExportDialog, "exec", fake_exec)
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", fake_save)
    exported = []
    real = files.export_slide
    monkeypatch.setattr(files, "export_slide",
                        lambda *a, **k: exported.append(a) or real(*a, **k))
    caption, rows = lesson_slide_text(player, stepper)
    assert files.export_slide_dialog(caption, rows)
    path, size, _, table = exported[0]
    assert path.endswith("lecture.png") and size == (3840, 2160) and table is None
    assert QtGui.QImage(path).width() == 3840
    assert chosen["start"].endswith("slide.png")


def test_the_dialog_without_a_table_offers_none(qtbot):
    dlg = SlideExportDialog(has_table=False)
    qtbot.addWidget(dlg)
    assert not dlg.table_check.isEnabled() and not dlg.include_table()
    dlg.format_combo.setCurrentIndex(1)
    assert dlg.kind() == "svg" and dlg.slide_size() == (1920, 1080)
