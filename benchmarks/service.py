"""The service under load: simulated agents driving complete calls over HTTP on loopback.

    .venv/bin/python -m benchmarks.service              # writes its section of docs/performance.md
    .venv/bin/python -m benchmarks.service --seconds 5 --no-write

Two set-ups, each a real `callscript serve` on a fresh database in a temporary folder:
SQLite with one worker, and PostgreSQL (a throw-away server from Debian's package, as
the tests start it, but flushing every commit to disk as a production server does) with
two. Agents (benchmarks/agents.py, one thread and connection
each) start first visits and answer them to the end for a fixed time, then stop. The
same turns taken in-process (restore, answer, snapshot: what a worker does besides HTTP
and the database) are measured in the same run, beside them.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text
from tests.service import postgres
from tests.service.servers import Served, serving

from benchmarks import report
from benchmarks import run as inprocess
from benchmarks.agents import ANSWERS, Agents, Tally, open_calls
from callscript import Call, builtin_flows
from callscript.store.db import normalise_url
from callscript.store.tables import calls

BEGIN, END = report.markers("service")
TICK = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICK


def children_of(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
                found.append(int(entry.name))
    return found


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def load(served: Served, agents: int, seconds: float, postmaster: int | None
         ) -> dict[str, Any]:
    warm = Agents([served.base_url], [served.token], agents)
    threads = warm.start()
    time.sleep(min(2.0, seconds / 4))  # warm-up: connections, pools, caches
    warm.join(threads)
    assert served.proc is not None
    workers = served.worker_pids() or [served.proc.pid]  # one worker: uvicorn runs in-process
    db_pids = children_of(postmaster) if postmaster else []
    mine0, workers0, db0 = _self_cpu(), cpu_seconds(workers), cpu_seconds(db_pids)
    measured = Agents([served.base_url], [served.token], agents)
    began = time.perf_counter()
    threads = measured.start()
    time.sleep(seconds)
    tally: Tally = measured.join(threads)
    wall = time.perf_counter() - began
    mine = _self_cpu() - mine0
    used_workers = cpu_seconds(workers) - workers0
    used_db = cpu_seconds(children_of(postmaster)) - db0 if postmaster else 0.0
    assert not tally.failures, tally.failures[:3]
    turns = tally.turn_seconds
    return {"turns_per_s": len(turns) / wall, "starts_per_s": len(tally.start_seconds) / wall,
            "p50_ms": statistics.median(turns) * 1000, "p99_ms": percentile(turns, 0.99) * 1000,
            "start_p50_ms": statistics.median(tally.start_seconds) * 1000,
            "generator_cpu": mine / (wall * CORES), "workers_cpu": used_workers / (wall * CORES),
            "db_cpu": used_db / (wall * CORES), "turns": len(turns), "wall": wall,
            "agents": agents, "calls_ended": tally.calls_ended}


def _self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@contextmanager
def postgres_database(durable: bool = False) -> Iterator[tuple[str, int]]:
    with postgres.running_server(durable) as server:
        admin = create_engine(normalise_url(server.url), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE bench"))
        admin.dispose()
        postmaster = int((server.data / "postmaster.pid").read_text().split()[0])
        yield server.url.replace("/postgres?", "/bench?"), postmaster


def stored_calls(url: str) -> int:
    engine = create_engine(normalise_url(url))
    with engine.connect() as conn:
        count = int(conn.execute(select(func.count()).select_from(calls)).scalar_one())
    engine.dispose()
    return count


def live_calls(url: str) -> int:
    engine = create_engine(normalise_url(url))
    with engine.connect() as conn:
        count = int(conn.execute(select(func.count()).select_from(calls)
                                 .where(calls.c.status == "live")).scalar_one())
    engine.dispose()
    return count


def measure(seconds: float, levels: list[int], open_before: int) -> dict[str, Any]:
    """SQLite with one worker at the middle load level; PostgreSQL with two workers at every
    level, its store first given ``open_before`` live calls through the API."""
    figures: dict[str, Any] = {"sqlite": [], "postgresql": []}
    middle = levels[len(levels) // 2]
    with tempfile.TemporaryDirectory() as folder:
        sqlite = f"sqlite:///{Path(folder) / 'callscript.db'}"
        with serving(sqlite, Path(folder), workers=1) as served:
            row = load(served, middle, seconds, None)
        row["stored_calls"], row["live_calls"] = stored_calls(sqlite), live_calls(sqlite)
        figures["sqlite"].append(row)
        print("sqlite, 1 worker:", _line(row), flush=True)
    if postgres.binaries() is None:
        print("PostgreSQL is not installed: its rows are skipped", file=sys.stderr)
    else:
        with (tempfile.TemporaryDirectory() as folder,
              postgres_database(durable=True) as (url, postmaster),
              serving(url, Path(folder), workers=2) as served):
            began = time.perf_counter()
            open_calls(served.base_url, served.token, open_before)
            figures["opened"] = {"calls": open_before,
                                 "seconds": time.perf_counter() - began}
            print(f"opened {open_before:,} live calls in "
                  f"{figures['opened']['seconds']:.1f} s", flush=True)
            for agents in levels:
                row = load(served, agents, seconds, postmaster)
                row["stored_calls"], row["live_calls"] = stored_calls(url), live_calls(url)
                figures["postgresql"].append(row)
                print(f"postgresql, 2 workers, {agents} agents:", _line(row), flush=True)
    figures["inprocess"] = inprocess.best_of(5, lambda: stateless_turns(400))
    print(f"in-process turn: {figures['inprocess']['callscript']:.1f} µs", flush=True)
    figures["load_average"] = os.getloadavg()[0]
    return figures


def stateless_turns(repeat: int) -> dict[str, float]:
    """The same turns in-process, as a worker takes them without HTTP or a database:
    restore the snapshot, answer, write the new snapshot (median, µs)."""
    flow = builtin_flows()["first_visit"]
    samples: list[int] = []
    for _ in range(repeat):
        call = Call.start(flow, inprocess.CONTEXT, clock=inprocess.clock())
        saved = call.snapshot_json()
        for answer in ANSWERS:
            began = time.perf_counter_ns()
            moved = Call.restore(flow, saved, inprocess.CONTEXT)
            moved.answer(answer, revision=moved.revision)
            moved.prompt  # noqa: B018 - the next prompt is part of a turn
            saved = moved.snapshot_json()
            samples.append(time.perf_counter_ns() - began)
    return {"callscript": inprocess.median_us(samples)}


def _line(f: dict[str, Any]) -> str:
    return (f"{f['turns_per_s']:.0f} turns/s, p50 {f['p50_ms']:.1f} ms, p99 {f['p99_ms']:.1f} ms; "
            f"CPU of the machine: generator {f['generator_cpu']:.0%}, workers "
            f"{f['workers_cpu']:.0%}, PostgreSQL {f['db_cpu']:.0%}")


def section(figures: dict[str, Any], seconds: float) -> str:
    rows = []
    for name, label in (("sqlite", "SQLite, 1 worker"), ("postgresql", "PostgreSQL, 2 workers")):
        for f in figures.get(name, []):
            rows.append(
                f"| {label} | {f['agents']} | {f['turns_per_s']:,.0f} | {f['p50_ms']:.1f} ms "
                f"| {f['p99_ms']:.1f} ms | {f['starts_per_s']:,.0f} ({f['start_p50_ms']:.1f} ms) "
                f"| {f['generator_cpu']:.0%} | {f['workers_cpu']:.0%} | {f['db_cpu']:.0%} "
                f"| {f['stored_calls']:,} ({f['live_calls']:,} live) |")
    pg = figures.get("postgresql", [])
    within = [f for f in pg if f["p99_ms"] <= 50]
    best = max((f["turns_per_s"] for f in within), default=0.0)
    verdict = ("met" if best >= 1000 else "**not met**; the floor of 500 turns/s at p99 ≤ 50 ms "
               "is " + ("met" if best >= 500 else "**not met** either"))
    inproc = figures["inprocess"]
    opened = figures.get("opened")
    opening = (f"Before the PostgreSQL rows, {opened['calls']:,} first visits were started "
               f"through the API and left live ({opened['seconds']:.0f} s): the store holds "
               "them throughout, as a busy centre's would. " if opened else "")
    return "\n".join([
        BEGIN,
        "## The service under load",
        "",
        f"Measured by `.venv/bin/python -m benchmarks.service` on {platform.machine()}, Python "
        f"{platform.python_version()}, {datetime.now():%Y-%m-%d}, {CORES} cores shared with the "
        f"load generator and the database (load average {figures['load_average']:.1f} at the "
        "end). Simulated agents, each a thread with its own keep-alive connection "
        "(`benchmarks/agents.py`, on the standard library's `http.client`), drove complete "
        "first visits (a start, then 4 answers with `If-Match` and an `Idempotency-Key`) for "
        f"{seconds:.0f} s per row after a warm-up, over loopback HTTP. PostgreSQL is a "
        "throw-away server from Debian's package that flushes every commit to disk (`fsync` "
        "and `synchronous_commit` on, as in production). " + opening,
        "",
        "| set-up | agents | turns/s | turn p50 | turn p99 | starts/s (p50) | CPU: load "
        "generator | CPU: workers | CPU: PostgreSQL | calls stored (live) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        *rows,
        "| in-process stateless turn, same answers: restore + answer + prompt + snapshot, "
        f"median, same run | - | {1e6 / inproc['callscript']:,.0f} per core "
        f"| {inproc['callscript']:.1f} µs | - | - | - | - | - | - |",
        "",
        "CPU columns are shares of the whole machine (all cores) over the measured window. "
        f"Goal on PostgreSQL: 1,000 turns/s with p99 ≤ 50 ms: {verdict} (best row within "
        f"the p99: {best:,.0f} turns/s).",
        "",
        *PROFILE,
        "",
        END,
    ])


PROFILE = [
    "Where the time goes (py-spy on a worker, `--gil`; the operations timed in-process; "
    "quiet machine, 2026-11-26):",
    "",
    "- A request costs a worker about 1.5 ms of CPU (the workers' share above over the "
    "requests served, starts included), PostgreSQL about 0.3 ms and the load generator about "
    "0.2 ms: some 2 ms of the machine's 2 cores per request, so the cores, not waiting, set "
    "the ceiling near 1,000 requests (800 turns) a second. Within a worker about half the "
    "time holding the GIL is the event loop's (HTTP parsing, FastAPI's middleware and "
    "dependency solving, handing the request to a thread and back) and half the request's "
    "thread: the turn's read (about 0.15 ms), restoring the call (decrypting the snapshot "
    "and the context, validating the context: about 0.2 ms), the turn itself (0.1 ms) and "
    "the one write (about 0.3 ms, SQLAlchemy and psycopg sending the encrypted snapshot, "
    "events and stored reply).",
    "- What changed to get here from 138 turns/s: (1) TCP_NODELAY on every connection: "
    "with `--workers` uvicorn binds a socket on which asyncio leaves Nagle's algorithm on, "
    "and each response waited 40 ms for the client's delayed ACK; (2) uvicorn's httptools "
    "parser and uvloop, and orjson for response bodies; (3) a turn is one read and one "
    "write, the write a single statement on PostgreSQL in autocommit (the call's "
    "conditional update and, only if it took effect, its events, follow-ups and idempotency "
    "key through data-modifying CTEs: one round trip instead of about twelve); (4) workers "
    "remember tokens while they listen to the users table's change notifications, which "
    "saves a round trip and a thread hand-off per request; (5) the statements of every "
    "request are built once (building a SQLAlchemy select cost more than running it); (6) "
    "the load generator moved from httpx to `http.client` (1.25 ms of CPU per request to "
    "0.2).",
    "- Tried and dropped: taking the turn on the event loop (no thread hand-off) served "
    "fewer turns (649 against 714 a second with 16 agents): the loop then waits on the "
    "database; a shorter GIL switch interval changed nothing beyond the noise.",
    "- Toward 1,000 turns/s: FastAPI's per-request work and the thread hand-off (about "
    "0.3 ms), SQLAlchemy's per-statement overhead over the driver (about 0.15 ms for each "
    "of a turn's two statements), and validating the stored context on every turn. "
    "Run-to-run spread on this shared machine is about ±15 %.",
    "- SQLite: one writer; this process's writers queue on a lock instead of SQLite's "
    "sleeping busy handler, which had put p99 near 1 s.",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10, help="measured window per row")
    parser.add_argument("--agents", type=int, nargs="+", default=[4, 8, 16],
                        help="load levels: simulated agents (threads) per row")
    parser.add_argument("--open", type=int, default=10_000,
                        help="live calls started before the PostgreSQL rows")
    parser.add_argument("--no-write", action="store_true", help="do not write docs/performance.md")
    args = parser.parse_args()
    figures = measure(args.seconds, args.agents, args.open)
    if not args.no_write:
        report.write_section("service", section(figures, args.seconds))
        print("wrote docs/performance.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
