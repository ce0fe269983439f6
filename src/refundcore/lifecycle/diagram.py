"""Text diagrams of the charts, rendered by python-statemachine without extra dependencies."""

from __future__ import annotations

from typing import Any

from statemachine.contrib.diagram.formatter import formatter

from refundcore.errors import InvalidOption
from refundcore.lifecycle.charts import OrderLifecycle, RefundLifecycle, ReturnLifecycle

__all__ = ["diagram"]

_CHARTS = (OrderLifecycle, ReturnLifecycle, RefundLifecycle)
_FORMATS = ("mermaid", "md")


def diagram(chart: Any, *, format: str = "mermaid") -> str:
    """Render ``chart`` (a chart class or instance) as text.

    Args:
        chart: :class:`OrderLifecycle`, :class:`ReturnLifecycle` or
            :class:`RefundLifecycle` (the class or an instance).
        format: ``"mermaid"`` (a ``stateDiagram-v2``) or ``"md"`` (a
            Markdown transition table).

    Returns:
        The diagram text, ending in one newline.

    Raises:
        InvalidOption: an unknown format, or not one of refundcore's charts
            (also a ``ValueError``).
    """
    kind = chart if isinstance(chart, type) else type(chart)
    if kind not in _CHARTS:
        raise InvalidOption("not a refundcore chart", value=chart, field="chart")
    if format not in _FORMATS:
        raise InvalidOption(f"must be one of {', '.join(_FORMATS)}", value=format,
                            field="format")
    return formatter.render(kind, format).rstrip("\n") + "\n"
