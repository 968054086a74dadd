"""The central node-link canvas: units as labelled circles, weights as coloured lines.

``NetworkCanvas`` renders a ``CanvasData`` (an immutable snapshot of weights, one
sample's values and gradients); it computes nothing about the network.
"""

from .data import CanvasData, EdgeOverride
from .slide import SLIDE_SIZES, render_slide, save_slide_png, save_slide_svg
from .view import NetworkCanvas

__all__ = ["SLIDE_SIZES", "CanvasData", "EdgeOverride", "NetworkCanvas", "render_slide",
           "save_slide_png", "save_slide_svg"]
