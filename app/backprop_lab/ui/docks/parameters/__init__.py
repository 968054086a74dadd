"""The parameter dock and its groups: training (``training``), network (``network``),
initialisation (``initialisation``) and data (``data``), composed by ``dock``; the
controls they share are in ``controls``."""

from .controls import ACT_TEXT, LOSS_NAMES
from .data import CUSTOM, DATASET_TEXT, DATASET_TIPS
from .dock import ParameterDock
from .initialisation import INIT_TEXT, INIT_TIPS
from .training import (
    LOSS_TEXT,
    LR_DECADES,
    LR_DECIMALS,
    LR_MAX,
    LR_MIN,
    LR_STEPS,
    LR_STEPS_PER_DECADE,
    MODE_TEXT,
    MODE_TIPS,
    OPTIMIZER_TEXT,
    OPTIMIZER_TIPS,
    REG_TEXT,
    REG_TIPS,
    lr_to_slider,
    slider_to_lr,
)

__all__ = ["ACT_TEXT", "CUSTOM", "DATASET_TEXT", "DATASET_TIPS", "INIT_TEXT", "INIT_TIPS",
           "LOSS_NAMES", "LOSS_TEXT", "LR_DECADES", "LR_DECIMALS", "LR_MAX", "LR_MIN",
           "LR_STEPS", "LR_STEPS_PER_DECADE", "MODE_TEXT", "MODE_TIPS", "OPTIMIZER_TEXT",
           "OPTIMIZER_TIPS", "REG_TEXT", "REG_TIPS", "ParameterDock", "lr_to_slider",
           "slider_to_lr"]
