"""Slides: the network and the lesson's caption (and table) on one 16:9 page.

``render_slide`` draws a slide into an image; ``save_slide_png`` and ``save_slide_svg``
write one. The network is laid out afresh for the slide (not scaled from the screen),
so its text is as large as the slide allows; the caption is set in the largest type
that fits (36 px down to 20 px on a 1920x1080 slide). SVG is written with
``QSvgGenerator`` (pyqtgraph's SVG exporter is broken with PySide6 6.11).

Composition, in a 1920x1080 coordinate system scaled to the requested size: the canvas
on the left and the caption on the right; when the caption and table do not fit beside
the canvas, the canvas goes on top and the caption below it, across the slide.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from pathlib import Path

from PySide6 import QtCore, QtGui, QtSvg

from ...engine.project import atomic_write
from .view import NetworkCanvas

#: Slide sizes offered: 1080p and 4K (both 16:9).
SLIDE_SIZES = ((1920, 1080), (3840, 2160))
#: The coordinate system a slide is composed in (scaled to the output size).
BASE = QtCore.QSizeF(1920, 1080)
MARGIN = 48.0
CAPTION_PX = (36, 20)  # largest and smallest caption type
#: The canvas's text scale on a slide (1 = normal window text; the slide's size adds).
SLIDE_SCALE = 1.3


def _caption_html(caption: str) -> str:
    """Lesson captions are HTML fragments with newlines for paragraph breaks."""
    text = caption.strip()
    if not re.search(r"<(p|br|div|table|ul|ol)\b", text, re.IGNORECASE):
        text = text.replace("\n", "<br>")
    return text


def _table_html(table: Sequence[Sequence[object]], border: str) -> str:
    if not table:
        return ""
    head, *rows = table
    cells = "".join(f"<th align='left'>{html.escape(str(c))}</th>" for c in head)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>"
                   for row in rows)
    return (f"<table cellspacing='0' cellpadding='6' border='1' "
            f"style='border-color:{border}; border-style:solid; margin-top:18px'>"
            f"<tr>{cells}</tr>{body}</table>")


def _document(caption: str, table: Sequence[Sequence[object]] | None, width: float,
              px: int, text: QtGui.QColor, muted: QtGui.QColor) -> QtGui.QTextDocument:
    doc = QtGui.QTextDocument()
    font = QtGui.QFont()
    font.setPixelSize(px)
    doc.setDefaultFont(font)
    doc.setDocumentMargin(0)
    # Words are never broken ("1.0 (unchange" / "d)"): a word wider than its column
    # widens the document, and ``_fit`` takes a smaller type instead.
    option = doc.defaultTextOption()
    option.setWrapMode(QtGui.QTextOption.WrapMode.WordWrap)
    doc.setDefaultTextOption(option)
    doc.setDefaultStyleSheet(f"body {{ color: {text.name()}; }} th {{ color: {muted.name()}; }}")
    doc.setHtml(f"<body>{_caption_html(caption)}{_table_html(table or [], muted.name())}"
                f"</body>")
    doc.setTextWidth(width)
    return doc


def _fit(caption: str, table: Sequence[Sequence[object]] | None, width: float, height: float,
         text: QtGui.QColor, muted: QtGui.QColor) -> QtGui.QTextDocument | None:
    """The caption in the largest type (CAPTION_PX) that fits the box, or None."""
    for px in range(CAPTION_PX[0], CAPTION_PX[1] - 1, -2):
        doc = _document(caption, table, width, px, text, muted)
        if doc.size().height() <= height and doc.idealWidth() <= width + 0.5:
            return doc
    return None


def compose(painter: QtGui.QPainter, canvas: NetworkCanvas, caption: str,
            table: Sequence[Sequence[object]] | None = None,
            scale: float = SLIDE_SCALE) -> dict[str, QtCore.QRectF]:
    """Draw a slide into ``painter``'s 1920x1080 coordinate system.

    Parameters
    ----------
    painter : QPainter
        Active, with its coordinates scaled so that the slide is 1920x1080.
    canvas : NetworkCanvas
        The canvas whose network, numbers, toggles and theme the slide shows.
    caption : str
        The lesson caption: an HTML fragment; newlines start new lines.
    table : sequence of rows, optional
        A table under the caption; the first row is the header.
    scale : float
        The canvas's text scale on the slide.

    Returns
    -------
    dict
        Where things went: ``canvas`` and ``caption`` rectangles (slide coordinates).
    """
    background = canvas.background_color()
    text = canvas.text_color()
    muted = QtGui.QColor.fromRgbF(*(0.35 * b + 0.65 * t for b, t in zip(
        background.getRgbF()[:3], text.getRgbF()[:3])))  # table header and rules
    full = QtCore.QRectF(QtCore.QPointF(0, 0), BASE)
    painter.fillRect(full, background)
    inner = full.adjusted(MARGIN, MARGIN, -MARGIN, -MARGIN)
    has_text = bool(caption.strip()) or bool(table)
    if not has_text:
        canvas_rect, text_rect, doc = inner, QtCore.QRectF(), None
    else:
        # Beside: the caption takes 36% of the width.
        side_w = inner.width() * 0.36
        text_rect = QtCore.QRectF(inner.right() - side_w, inner.top(), side_w, inner.height())
        canvas_rect = QtCore.QRectF(inner.left(), inner.top(),
                                    inner.width() - side_w - MARGIN, inner.height())
        doc = _fit(caption, table, text_rect.width(), text_rect.height(), text, muted)
        if doc is None:
            # Below: the canvas on top, the caption across the slide.
            for share in (0.58, 0.5, 0.42):
                canvas_h = inner.height() * share
                text_rect = QtCore.QRectF(inner.left(), inner.top() + canvas_h + MARGIN / 2,
                                          inner.width(), inner.height() - canvas_h - MARGIN / 2)
                doc = _fit(caption, table, text_rect.width(), text_rect.height(), text, muted)
                if doc is not None:
                    break
            canvas_rect = QtCore.QRectF(inner.left(), inner.top(), inner.width(), canvas_h)
            if doc is None:  # even so too long: the smallest type, cut at the slide's edge
                doc = _document(caption, table, text_rect.width(), CAPTION_PX[1], text, muted)
        else:
            # Centre the caption block vertically beside the canvas.
            h = doc.size().height()
            text_rect.setTop(inner.top() + max(0.0, (inner.height() - h) / 2))
            text_rect.setHeight(min(h, inner.height()))
    canvas.paint_laid_out(painter, canvas_rect, scale)
    if doc is not None:
        painter.save()
        painter.translate(text_rect.topLeft())
        painter.setClipRect(QtCore.QRectF(0, 0, text_rect.width(), text_rect.height()))
        doc.drawContents(painter, QtCore.QRectF(0, 0, text_rect.width(), text_rect.height()))
        painter.restore()
    return {"canvas": canvas_rect, "caption": text_rect}


def _size(size: tuple[int, int] | QtCore.QSize) -> QtCore.QSize:
    return size if isinstance(size, QtCore.QSize) else QtCore.QSize(int(size[0]), int(size[1]))


def render_slide(canvas: NetworkCanvas, caption: str,
                 table: Sequence[Sequence[object]] | None = None,
                 size: tuple[int, int] | QtCore.QSize = (1920, 1080),
                 scale: float = SLIDE_SCALE) -> QtGui.QImage:
    """A slide as an image of ``size`` pixels (16:9: 1920x1080 or 3840x2160).

    See ``compose`` for the parameters. Other aspect ratios keep the 16:9 slide,
    centred.
    """
    qsize = _size(size)
    image = QtGui.QImage(qsize, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(canvas.background_color())
    painter = QtGui.QPainter(image)
    try:
        painter.setRenderHints(QtGui.QPainter.RenderHint.Antialiasing
                               | QtGui.QPainter.RenderHint.TextAntialiasing)
        _fit_base(painter, qsize)
        compose(painter, canvas, caption, table, scale)
    finally:
        painter.end()
    return image


def _fit_base(painter: QtGui.QPainter, qsize: QtCore.QSize) -> None:
    k = min(qsize.width() / BASE.width(), qsize.height() / BASE.height())
    painter.translate((qsize.width() - BASE.width() * k) / 2,
                      (qsize.height() - BASE.height() * k) / 2)
    painter.scale(k, k)


def save_slide_png(canvas: NetworkCanvas, path: str | Path, caption: str,
                   table: Sequence[Sequence[object]] | None = None,
                   size: tuple[int, int] | QtCore.QSize = (1920, 1080),
                   scale: float = SLIDE_SCALE) -> None:
    """Write a slide as a PNG of ``size`` pixels; atomically, ``OSError`` on failure."""
    image = render_slide(canvas, caption, table, size, scale)

    def write(tmp: str) -> None:
        if not image.save(tmp, "PNG"):
            raise OSError(f"cannot write {path}")

    atomic_write(path, write)


def save_slide_svg(canvas: NetworkCanvas, path: str | Path, caption: str,
                   table: Sequence[Sequence[object]] | None = None,
                   size: tuple[int, int] | QtCore.QSize = (1920, 1080),
                   scale: float = SLIDE_SCALE, title: str = "Backprop Lab slide") -> None:
    """Write a slide as SVG (vector: lines, units and text) with a ``size`` view box."""
    qsize = _size(size)

    def write(tmp: str) -> None:
        gen = QtSvg.QSvgGenerator()
        gen.setFileName(tmp)
        gen.setSize(qsize)
        gen.setViewBox(QtCore.QRect(0, 0, qsize.width(), qsize.height()))
        gen.setTitle(title)
        painter = QtGui.QPainter(gen)
        if not painter.isActive():
            raise OSError(f"cannot write {path}")
        try:
            painter.setRenderHints(QtGui.QPainter.RenderHint.Antialiasing
                                   | QtGui.QPainter.RenderHint.TextAntialiasing)
            _fit_base(painter, qsize)
            compose(painter, canvas, caption, table, scale)
        finally:
            painter.end()

    atomic_write(path, write)
