"""``callscript plan``: today's worklist from a customer file, earlier calls and a policy."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from callscript.cli.errors import check_writable, fail, user_errors
from callscript.cli.options import FlowFiles

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from callscript.planner import PlanResult
    from callscript.store.crypto import Cipher

# the summary's counters besides the rules' and holdouts' (see docs/planning.md)
SUMMARY_COUNTS = ("do_not_call", "waiting", "attempts_used_up", "over_capacity")
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
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="the worklist: .csv, .parquet or .json (optional with --db)")] = None,
    policy: Annotated[Path | None, typer.Option(help="a policy YAML file (default: the built-in "
                                                     "telecom policy)")] = None,
    records: Annotated[Path | None, typer.Option(help="earlier calls, .jsonl or .parquet")] = None,
    db: Annotated[str | None, typer.Option(
        "--db", help="the service's database URL: earlier calls read from it and the worklist "
                     "stored in it (instead of --records)")] = None,
    dev: Annotated[bool, typer.Option(
        "--dev", help="with --db and no CALLSCRIPT_DATA_KEY: store contexts unencrypted, as "
                      "`serve --dev` does")] = False,
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
        if records is not None and db is not None:
            raise fail("--records and --db are two sources of earlier calls: give one")
        if output is None and db is None:
            raise fail("give -o WORKLIST (.csv, .parquet or .json), or --db URL to store it")
        if output is not None and output.suffix.lower() not in (".csv", ".parquet", ".json"):
            raise fail(f"{output}: the worklist must be .csv, .parquet or .json")
        check_writable(output)
        check_writable(rejects, "--rejects")
        chosen = load_libraries(library or [], flow_file or [])[0]
        loaded = load_policy(policy) if policy else library_policy(chosen)
        shared = read_context(deployment) if deployment else None
        planner = Planner(loaded, chosen, shared)
        store = _Store.open(db, dev) if db is not None else None
        now = datetime.now(loaded.policy.zone)
        try:
            day = date.fromisoformat(on) if on else now.date()
        except ValueError:
            raise fail("--on takes a day as YYYY-MM-DD") from None
        with _progress() as progress:
            progress("reading customers")
            table = read_table(customers, "the customer file")
            source = records_from_file(records) if records else store.records if store else None
            agent_table = read_agents(agents) if agents else None
            if store is not None and agent_table is not None:
                store.check_agents(agent_table.get_column("agent_id").to_list(), str(agents))
            result = planner.plan(table, source, agent_table, day, progress, str(customers), str(agents),
                                  str(records) if records else "the database",
                                  now if day == now.date() else None, customer_contexts=bool(store))
            if store is not None:
                progress("storing the worklist")
                stored = store.save(result, loaded.policy.policy, loaded.policy.timezone)
            worklist = result.worklist.drop("customer_context", strict=False)
            if output is not None:
                progress("writing the worklist")
                write_frame(worklist, output)
            rejects_path = rejects or (output.with_name(output.stem + ".rejects.csv") if output
                                       else Path(f"worklist-{day}.rejects.csv"))
            if result.rejects.height:
                # a Parquet file has no lines: its rejects name the row (1: the first)
                written = result.rejects.rename({"line": "row"}) \
                    if customers.suffix.lower() == ".parquet" else result.rejects
                write_frame(written, rejects_path)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    if store is not None and day < now.date():
        err.print(f"warning: {day} is past; the service serves its plan only when asked for it "
                  f"(GET /v1/worklist?on={day})")
    if result.calendar_estimated:
        err.print(f"warning: {day} is past the years the official calendar publishes; planned as "
                  "Monday to Friday, rows flagged calendar_estimated")
    if result.why:
        err.print(f"no calls planned: {result.why}")
    counts = result.counts
    where = " and ".join(([str(output)] if output else []) + ([stored] if store else []))
    err.print(f"{day}: {_count(counts.get('planned', 0), 'call')} planned from "
              f"{_count(counts['customers'], 'customer')} -> {where}")
    for name, value in counts.items():
        if name.startswith(("rule:", "held_out:")) or name in SUMMARY_COUNTS:
            err.print(f"  {name}: {value}")
    if result.rejects.height:
        err.print(f"  rejected rows: {counts['rejected_rows']} "
                  f"({_count(result.rejects.height, 'problem')}) -> {rejects_path}")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"



class _Store:
    """``--db``: the service's database, its engine checked and its data key read."""

    def __init__(self, url: str, engine: Engine, cipher: Cipher) -> None:
        from callscript.planner.database import records_from_db
        from callscript.store.urls import shown_url

        self.url, self.engine, self.cipher = shown_url(url), engine, cipher
        self.records = records_from_db(engine)

    @classmethod
    def open(cls, url: str, dev: bool) -> _Store:
        try:
            from callscript.planner.database import check_key, open_database
            from callscript.store.crypto import KEY_VARIABLE, Cipher, DataKeyError
        except ImportError:
            raise fail("--db needs the service's extra: pip install 'callscript[service]'") from None
        try:
            cipher = Cipher.from_env()
        except DataKeyError as err:
            raise fail(str(err)) from None
        if not cipher.encrypts and not dev:  # as `serve` refuses (service.main.cipher_for)
            raise fail(f"{KEY_VARIABLE} is not set: the worklist's contexts are personal data, "
                       "encrypted with the service's key. Give the service's key, or --dev if the "
                       "service runs with --dev")
        engine = open_database(url)
        try:
            check_key(engine, cipher)
        except BaseException:
            engine.dispose()
            raise
        return cls(url, engine, cipher)

    def check_agents(self, agent_ids: list[str], name: str) -> None:
        """The agents file's agents must be the service's: a row for anyone else is served
        to nobody."""
        from callscript.planner.database import unknown_agents

        unknown = unknown_agents(self.engine, agent_ids)
        if unknown:
            self.engine.dispose()
            raise fail(f"{name}: agent_id {', '.join(unknown)}: not an agent of the service at "
                       f"{self.url} (add them with `callscript users add ID --role agent`, or "
                       "take them out of the agents file)")

    def save(self, result: PlanResult, policy: str, timezone: str) -> str:
        """The worklist stored as the day's plan; what the summary says about it."""
        from datetime import UTC, datetime

        from callscript.planner.database import store_worklist

        plan_id, rows = store_worklist(self.engine, self.cipher, result.worklist, result.day,
                                       datetime.now(UTC), policy, timezone,
                                       result.calendar_estimated)
        self.engine.dispose()
        return f"{self.url} (plan {plan_id}, {rows} rows; GET /v1/worklist?on={result.day})"
