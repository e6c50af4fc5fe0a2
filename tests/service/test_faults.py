"""Faults under load on PostgreSQL: a worker killed, the database stopped; nothing the
service acknowledged is lost, nothing is applied twice or by half.

Agents (benchmarks/agents.py) drive complete calls through `serve --workers 2`, retrying
a failed request with its Idempotency-Key as a client must. Afterwards the store is
read directly and compared with what the agents were told.
"""

from __future__ import annotations

import os
import signal
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from benchmarks.agents import Agents, Tally
from sqlalchemy import create_engine, select, text

from callscript.store.db import normalise_url
from callscript.store.tables import calls, events
from tests.service import postgres
from tests.service.conftest import _fresh_postgres
from tests.service.servers import serving

pytestmark = pytest.mark.slow
AGENTS = 12


def check_store(db_url: str, tally: Tally) -> None:
    """Every acknowledged turn is stored, once, whole: the row's revision is the last one
    acknowledged, its events are numbered 1..n without a gap, one step per revision."""
    engine = create_engine(normalise_url(db_url))
    with engine.connect() as conn:
        rows = conn.execute(select(calls.c.id, calls.c.revision, calls.c.event_seq,
                                   calls.c.status)).all()
        kinds: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for e in conn.execute(select(events.c.call_id, events.c.seq, events.c.kind)
                              .order_by(events.c.call_id, events.c.seq)):
            kinds[e.call_id].append((e.seq, e.kind))
    engine.dispose()
    assert {r.id for r in rows} == set(tally.acked)  # no call lost, none started twice
    for row in rows:
        assert row.revision == tally.acked[row.id], "an acknowledged turn is missing or extra"
        seqs = [seq for seq, _kind in kinds[row.id]]
        assert seqs == list(range(1, row.event_seq + 1)), "a gap in the call's events"
        steps = [kind for _seq, kind in kinds[row.id]].count("step_entered")
        assert steps == row.revision, "a turn's events are missing: half applied"
        assert ("ended" in [k for _s, k in kinds[row.id]]) == (row.status == "ended")


@pytest.fixture
def db_url(postgres_admin_url: str) -> str:
    return _fresh_postgres(postgres_admin_url)


def test_a_worker_killed_mid_run_loses_no_acknowledged_turn(db_url: str, tmp_path: Path) -> None:
    with serving(db_url, tmp_path, workers=2) as served:
        agents = Agents([served.base_url], [served.token], AGENTS)
        threads = agents.start()
        time.sleep(1.5)
        victim = served.busiest_worker()
        os.kill(victim, signal.SIGKILL)  # no cleanup, mid-transaction for some agents
        deadline = time.monotonic() + 30
        while victim in served.worker_pids() or len(served.worker_pids()) < 2:
            assert time.monotonic() < deadline, "uvicorn did not start a new worker"
            time.sleep(0.1)
        served.wait_healthy()
        before = agents.tally.turns
        time.sleep(1.5)  # the new worker serves too
        tally = agents.join(threads)
        assert not tally.failures, tally.failures[:3]
        assert tally.retried > 0, "the kill hit no request: the test proved nothing"
        assert tally.turns > before and tally.calls_ended > 0
        check_store(db_url, tally)


@pytest.fixture
def own_postgres() -> Iterator[postgres.Server]:
    """A server of this test's own, which it stops and starts."""
    if postgres.binaries() is None:
        pytest.skip("PostgreSQL is not installed (Debian package `postgresql`)")
    with postgres.running_server() as server:
        yield server


def test_postgres_stopped_mid_run_is_503_then_nothing_acknowledged_is_lost(
        own_postgres: postgres.Server, tmp_path: Path) -> None:
    admin = create_engine(normalise_url(own_postgres.url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE DATABASE faults"))
    admin.dispose()
    url = own_postgres.url.replace("/postgres?", "/faults?")
    with serving(url, tmp_path, workers=2) as served:
        agents = Agents([served.base_url], [served.token], AGENTS)
        threads = agents.start()
        try:
            time.sleep(1.0)
            own_postgres.stop("fast")  # open transactions rolled back, connections closed
            time.sleep(0.3)  # replies to turns committed just before the stop arrive
            down_at = agents.tally.turns
            time.sleep(1.2)
            assert agents.tally.turns == down_at  # nothing acknowledged without a database
            assert agents.tally.unavailable > 0
        finally:
            own_postgres.start()
        deadline = time.monotonic() + 30
        while agents.tally.turns < down_at + 50:  # recovered: turns acknowledged again
            assert time.monotonic() < deadline and not agents.errors, "no recovery"
            time.sleep(0.1)
        tally = agents.join(threads)
    assert tally.retry_after == {"5"}  # every 503 said when to come back
    assert not tally.failures, tally.failures[:3]
    check_store(url, tally)
