"""Real configuration the deployment patterns use, rendered and validated (one module per artifact).

:func:`render_sam_template` is importable from here as well; it is loaded on first use, so that importing
``labsupport.artifacts.lambda_handler`` inside a Lambda function pulls in nothing but the service.
"""

from __future__ import annotations

from typing import Any

__all__ = ["render_sam_template"]


def __getattr__(name: str) -> Any:
    if name == "render_sam_template":
        from labsupport.artifacts.sam import render_sam_template

        return render_sam_template
    raise AttributeError(f"module 'labsupport.artifacts' has no attribute {name!r}")
