"""Docks around the network canvas: training parameters and the loss curves."""

from __future__ import annotations

from .loss_dock import LossDock
from .parameters import ParameterDock

__all__ = ["LossDock", "ParameterDock"]
