"""The window's look: the light theme and the dark projector theme, and the text size.

Both are application-wide, so every widget, menu, dialog and tooltip follows: the theme
is a ``QPalette`` (the canvas and the plots, which draw their own colours, are told
separately through their ``set_theme``), the text size is the application font's point
size times a factor (Ctrl+= / Ctrl+- / Ctrl+0). ``AppLook`` remembers the font and the
palette the application had before, so closing the window gives them back (tests open
many windows in one process).

The colours here are for text and plots in the docks; the canvas has its own
(``ui.canvas.style``), chosen to match: near-black ``#0e1116`` with light text in the
dark theme.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6 import QtGui, QtWidgets

THEMES = ("light", "dark")
#: the text-size steps of Ctrl+= and Ctrl+- (1 is the application's own font size)
TEXT_SCALES = (0.8, 0.9, 1.0, 1.1, 1.25, 1.4, 1.6, 1.8, 2.0)


@dataclass(frozen=True)
class Look:
    """The colours of one theme, as ``#rrggbb`` strings."""

    name: str
    # the widgets (QPalette)
    window: str
    base: str
    alternate_base: str
    text: str
    button: str
    highlight: str
    highlighted_text: str
    disabled_text: str
    link: str
    tooltip_base: str
    # the plots
    plot_background: str
    plot_text: str
    plot_grid: str
    legend_brush: str
    legend_pen: str
    marker: str
    # Okabe-Ito colours, told apart with colour-vision deficiencies; lighter on dark
    blue: str  # train loss, "correct"
    vermillion: str  # test loss, "the article says"
    orange: str  # updates taken by hand
    green: str
    pink: str
    sky: str
    strong: str  # the seventh plot colour: black on light, white on dark
    # text in the docks
    title: str
    note: str
    pending: str
    error: str


LIGHT = Look(
    name="light", window="#efefef", base="#ffffff", alternate_base="#f5f5f5",
    text="#1a1a1a", button="#e8e8e8", highlight="#1e62b4", highlighted_text="#ffffff",
    disabled_text="#8a8a8a", link="#0b57b0", tooltip_base="#ffffdc",
    plot_background="#fbfbfb", plot_text="#333333", plot_grid="#e2e2e2",
    legend_brush="#ffffffe6", legend_pen="#bbbbbb", marker="#888888",
    blue="#0072B2", vermillion="#D55E00", orange="#E69F00", green="#009E73",
    pink="#CC79A7", sky="#56B4E9", strong="#000000",
    title="#1a1a1a", note="#4a4a4a", pending="#8a5a00", error="#b00020")

#: high contrast for a projector in a dim room: light text on near black, colours lifted
#: so that they stand out from the background as much as the light theme's do from white
DARK = Look(
    name="dark", window="#161a20", base="#0e1116", alternate_base="#1b2028",
    text="#f4f4f4", button="#262c35", highlight="#5aa7ff", highlighted_text="#0e1116",
    disabled_text="#8d939c", link="#8cc4ff", tooltip_base="#262c35",
    plot_background="#0e1116", plot_text="#e8e8e8", plot_grid="#2c323b",
    legend_brush="#1b2028e6", legend_pen="#59606b", marker="#a0a0a0",
    blue="#5aa7ff", vermillion="#ff8a4c", orange="#ffc13b", green="#2fd3a0",
    pink="#f29fd0", sky="#9bd7ff", strong="#ffffff",
    title="#ffffff", note="#c9c9c9", pending="#ffc966", error="#ff6b7f")

_LOOKS = {"light": LIGHT, "dark": DARK}


def look(theme: str) -> Look:
    """The colours of ``theme`` (``"light"`` or ``"dark"``)."""
    if theme not in _LOOKS:
        raise ValueError(f"theme must be one of {THEMES}, not {theme!r}")
    return _LOOKS[theme]


def palette(theme: str, standard: QtGui.QPalette | None = None) -> QtGui.QPalette:
    """The widgets' palette of ``theme``; the light one is the style's own ``standard``
    palette when given (what the platform would show), else built from ``LIGHT``."""
    if theme == "light" and standard is not None:
        return QtGui.QPalette(standard)
    lk = look(theme)
    c = QtGui.QColor
    p = QtGui.QPalette()
    R = QtGui.QPalette.ColorRole
    for role, color in ((R.Window, lk.window), (R.WindowText, lk.text), (R.Base, lk.base),
                        (R.AlternateBase, lk.alternate_base), (R.Text, lk.text),
                        (R.Button, lk.button), (R.ButtonText, lk.text),
                        (R.BrightText, "#ffffff"), (R.Highlight, lk.highlight),
                        (R.HighlightedText, lk.highlighted_text), (R.Link, lk.link),
                        (R.LinkVisited, lk.link), (R.ToolTipBase, lk.tooltip_base),
                        (R.ToolTipText, lk.text), (R.PlaceholderText, lk.disabled_text),
                        (R.Light, lk.button), (R.Midlight, lk.button),
                        (R.Mid, lk.legend_pen), (R.Dark, lk.window), (R.Shadow, "#000000")):
        p.setColor(R(role), c(color))
    for role in (R.WindowText, R.Text, R.ButtonText):
        p.setColor(QtGui.QPalette.ColorGroup.Disabled, role, c(lk.disabled_text))
    return p


def tinted(icon: QtGui.QIcon, color: str, sizes=(16, 24, 32, 48)) -> QtGui.QIcon:
    """``icon`` drawn in ``color`` (the style's dark glyphs vanish on the dark theme)."""
    out = QtGui.QIcon()
    for size in sizes:
        img = icon.pixmap(size, size).toImage().convertToFormat(
            QtGui.QImage.Format_ARGB32_Premultiplied)
        painter = QtGui.QPainter(img)
        painter.setCompositionMode(QtGui.QPainter.CompositionMode_SourceIn)
        painter.fillRect(img.rect(), QtGui.QColor(color))
        painter.end()
        out.addPixmap(QtGui.QPixmap.fromImage(img))
    return out


def next_text_scale(current: float, direction: int) -> float:
    """The next step of ``TEXT_SCALES`` above (``direction`` 1) or below (-1) ``current``;
    0 gives 1."""
    if direction == 0:
        return 1.0
    if direction > 0:
        bigger = [s for s in TEXT_SCALES if s > current + 1e-6]
        return bigger[0] if bigger else TEXT_SCALES[-1]
    smaller = [s for s in TEXT_SCALES if s < current - 1e-6]
    return smaller[-1] if smaller else TEXT_SCALES[0]


class AppLook:
    """Applies a theme and a text size to the whole application and gives the original
    font and palette back when the last window that used it calls ``restore()``."""

    _original: dict[int, tuple[QtGui.QFont, QtGui.QPalette, QtGui.QPalette]] = {}
    _users: dict[int, int] = {}

    def __init__(self, app: QtWidgets.QApplication | None = None):
        self.app = app or QtWidgets.QApplication.instance()
        key = id(self.app)
        if key not in AppLook._original or not AppLook._users.get(key):
            AppLook._original[key] = (QtGui.QFont(self.app.font()),
                                      QtGui.QPalette(self.app.palette()),
                                      QtGui.QPalette(self.app.style().standardPalette()))
        AppLook._users[key] = AppLook._users.get(key, 0) + 1
        self._font, self._palette, self._standard = AppLook._original[key]
        self._restored = False
        self.theme = "light"
        self.text_scale = 1.0

    @property
    def base_point_size(self) -> float:
        """The application's own font size (text scale 1)."""
        return self._font.pointSizeF()

    def apply(self, theme: str, text_scale: float) -> None:
        look(theme)  # checks the name
        self.theme = theme
        self.text_scale = float(text_scale)
        font = QtGui.QFont(self._font)
        font.setPointSizeF(self._font.pointSizeF() * self.text_scale)
        if font != self.app.font():
            self.app.setFont(font)
        pal = self._palette if theme == "light" else palette(theme, self._standard)
        if pal != self.app.palette():
            self.app.setPalette(pal)

    def restore(self) -> None:
        """This window is done with the look; the last one gives the original back."""
        if self._restored:
            return
        self._restored = True
        key = id(self.app)
        AppLook._users[key] = max(0, AppLook._users.get(key, 1) - 1)
        if not AppLook._users[key]:
            self.app.setFont(self._font)
            self.app.setPalette(self._palette)
