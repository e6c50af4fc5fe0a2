"""The Python examples in the docs run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).parents[1] / "docs"


@pytest.mark.parametrize("page", ["integration.md", "../README.md"])
def test_python_blocks_run(page: str) -> None:
    text = (DOCS / page).read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks
    namespace: dict[str, object] = {}
    exec(compile("\n".join(blocks), str(DOCS / page), "exec"), namespace)


def test_the_worked_example_is_the_fixture_library() -> None:
    """docs/flow-format.md shows tests/fixtures/libraries/water file by file, unchanged."""
    page = (DOCS / "flow-format.md").read_text("utf-8")
    shown = dict(re.findall(r"```yaml\n# (\S+\.yaml)\n(.*?)```", page, re.S))
    folder = DOCS.parent / "tests" / "fixtures" / "libraries" / "water"
    files = {p.name: p.read_text("utf-8") for p in folder.glob("*.yaml")}
    assert shown.keys() == files.keys()
    for name, text in files.items():
        assert shown[name].strip() == text.strip(), name
