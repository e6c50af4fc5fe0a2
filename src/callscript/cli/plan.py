"""``callscript plan``: today's worklist from a customer file, earlier calls and a policy."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from callscript.cli.errors import check_writable, fail, user_errors
from callscript.cli.options import FlowFiles

CUSTOMERS_HELP = "customers, CSV or Parquet (columns: see docs/planning.md)"


@contextmanager
def _progress() -> Iterator[Callable[[str], None]]:
    """A spinner with the current stage on a terminal; nothing when piped."""
    if not sys.stderr.isatty():
        yield lambda stage: None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("planning", total=None)
        yield lambda stage: bar.update(task, description=stage)


def plan_command(
    customers: Annotated[Path, typer.Argument(help=CUSTOMERS_HELP)],
    output: Annotated[Path, typer.Option("--output", "-o", help="the worklist: .csv, .parquet or .json")],
    policy: Annotated[Path | None, typer.Option(help="a policy YAML file (default: the built-in "
                                                     "telecom policy)")] = None,
    records: Annotated[Path | None, typer.Option(help="earlier calls, .jsonl or .parquet")] = None,
    agents: Annotated[Path | None, typer.Option(help="agents: agent_id, name, phone, max_calls")] = None,
    on: Annotated[str | None, typer.Option(help="the day to plan, YYYY-MM-DD (default: today in "
                                                "the policy's time zone, from now on)")] = None,
    rejects: Annotated[Path | None, typer.Option(help="where rejected rows go (default: next to "
                                                      "the worklist, .rejects.csv)")] = None,
    deployment: Annotated[Path | None, typer.Option(
        help="YAML or JSON: the context parts every call shares (deployment: hotline: …)")] = None,
    flow_file: FlowFiles = None,
    library: Annotated[list[str] | None, typer.Option(
        "--library", "-L", metavar="DIR",
        help="the flow library (a folder, or a built-in library's name; default: telecom)")] = None,
) -> None:
    """Plan a day's calls: who, with which flow, why, when, by which agent."""
    from datetime import datetime

    from callscript.cli.sources import read_context
    from callscript.library import load_libraries

    with user_errors():
        try:
            from callscript.planner import (
                Planner,
                library_policy,
                load_policy,
                read_agents,
                read_table,
                records_from_file,
                write_frame,
            )
        except ImportError:
            raise fail("the planner needs Polars: pip install 'callscript[planner]'") from None
        if output.suffix.lower() not in (".csv", ".parquet", ".json"):
            raise fail(f"{output}: the worklist must be .csv, .parquet or .json")
        check_writable(output)
        check_writable(rejects, "--rejects")
        chosen = load_libraries(library or [], flow_file or [])[0]
        loaded = load_policy(policy) if policy else library_policy(chosen)
        shared = read_context(deployment) if deployment else None
        planner = Planner(loaded, chosen, shared)
        now = datetime.now(loaded.policy.zone)
        try:
            day = date.fromisoformat(on) if on else now.date()
        except ValueError:
            raise fail("--on takes a day as YYYY-MM-DD") from None
        with _progress() as progress:
            progress("reading customers")
            table = read_table(customers, "the customer file")
            source = records_from_file(records) if records else None
            agent_table = read_agents(agents) if agents else None
            result = planner.plan(table, source, agent_table, day, progress, str(customers), str(agents),
                                  str(records), now if day == now.date() else None)
            progress("writing the worklist")
            write_frame(result.worklist, output)
            rejects_path = rejects or output.with_name(output.stem + ".rejects.csv")
            if result.rejects.height:
                write_frame(result.rejects, rejects_path)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    if result.calendar_estimated:
        err.print(f"warning: {day} is past the years the official calendar publishes; planned as "
                  "Monday to Friday, rows flagged calendar_estimated")
    if result.why:
        err.print(f"no calls planned: {result.why}")
    counts = result.counts
    err.print(f"{day}: {counts.get('planned', 0)} calls planned from {counts['customers']} customers "
              f"-> {output}")
    for name, value in counts.items():
        if name.startswith(("rule:", "held_out:")) or name in ("do_not_call", "over_capacity"):
            err.print(f"  {name}: {value}")
    if result.rejects.height:
        err.print(f"  rejected rows: {counts['rejected_rows']} ({result.rejects.height} problems) "
                  f"-> {rejects_path}")

