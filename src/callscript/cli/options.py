"""Options that several commands share, written once so that their help reads the same."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

FlowFiles = Annotated[list[Path] | None, typer.Option(
    "--flow-file", "-f", metavar="FILE", help="a flow or sub-dialogue YAML file (repeatable)")]
Libraries = Annotated[list[str] | None, typer.Option(
    "--library", "-L", metavar="DIR",
    help="a flow library folder, or a built-in library's name (repeatable; default: telecom)")]
Deployment = Annotated[Path | None, typer.Option(
    "--deployment", metavar="FILE",
    help="YAML with this installation's values (deployment: {hotline: …}, agent: …)")]
AsJson = Annotated[bool, typer.Option("--json", help="print JSON for scripts")]
