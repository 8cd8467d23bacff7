"""Figures and panels built from traces. Views read traces; they hold no simulation logic."""

from labsupport.views._scene import LivePanel, Scene, animate, reveal
from labsupport.views._style import COLORS, FONT, SYMBOLS, apply_style, template

__all__ = ["COLORS", "FONT", "SYMBOLS", "LivePanel", "Scene", "animate", "apply_style", "reveal", "template"]
