"""``callscript mutate``: which changes to a flow would its tests not notice?"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from callscript.cli.errors import PROBLEMS, fail, user_errors
from callscript.cli.options import AsJson, FlowFiles, Libraries


def mutate_command(
    flow: Annotated[str, typer.Argument(help="flow id")],
    cases: Annotated[Path, typer.Option(
        "--cases", metavar="DIR", help="folder of the flow's *.cases.yaml (callscript cover)")],
    flow_file: FlowFiles = None,
    library: Libraries = None,
    calls: Annotated[int, typer.Option(
        help="random calls of the property checks per mutant")] = 10,
    seed: Annotated[int, typer.Option(help="seed of the calls and of --sample")] = 0,
    sample: Annotated[int | None, typer.Option(
        help="run only this many mutants, drawn with --seed")] = None,
    fail_under: Annotated[float | None, typer.Option(
        "--fail-under", metavar="PERCENT", help="exit 1 when the score is below PERCENT")] = None,
    as_json: AsJson = False,
) -> None:
    """Mutate the flow (and the steps it reaches in its library's sub-dialogues); report what the
    path-cover cases and property checks would not notice."""
    from callscript.library import load_libraries
    from callscript.testing.cases import case_files
    from callscript.testing.mutate import mutate

    if not cases.is_dir():
        raise fail(f"--cases: no such folder: {cases}")
    with user_errors():
        libraries = load_libraries(library or [], flow_file or [])
        found = list(case_files(cases))
        report = mutate(libraries, flow, found, calls=calls, seed=seed, sample=sample,
                        progress=_progress() if sys.stderr.isatty() and not as_json else None)
    if as_json:
        sys.stdout.write(json.dumps(report.to_json(), ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(report.to_text())
    if fail_under is not None and report.score < fail_under:
        raise typer.Exit(PROBLEMS)


def _progress() -> Callable[[int, int], None]:
    def show(done: int, total: int) -> None:
        sys.stderr.write(f"\rmutant {done + 1}/{total}" + ("\n" if done + 1 == total else ""))
    return show
