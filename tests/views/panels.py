"""What every live panel must do with a bad setting: show the model's message, keep the last good picture."""

from __future__ import annotations

from typing import Any


def assert_bad_setting_is_explained(panel: Any, control: str, bad: Any, message: str, good: Any) -> None:
    """Set ``control`` to ``bad`` (widening the widget's range if needed), expect ``message``, then recover."""
    widget = panel.controls[control]
    if hasattr(widget, "max") and bad > widget.max:
        widget.max = bad
    if hasattr(widget, "min") and bad < widget.min:
        widget.min = bad
    last_good = panel.trace
    widget.value = bad
    assert message in panel.status.value, panel.status.value
    assert "Traceback" not in panel.status.value
    assert panel.trace is last_good
    widget.value = good
    assert panel.status.value == ""
    assert panel.trace is not last_good
