"""Every ``pycon`` example in README.md and docs/ pastes cleanly into a real Python prompt.

doctest accepts ``>>> for ...:`` followed at once by the next ``>>>``; the
interactive prompt does not: it waits for a blank line to end the compound
statement, so the pasted session fails with a SyntaxError. These tests read
each example the way the prompt does.
"""

from __future__ import annotations

import codeop
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
BLOCK = re.compile(r"^```pycon\n(.*?)^```", re.M | re.S)


def _blocks() -> list[tuple[str, int, str]]:
    found = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for match in BLOCK.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append((str(page.relative_to(ROOT)), line, match.group(1)))
    return found


BLOCKS = _blocks()


def _paste_problems(block: str) -> list[str]:
    """What goes wrong when the block's input lines are pasted into ``python``."""
    problems = []
    buffer: list[str] = []
    for number, line in enumerate(block.splitlines(), start=1):
        if line.startswith(">>>"):
            if buffer:
                problems.append(f"line {number}: the statement before it is still open "
                                "(add a '...' line to end it)")
                buffer = []
            buffer.append(line[4:])
        elif line.startswith("...") and buffer:
            buffer.append(line[4:])
        else:
            continue
        try:
            complete = codeop.compile_command("\n".join(buffer), "<paste>", "single")
        except SyntaxError as error:
            problems.append(f"line {number}: {error.msg}")
            buffer = []
            continue
        if complete is not None:
            buffer = []
    if buffer:
        problems.append("the last statement is still open (add a '...' line to end it)")
    return problems


def test_the_pages_have_examples() -> None:
    """The check reads real examples (README and several docs pages have them)."""
    assert len({page for page, _, _ in BLOCKS}) >= 5
    assert len(BLOCKS) >= 20


@pytest.mark.parametrize(("page", "line", "block"), BLOCKS,
                         ids=[f"{page}:{line}" for page, line, _ in BLOCKS])
def test_each_example_pastes_into_a_python_prompt(page: str, line: int, block: str) -> None:
    """Each statement is complete before the next prompt, and the block ends with a blank line."""
    assert _paste_problems(block) == [], f"{page}:{line}"
    assert block.endswith("\n\n"), f"{page}:{line}: no blank line before the closing fence"


def test_an_open_loop_before_the_next_prompt_is_found() -> None:
    """The reader catches a loop that only doctest would accept, and a syntax error."""
    assert _paste_problems(">>> for x in ():\n...     pass\n>>> 1\n1\n") == [
        "line 3: the statement before it is still open (add a '...' line to end it)"]
    assert _paste_problems(">>> for x in ():\n...     pass\n...\n>>> 1\n1\n") == []
    assert _paste_problems(">>> def f(:\n") == ["line 1: invalid syntax"]
    assert _paste_problems(">>> if True:\n...     1\n") == [
        "the last statement is still open (add a '...' line to end it)"]
