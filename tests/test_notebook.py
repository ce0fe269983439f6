"""The month-end notebook runs from top to bottom on a real Jupyter kernel and draws its charts."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).parents[1] / "docs" / "notebooks" / "month_end.ipynb"


@pytest.mark.slow  # starts a Jupyter kernel: CI runs it
def test_the_month_end_notebook_runs_and_draws_three_charts() -> None:
    """Every cell runs without error; the waterfall, the ages and the reasons are images."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    outputs = [output for cell in notebook.cells if cell.cell_type == "code"
               for output in cell.outputs]
    assert [o for o in outputs if o.output_type == "error"] == []
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 3
    printed = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "unexplained" in printed
    assert "By reason (退货原因)" in printed
    assert "Refund time, request to money back" in printed


def test_the_stored_notebook_carries_no_outputs() -> None:
    """The notebook is kept without outputs, so that what readers see is what CI ran."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")
