"""Hypothesis's entry point: teach ``st.from_type`` to build refundcore's records.

Registered in ``pyproject.toml`` under ``[project.entry-points.hypothesis]``,
so Hypothesis calls :func:`_hypothesis_setup_hook` when it is imported in an
environment where refundcore is installed.
"""

from __future__ import annotations

__all__: list[str] = []


def _hypothesis_setup_hook() -> None:
    """Register a strategy for each refundcore record Hypothesis should build by type."""
    # Imported here: Hypothesis calls the hook while it is itself still being imported.
    from refundcore.testing.strategies import register_types

    register_types()
