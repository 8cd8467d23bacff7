"""Figures and panels built from traces. Views read traces; they hold no simulation logic."""

from labsupport.views._scene import Animation, LivePanel, Scene, animate, publishing, reveal
from labsupport.views._startup import defer_slow_imports
from labsupport.views._style import COLORS, SYMBOLS, apply_style

defer_slow_imports()

__all__ = ["Animation", "COLORS", "SYMBOLS", "LivePanel", "Scene", "animate", "apply_style", "publishing", "reveal"]
