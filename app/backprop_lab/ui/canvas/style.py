"""Colours, sizes and number formatting of the canvas.

Every colour is opaque: tints are pre-mixed with the background, because translucent
pens cost about 20 times as much to draw (see docs/environment.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PySide6 import QtGui

#: Edge magnitude levels per sign; edges are drawn in this many width/colour buckets.
LEVELS = 8
#: Above this many edges, edges are drawn thin and without antialiasing.
MANY_EDGES = 2000
#: Weight values are written on edges only for nets with at most this many edges.
MAX_EDGE_LABELS = 60


@dataclass(frozen=True)
class Palette:
    """The colours of one theme, as ``#rrggbb`` strings."""

    background: str
    positive: str
    negative: str
    text: str
    muted_text: str
    outline: str
    bias_fill: str
    plate: str
    highlight: str
    hover: str
    weakest: float  # colour strength of the smallest edge level, 0..1
    dimmed: float   # strength multiplier of edges that are not highlighted
    unit_strength: float  # strongest unit fill tint, 0..1


LIGHT = Palette(
    background="#fbfbfb", positive="#1e62b4", negative="#e0650f", text="#1a1a1a",
    muted_text="#555555", outline="#3a3a3a", bias_fill="#d4d4d4", plate="#ffffff",
    highlight="#f4c20d", hover="#8c8c8c", weakest=0.22, dimmed=0.3, unit_strength=0.85)

HIGH_CONTRAST = Palette(
    background="#ffffff", positive="#003f9e", negative="#b84400", text="#000000",
    muted_text="#222222", outline="#000000", bias_fill="#bdbdbd", plate="#ffffff",
    highlight="#f2b600", hover="#505050", weakest=0.5, dimmed=0.35, unit_strength=1.0)


def rgb(color: str) -> np.ndarray:
    """``#rrggbb`` as a float array of three components in 0..1."""
    c = QtGui.QColor(color)
    return np.array([c.redF(), c.greenF(), c.blueF()])


def qcolor(values: np.ndarray) -> QtGui.QColor:
    """An opaque QColor from three components in 0..1."""
    r, g, b = (int(round(float(v) * 255)) for v in np.clip(values, 0.0, 1.0))
    return QtGui.QColor(r, g, b)


def mix(color: str, background: str, strength: float) -> QtGui.QColor:
    """``color`` pre-mixed with ``background``: strength 1 is the colour, 0 the background."""
    return qcolor(rgb(background) + (rgb(color) - rgb(background)) * strength)


def luminance(color: QtGui.QColor) -> float:
    """Relative luminance (sRGB, 0 = black, 1 = white)."""
    def lin(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    return 0.2126 * lin(color.redF()) + 0.7152 * lin(color.greenF()) + 0.0722 * lin(color.blueF())


def format_value(value: float) -> str:
    """A number with up to 4 significant digits for display, e.g. ``0.6``, ``-12.35``.

    Parameters
    ----------
    value : float
        The number.

    Returns
    -------
    str
        Trailing zeros are dropped, so the article's numbers read as in the formulas
        (``1``, ``0.6``, ``1.68``); NaN, which marks a value not computed yet in a
        stepped update, shows as ``?``; the minus sign is the typographic one.
    """
    v = float(value)
    if math.isnan(v):
        return "?"
    if math.isinf(v):
        return "\u221e" if v > 0 else "\u2212\u221e"
    if v == 0.0:
        v = 0.0  # no "-0.000"
    s = format(v, ".4g")
    if "e" in s:
        mantissa, exponent = s.split("e")
        s = f"{mantissa.rstrip('.')}e{int(exponent)}"
    else:
        s = s.rstrip(".")
    return s.replace("-", "\u2212")


def font(pixel_size: float, bold: bool = False) -> QtGui.QFont:
    """The canvas font at a pixel size (scene units)."""
    f = QtGui.QFont()
    f.setPixelSize(max(1, int(round(pixel_size))))
    f.setBold(bold)
    return f
