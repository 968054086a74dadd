"""The window's Open, Save and CSV import with hostile paths and contents (issue 12): one
message each, the current work kept, no exception, nothing that blocks or allocates
gigabytes."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import numpy as np
import pytest
from PySide6 import QtWidgets

from backprop_lab.engine import presets


def _problem(window) -> str:
    boxes = [b for b in window.findChildren(QtWidgets.QMessageBox, "problem_box")
             if b.isVisible()]
    assert len(boxes) == 1
    text = boxes[0].text()
    boxes[0].close()
    boxes[0].deleteLater()
    return text


def _write(folder: Path, name: str, text: str) -> Path:
    (folder / name).write_text(text)
    return folder / name


def _fifo(folder: Path) -> Path:
    os.mkfifo(folder / "pipe.json")
    return folder / "pipe.json"


def _project_with(**network) -> str:
    d = presets.preset_dict("circle")
    d["network"] = {"layers": [2, 4, 1], "output_activation": "sigmoid", **network}
    return json.dumps(d)


@pytest.mark.parametrize("make, message", [
    (lambda p: "/dev/zero", "not a regular file"),
    (_fifo, "not a regular file"),
    (lambda p: p, "a folder, not a file"),
    (lambda p: _write(p, "huge.json", _project_with(layers=[100_000_000, 3, 1])),
     "at most 1024 inputs"),
    (lambda p: _write(p, "huge2.json", _project_with(layers=[2, 3, 10 ** 12])),
     "at most 128 outputs"),
    (lambda p: _write(p, "data.json", json.dumps(
        {**presets.preset_dict("article-xor"),
         "data": {"inputs": [[0, 0], [0, 1e300], [1, 0], [1, 1]],
                  "targets": [[0], [1], [1], [0]]}})),
     "too large for training"),
])
def test_open_refuses_with_one_message_and_keeps_the_work(window, tmp_path, make, message):
    s = window.session
    before = s.params.copy()
    path = make(tmp_path)
    assert window.open_path(path) is False
    text = _problem(window)
    assert message in text and "\n" not in text, text
    np.testing.assert_array_equal(s.params, before)


def test_save_refuses_a_device_and_keeps_it(window):
    assert window.files.save_to(Path("/dev/null")) is False
    assert "is not a regular file" in _problem(window)
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_save_keeps_the_mode_and_the_link(window, tmp_path):
    real = tmp_path / "real.json"
    real.write_text("{}")
    os.chmod(real, 0o644)
    link = tmp_path / "link.json"
    link.symlink_to(real)
    assert window.files.save_to(link) is True
    assert link.is_symlink() and os.stat(real).st_mode & 0o777 == 0o644
    assert json.loads(real.read_text())["format"] == "backprop-lab"


def test_csv_import_of_data_too_large_is_one_message(window, tmp_path):
    f = tmp_path / "big.csv"
    f.write_text("x1,x2,y\n0,0,0\n1,1e300,1\n")
    before = window.session.dataset
    assert window.import_csv(f) is False
    assert "big.csv, line 3, column 'x2': '1e300' is too large for training" in \
        _problem(window)
    assert window.session.dataset is before
