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
    #: edges showing a difference (``EdgeOverride``): a purple-green pair, unlike the
    #: weights' blue-orange and safe for colour-blind viewers (ColorBrewer PRGn)
    diff_positive: str = "#762a83"
    diff_negative: str = "#1b7837"


LIGHT = Palette(
    background="#fbfbfb", positive="#1e62b4", negative="#e0650f", text="#1a1a1a",
    muted_text="#555555", outline="#3a3a3a", bias_fill="#d4d4d4", plate="#ffffff",
    highlight="#f4c20d", hover="#8c8c8c", weakest=0.22, dimmed=0.3, unit_strength=0.85)

HIGH_CONTRAST = Palette(
    background="#ffffff", positive="#003f9e", negative="#b84400", text="#000000",
    muted_text="#222222", outline="#000000", bias_fill="#bdbdbd", plate="#ffffff",
    highlight="#f2b600", hover="#505050", weakest=0.5, dimmed=0.35, unit_strength=1.0,
    diff_positive="#5e1a6e", diff_negative="#0d5c27")


DARK = Palette(
    background="#0e1116", positive="#5aa7ff", negative="#ff9a3d", text="#f4f4f4",
    muted_text="#c9c9c9", outline="#e8e8e8", bias_fill="#4a4f57", plate="#1b2028",
    highlight="#ffd21f", hover="#a0a0a0", weakest=0.42, dimmed=0.32, unit_strength=0.95,
    diff_positive="#d29bf0", diff_negative="#5fd38d")

THEMES = ("light", "dark")


def palette_for(theme: str, high_contrast: bool) -> Palette:
    """The palette of a theme: ``"light"`` (normal or high contrast) or ``"dark"``.

    The dark theme is itself high contrast (light text and lines on near black, for
    projectors in a dim room); blue for positive and orange for negative stay, a pair
    that colour-blind viewers tell apart.
    """
    if theme not in THEMES:
        raise ValueError(f"theme must be one of {THEMES}, not {theme!r}")
    if theme == "dark":
        return DARK
    return HIGH_CONTRAST if high_contrast else LIGHT


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


def format_fixed(value: float, decimals: int = 3) -> str:
    """A number in a fixed character budget, for value boxes and weight labels.

    Parameters
    ----------
    value : float
        The number.
    decimals : int
        At most this many decimals; the number takes at most ``decimals + 2``
        characters plus a sign (``decimals = 3``: ``0.123``, ``12.35``, ``123.5``,
        ``1.2e5``), so a label sized for ``−0.000`` always holds it.

    Returns
    -------
    str
        Trailing zeros are dropped (``4``, ``0.6``, ``1.68``: the article's numbers as
        written in the formulas); a value too small to show in ``decimals`` decimals is
        written as a power of ten (``4e−4``), never as a misleading ``0``, except
        below 1e−9 with 2 decimals (``≈0``); NaN (not computed yet) is ``?``.
    """
    v = float(value)
    if math.isnan(v):
        return "?"
    if math.isinf(v):
        return "\u221e" if v > 0 else "\u2212\u221e"
    if v == 0.0:
        return "0"
    budget = decimals + 2
    a = abs(v)
    if a < 0.5 * 10.0 ** -decimals:
        mantissa, exponent = f"{a:.0e}".split("e")
        if int(exponent) <= -10 and budget < 5:
            s = "\u22480"
        else:
            s = f"{mantissa}e\u2212{-int(exponent)}"
    else:
        s = ""
        for d in range(decimals, -1, -1):
            s = f"{a:.{d}f}"
            if len(s) <= budget:
                break
        else:
            for d in (1, 0):
                mantissa, exponent = f"{a:.{d}e}".split("e")
                s = f"{mantissa}e{int(exponent)}"
                if len(s) <= budget:
                    break
        if "." in s and "e" not in s:
            s = s.rstrip("0").rstrip(".")
        if s == "0":  # rounding took it to zero: say so honestly
            s = "\u22480"
    return ("\u2212" if v < 0 else "") + s


def fixed_width_samples(decimals: int) -> list[str]:
    """Strings at least as wide as any ``format_fixed(v, decimals)``, sign included."""
    exponent = "\u22128e\u221288" if decimals >= 3 else "\u22128e\u22128"
    return ["\u2212" + "8" * (decimals + 1) + ".", exponent]


def font(pixel_size: float, bold: bool = False, tight: bool = False) -> QtGui.QFont:
    """The canvas font at a pixel size (scene units).

    ``tight`` narrows the spaces (to about a thin space), for ``a = 0.31`` in value
    boxes and labels: the same text, less width.
    """
    f = QtGui.QFont()
    f.setPixelSize(max(1, int(round(pixel_size))))
    f.setBold(bold)
    if tight:
        f.setWordSpacing(-0.1 * f.pixelSize())
    return f


_WIDTHS: dict[tuple[int, bool, bool, str], float] = {}


def text_width(pixel_size: float, text: str, bold: bool = False, tight: bool = False) -> float:
    """Advance width of ``text`` in the canvas font (cached)."""
    key = (max(1, int(round(pixel_size))), bold, tight, text)
    w = _WIDTHS.get(key)
    if w is None:
        if len(_WIDTHS) > 20000:
            _WIDTHS.clear()
        metrics = QtGui.QFontMetricsF(font(pixel_size, bold, tight))
        w = _WIDTHS[key] = metrics.horizontalAdvance(text)
    return w
