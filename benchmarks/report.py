"""docs/performance.md: each benchmark writes its own section between its markers."""

from __future__ import annotations

from pathlib import Path

PAGE = Path(__file__).parents[1] / "docs" / "performance.md"


def markers(name: str) -> tuple[str, str]:
    """The comments that delimit a benchmark's section (run.py keeps every such section)."""
    return f"<!-- {name} benchmark: begin -->", f"<!-- {name} benchmark: end -->"


def write_section(name: str, text: str) -> None:
    """Put ``text`` (which starts and ends with the markers) in place of the old section,
    or at the end of the page when it has none yet."""
    begin, end = markers(name)
    current = PAGE.read_text(encoding="utf-8")
    if begin in current and end in current:
        head, rest = current.split(begin, 1)
        current = head + text + rest.split(end, 1)[1]
    else:
        current = current.rstrip("\n") + "\n\n" + text + "\n"
    PAGE.write_text(current, encoding="utf-8")
