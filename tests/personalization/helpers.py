"""Rendering template text in tests, the way the renderer renders one part of a message."""

from __future__ import annotations

from typing import Any

from smartcomm.personalization.engine import compile_part, render_part
from smartcomm.personalization.limits import RenderLimits
from smartcomm.personalization.runtime import RenderSettings, RenderState


def render(
    source: str,
    *,
    html: bool = False,
    settings: RenderSettings | None = None,
    limits: RenderLimits | None = None,
    **variables: Any,
) -> str:
    state = RenderState(settings or RenderSettings(), limits or RenderLimits())
    return render_part(compile_part("body", source, html=html), variables, state)
