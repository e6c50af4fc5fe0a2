"""The stored worklist end to end: calls made over the API, `callscript plan --db` as a user
runs it, then GET /v1/worklist serves the plan and a row's context starts its call.

On SQLite and on the real PostgreSQL of the fixtures.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from callscript.cli.app import app as cli
from callscript.store.crypto import new_key
from tests.planner_support import COLUMNS, customer
from tests.service.conftest import CUSTOMER, Env, walk_to_end

DAY = "2026-11-24"  # a Tuesday; the fixtures' clock is Monday 2026-11-23 10:00 in Shanghai


def _customers(folder: Path, refs: list[str]) -> Path:
    rows = {"C-1001": customer("C-1001", name="王", phone=CUSTOMER["phone"], opened_on="2026-11-20",
                               agent_id="A0107"),
            "C-2002": customer("C-2002", name="李", phone="13900002002", opened_on="2026-11-19",
                               agent_id="A0200"),
            "C-3003": customer("C-3003", name="张", phone="13900003003", opened_on="2026-11-18",
                               agent_id="A0107"),
            "C-4004": customer("C-4004", name="赵", phone="13900004004", opened_on="2020-01-01",
                               agent_id="A0107"),
            "C-5005": customer("C-5005", name="陈", title="女士", phone="13900005005",
                               opened_on="2026-11-17", agent_id="A0107")}
    path = folder / "customers.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for ref in refs:
            writer.writerow([rows[ref].get(c) or "" for c in COLUMNS])
    return path


def _shared(folder: Path) -> list[str]:
    (folder / "agents.csv").write_text("agent_id,name,phone,max_calls\nA0107,李娜,0571-86001234,10\n"
                                       "A0200,张伟,0571-86005678,10\n", encoding="utf-8")
    (folder / "deployment.yaml").write_text("deployment: {hotline: '10010', service_centre: 西湖区}\n",
                                            encoding="utf-8")
    return ["--agents", str(folder / "agents.csv"), "--deployment", str(folder / "deployment.yaml")]


def _start(env: Env, ref: str, name: str, phone: str) -> Any:
    body = {"flow": "first_visit", "context": {"customer": {**CUSTOMER, "reference": ref,
                                                            "name": name, "phone": phone}}}
    response = env.client.post("/v1/calls", json=body, headers=env.auth("agent"))
    assert response.status_code == 201, response.text
    return response.json()


def _earlier_calls(env: Env) -> None:
    """C-1001 not reached, C-3003 a wrong number, C-4004 asked to be called back at 15:00 on
    DAY (a follow-up), C-5005 still on the line (live)."""
    walk_to_end(env, env.start(), ["no_answer"])
    later = walk_to_end(env, _start(env, "C-4004", "赵", "13900004004"),
                        ["answered", "confirmed", "no_time", "gives_time"],
                        lambda answer: {"callback_time": f"{DAY}T15:00:00+08:00"}
                        if answer == "gives_time" else {})
    assert later["disposition"] == "rescheduled", later
    wrong = walk_to_end(env, _start(env, "C-3003", "张", "13900003003"),
                        ["answered", "wrong_number"])
    assert wrong["disposition"] == "wrong_number", wrong
    _start(env, "C-5005", "陈", "13900005005")


def _plan(env: Env, folder: Path, refs: list[str], *extra: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "callscript", "plan", str(_customers(folder, refs)),
               "--db", str(env.svc.engine.url.render_as_string(hide_password=False)),
               *_shared(folder), "--on", DAY, *extra]
    return subprocess.run(command, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "CALLSCRIPT_DATA_KEY": env.keys[0]})


def _page(env: Env, user: str, **query: str) -> Any:
    response = env.client.get("/v1/worklist", params=query, headers=env.auth(user))
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.subprocess
def test_plan_into_the_database_then_serve_and_start_the_calls(env: Env, tmp_path: Path) -> None:
    _earlier_calls(env)
    done = _plan(env, tmp_path, ["C-1001", "C-2002", "C-3003", "C-4004", "C-5005"])
    assert done.returncode == 0, done.stderr
    assert "4 calls planned from 5 customers" in done.stderr and "GET /v1/worklist" in done.stderr
    assert CUSTOMER["phone"] not in done.stderr + done.stdout and "王" not in done.stderr

    mine = _page(env, "agent", on=DAY)
    assert mine["day"] == DAY and mine["plan_id"] and mine["next_cursor"] is None
    rows = {r["customer_ref"]: r for r in mine["items"]}
    assert set(rows) == {"C-1001", "C-4004", "C-5005"}  # C-3003 was a wrong number: never again
    assert rows["C-1001"]["attempt"] == 2 and rows["C-5005"]["attempt"] == 2  # live counts
    agreed = rows["C-4004"]  # the follow-up read from the database: at the agreed time
    assert (agreed["reason"], agreed["attempt"]) == ("客户约定的时间回电", 2)
    assert (agreed["window_start"], agreed["window_end"]) == (f"{DAY}T15:00:00+08:00",
                                                              f"{DAY}T15:30:00+08:00")
    first = rows["C-1001"]
    assert first["flow"] == "first_visit" and first["agent_id"] == "A0107"
    assert first["reason"] == "新开户客户15天内首次回访"
    assert first["window_start"].startswith(f"{DAY}T") and first["window_start"].endswith("+08:00")
    assert first["context"]["customer"]["phone"] == CUSTOMER["phone"]  # for the agent who calls
    assert set(first["context"]) <= {"customer", "billing"}  # the service fills the rest

    other = _page(env, "other_agent", on=DAY)["items"]
    assert [(r["customer_ref"], r["attempt"]) for r in other] == [("C-2002", 1)]
    everyone = _page(env, "supervisor", on=DAY)["items"]
    assert len(everyone) == 4
    assert all(r["context"]["customer"]["phone"].count("*") == 4 for r in everyone)
    assert len(_page(env, "integrator", on=DAY, agent="A0200")["items"]) == 1
    refused = env.client.get("/v1/worklist", params={"on": DAY, "agent": "A0200"},
                             headers=env.auth("agent"))
    assert refused.status_code == 403 and refused.json()["errors"][0]["field"] == "agent"

    # the row's context starts its call, as it is
    started = env.client.post("/v1/calls", json={"flow": first["flow"], "context": first["context"]},
                              headers=env.auth("agent"))
    assert started.status_code == 201, started.text
    assert started.json()["prompt"]["step"] == "prepare"

    # a page at a time; planning the day again replaces the plan, and an old cursor says so
    page = _page(env, "supervisor", on=DAY, limit="3")
    assert len(page["items"]) == 3 and page["next_cursor"]
    rest = _page(env, "supervisor", on=DAY, limit="3", cursor=page["next_cursor"])
    assert rest["next_cursor"] is None
    assert [r["seq"] for r in page["items"] + rest["items"]] == [r["seq"] for r in everyone]
    again = _plan(env, tmp_path, ["C-2002"])
    assert again.returncode == 0, again.stderr
    stale = env.client.get("/v1/worklist", params={"on": DAY, "cursor": page["next_cursor"]},
                           headers=env.auth("supervisor"))
    assert stale.status_code == 409 and stale.headers["content-type"] == "application/problem+json"
    assert [r["customer_ref"] for r in _page(env, "supervisor", on=DAY)["items"]] == ["C-2002"]
    assert _page(env, "agent", on=DAY)["items"] == []


def test_a_day_without_a_plan_is_an_empty_page(env: Env) -> None:
    page = _page(env, "agent", on="2026-12-01")
    assert page == {"day": "2026-12-01", "plan_id": None, "planned_at": None,
                    "calendar_estimated": False, "items": [], "next_cursor": None}
    assert _page(env, "agent")["day"] == "2026-11-23"  # today, UTC, before any plan


def _cli(*args: str, key: str | None = None) -> Any:
    env = {"CALLSCRIPT_DATA_KEY": key} if key else {"CALLSCRIPT_DATA_KEY": ""}
    return CliRunner().invoke(cli, ["plan", *args], env=env)


def test_erasure_deletes_the_customers_planned_rows(env: Env, tmp_path: Path) -> None:
    customers = _customers(tmp_path, ["C-1001", "C-2002"])
    url = env.svc.engine.url.render_as_string(hide_password=False)
    done = _cli(str(customers), "--db", url, *_shared(tmp_path), "--on", DAY, key=env.keys[0])
    assert done.exit_code == 0, done.output
    assert len(_page(env, "supervisor", on=DAY)["items"]) == 2
    erased = env.client.delete("/v1/customers/C-1001/personal-data", headers=env.auth("supervisor"))
    assert erased.status_code == 200, erased.text
    assert [r["customer_ref"] for r in _page(env, "supervisor", on=DAY)["items"]] == ["C-2002"]


@pytest.mark.parametrize(("args", "message"), [
    (["--records", "r.jsonl", "--db", "sqlite:///x.db"], "--records and --db are two sources"),
    ([], "give -o WORKLIST"),
    (["--db", "sqlite:///missing.db"], "sqlite:///missing.db: no such database file"),
    (["--db", "nonsense://u:hunter2@h/db"], "not a database URL the service opens"),
    (["--db", "mysql://u:hunter2@h/db"], "mysql://u:***@h/db: not a database URL the service opens"),
    (["--db", "not a url"], "not a database URL"),
    (["--db", "postgresql://u:hunter2@127.0.0.1:1/db"], "cannot open the database"),
    (["--db", "postgresql://u@127.0.0.1:1/db?password=hunter2"], "?password=***: cannot open"),
    (["--db", "sqlite://"], "an in-memory database is not the service's"),
    (["--db", "sqlite:///:memory:"], "an in-memory database is not the service's"),
    (["--db", "sqlite:///svc.db?mode=ro"], "sqlite:///svc.db?mode=ro: a SQLite URL takes no options"),
])
def test_bad_db_arguments(tmp_path: Path, args: list[str], message: str,
                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    done = _cli(str(_customers(tmp_path, ["C-1001"])), *_shared(tmp_path), "--on", DAY, *args,
                key=new_key())
    assert done.exit_code == 2 and message in done.output, done.output
    assert "hunter2" not in done.output


def test_an_unmigrated_database_or_no_key_is_refused(tmp_path: Path) -> None:
    from sqlalchemy import create_engine, text

    path = tmp_path / "empty.db"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    engine.dispose()
    customers = str(_customers(tmp_path, ["C-1001"]))
    done = _cli(customers, "--db", f"sqlite:///{path}", *_shared(tmp_path), "--on", DAY,
                key=new_key())
    assert done.exit_code == 2 and "has no callscript schema" in done.output, done.output
    assert "callscript db upgrade" in done.output
    done = _cli(customers, "--db", f"sqlite:///{path}", *_shared(tmp_path), "--on", DAY)
    assert done.exit_code == 2 and "CALLSCRIPT_DATA_KEY is not set" in done.output, done.output


def test_rotate_key_re_encrypts_the_stored_contexts(env: Env, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from callscript.cli import main
    from callscript.store.crypto import KEY_VARIABLE, Cipher
    from callscript.store.tables import worklist

    url = env.svc.engine.url.render_as_string(hide_password=False)
    done = _cli(str(_customers(tmp_path, ["C-1001"])), "--db", url, *_shared(tmp_path), "--on", DAY,
                key=env.keys[0])
    assert done.exit_code == 0, done.output
    with env.svc.engine.connect() as conn:
        stored = conn.execute(worklist.select()).one().context
    assert CUSTOMER["phone"] not in stored and not stored.startswith("plain:")
    new = new_key()
    monkeypatch.setenv(KEY_VARIABLE, f"{new},{env.keys[0]}")
    assert main(["db", "rotate-key", "--db", url]) == 0
    with env.svc.engine.connect() as conn:
        rotated = conn.execute(worklist.select()).one().context
    assert CUSTOMER["phone"] in Cipher([new]).decrypt(rotated)  # the old key is no longer needed


def test_a_database_failing_while_read_is_named_without_a_traceback(tmp_path: Path) -> None:
    from sqlalchemy import text

    from callscript.store.crypto import Cipher
    from callscript.store.db import make_engine, upgrade
    from tests.service.conftest import add_users

    url = f"sqlite:///{tmp_path / 'broken.db'}"
    engine = make_engine(url)
    upgrade(engine)
    key = new_key()
    add_users(engine, Cipher([key]))  # the agents file's agents
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE follow_ups"))  # migrated, then damaged
    engine.dispose()
    done = _cli(str(_customers(tmp_path, ["C-1001"])), "--db", url, *_shared(tmp_path), "--on", DAY,
                key=key)
    assert done.exit_code == 2, done.output
    assert "broken.db: the database failed (OperationalError)" in done.output


def test_the_records_read_from_the_database(env: Env) -> None:
    """Ended, abandoned and live calls count; erased ones (no customer) do not; a follow-up
    marked done is no longer due."""
    from datetime import UTC, datetime

    from callscript.planner.database import records_from_db
    from tests.service.conftest import call_put_on_hold_too_long

    call_put_on_hold_too_long(env)  # C-1001: ends with a callback follow-up
    left = _start(env, "C-6006", "周", "13900006006")
    abandoned = env.client.post(f"/v1/calls/{left['id']}/abandon", headers={
        **env.auth("agent"), "If-Match": f'"{left["revision"]}"'})
    assert abandoned.status_code == 200, abandoned.text
    _start(env, "C-7007", "吴", "13900007007")
    walk_to_end(env, _start(env, "C-8008", "郑", "13900008008"), ["no_answer"])
    erased = env.client.delete("/v1/customers/C-8008/personal-data", headers=env.auth("supervisor"))
    assert erased.json() == {"calls": 1}

    def read() -> dict[str, tuple[str, Any]]:
        frame = records_from_db(env.svc.engine)(datetime(2026, 11, 1, tzinfo=UTC)).collect()
        assert frame.get_column("ended_at").dt.date().cast(str).to_list() == ["2026-11-23"] * 3
        return {r["customer_ref"]: (r["disposition"], r["follow_ups"])
                for r in frame.iter_rows(named=True)}

    found = read()
    assert set(found) == {"C-1001", "C-6006", "C-7007"}
    assert found["C-6006"] == ("abandoned", None) and found["C-7007"] == ("live", None)
    disposition, follow_ups = found["C-1001"]
    assert disposition == "callback_scheduled" and [f["kind"] for f in follow_ups] == ["callback"]
    assert records_from_db(env.svc.engine)(datetime(2026, 11, 24, tzinfo=UTC)).collect().height == 0
    item = env.client.get("/v1/follow-ups", headers=env.auth("agent")).json()["items"][0]
    done = env.client.post(f"/v1/follow-ups/{item['id']}/done", headers=env.auth("agent"))
    assert done.status_code == 200, done.text
    assert read()["C-1001"] == ("callback_scheduled", None)


def test_two_plans_of_a_day_at_once_leave_one_whole_plan(env: Env) -> None:
    from concurrent.futures import ThreadPoolExecutor
    from datetime import date

    from sqlalchemy import text

    from callscript.planner.inputs import InputError
    from tests.planner_support import store_plan

    day = date(2026, 11, 24)

    def plan(size: int) -> str:
        rows = [("A0107", {**CUSTOMER, "reference": f"C-{size}-{i}"}, "新开户客户15天内首次回访", 60,
                 "09:00", "12:00", 1) for i in range(size)]
        return store_plan(env.svc, day, rows)

    def attempt(size: int) -> str | None:
        try:
            return plan(size)
        except InputError as err:  # the later plan finished first: this one gave way
            assert "made later, was stored meanwhile" in str(err)
            return None

    with ThreadPoolExecutor(2) as pool:
        made = list(pool.map(attempt, [300, 500]))
    page = _page(env, "supervisor", on=str(day), limit="200")
    assert page["plan_id"] in made
    sizes = {made[0]: 300, made[1]: 500}
    seen = page["items"]
    while page["next_cursor"]:
        page = _page(env, "supervisor", on=str(day), limit="200", cursor=page["next_cursor"])
        seen += page["items"]
    assert len(seen) == sizes[page["plan_id"]]  # the rows of one plan, not a mix
    assert len({r["customer_ref"].split("-")[1] for r in seen}) == 1
    with env.svc.engine.connect() as conn:  # the other plan's rows are gone too
        left = conn.execute(text("SELECT count(*) FROM worklist")).scalar_one()
        assert left == sizes[page["plan_id"]]


def test_a_password_in_the_query_is_masked_like_one_in_the_user_part(env: Env, tmp_path: Path) -> None:
    from callscript.store.urls import shown_url

    assert shown_url("postgresql://postgres@host:5432/cs?password=pgpass") == \
        "postgresql://postgres@host:5432/cs?password=***"
    assert shown_url("postgresql://u:pgpass@host/cs") == "postgresql://u:***@host/cs"
    url = env.svc.engine.url.render_as_string(hide_password=False)
    url += ("&" if "?" in url else "?") + "password=pgpass"
    done = _cli(str(_customers(tmp_path, ["C-1001"])), "--db", url, *_shared(tmp_path), "--on", DAY,
                key=env.keys[0])
    assert "pgpass" not in done.output, done.output
    if env.svc.engine.dialect.name == "postgresql":  # the test server trusts its socket
        assert done.exit_code == 0 and "password=***" in done.output, done.output
    else:
        assert done.exit_code == 2 and "takes no options" in done.output, done.output


def _stored_plans(env: Env) -> int:
    from sqlalchemy import func, select

    from callscript.store.tables import worklist, worklist_plans

    with env.svc.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(worklist_plans)).scalar_one()
                   + conn.execute(select(func.count()).select_from(worklist)).scalar_one())


def test_dev_without_a_key_is_refused_where_the_data_is_encrypted(env: Env, tmp_path: Path) -> None:
    done = _cli(str(_customers(tmp_path, ["C-1001"])), "--db",
                env.svc.engine.url.render_as_string(hide_password=False), *_shared(tmp_path),
                "--on", DAY, "--dev")
    assert done.exit_code == 2, done.output
    assert "holds encrypted data" in done.output and "set CALLSCRIPT_DATA_KEY" in done.output
    assert _stored_plans(env) == 0


def test_dev_stores_in_the_clear_where_nothing_is_encrypted(tmp_path: Path) -> None:
    from callscript.store.crypto import Cipher
    from callscript.store.db import make_engine, upgrade
    from callscript.store.tables import worklist
    from tests.service.conftest import add_users

    url = f"sqlite:///{tmp_path / 'dev.db'}"
    engine = make_engine(url)
    upgrade(engine)
    add_users(engine, Cipher([]))  # as `serve --dev` stores them
    done = _cli(str(_customers(tmp_path, ["C-1001"])), "--db", url, *_shared(tmp_path), "--on", DAY,
                "--dev")
    assert done.exit_code == 0, done.output
    with engine.connect() as conn:
        assert conn.execute(worklist.select()).one().context.startswith("plain:")
    engine.dispose()


def test_a_key_that_decrypts_nothing_stored_is_refused(env: Env, tmp_path: Path) -> None:
    env.start()  # an encrypted call context too, besides the users' names
    done = _cli(str(_customers(tmp_path, ["C-1001"])), "--db",
                env.svc.engine.url.render_as_string(hide_password=False), *_shared(tmp_path),
                "--on", DAY, key=new_key())
    assert done.exit_code == 2, done.output
    assert "CALLSCRIPT_DATA_KEY does not decrypt this database's data" in done.output
    assert _stored_plans(env) == 0


def test_a_row_the_key_cannot_decrypt_is_a_documented_problem(env: Env) -> None:
    from datetime import date
    from types import SimpleNamespace

    from callscript.store.crypto import Cipher
    from tests.planner_support import store_plan

    other = SimpleNamespace(engine=env.svc.engine, cipher=Cipher([new_key()]))
    store_plan(other, date(2026, 11, 24), [("A0107", CUSTOMER, "新开户客户15天内首次回访", 60,
                                             "09:00", "12:00", 1)])
    response = env.client.get("/v1/worklist", params={"on": DAY}, headers=env.auth("agent"))
    assert response.status_code == 500
    assert response.json()["title"] == "Stored data cannot be decrypted"
    assert CUSTOMER["phone"] not in response.text
    documented = env.app.openapi()["paths"]["/v1/worklist"]["get"]["responses"]
    assert "Stored data cannot be decrypted" in documented["500"]["description"]


def test_agents_who_are_not_the_services_are_refused(env: Env, tmp_path: Path) -> None:
    args = _shared(tmp_path)
    (tmp_path / "agents.csv").write_text(
        "agent_id,name,phone,max_calls\nA0107,李娜,0571-86001234,10\nS1,张伟,0571-86005678,10\n"
        "A0999,陈静,0571-86005679,10\n", encoding="utf-8")
    done = _cli(str(_customers(tmp_path, ["C-1001"])), "--db",
                env.svc.engine.url.render_as_string(hide_password=False), *args, "--on", DAY,
                key=env.keys[0])
    assert done.exit_code == 2, done.output
    assert "agent_id A0999, S1: not an agent of the service" in done.output
    assert "callscript users add" in done.output and "李娜" not in done.output
    assert _stored_plans(env) == 0


def test_planning_a_past_day_into_the_service_warns(env: Env, tmp_path: Path) -> None:
    done = _cli(str(_customers(tmp_path, ["C-1001"])), "--db",
                env.svc.engine.url.render_as_string(hide_password=False), *_shared(tmp_path),
                "--on", "2026-11-02", key=env.keys[0])
    assert done.exit_code == 0, done.output
    assert "warning: 2026-11-02 is past" in done.output


@pytest.mark.parametrize("on", ["2026-11-27T00:00", "1796169600", "20261127", "2026-13-45",
                                "2026-02-30"])
def test_on_is_a_day_written_yyyy_mm_dd_and_nothing_else(env: Env, on: str) -> None:
    response = env.client.get("/v1/worklist", params={"on": on}, headers=env.auth("supervisor"))
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["query on"]


def test_an_empty_agent_or_a_cursor_of_a_day_without_a_plan_is_refused(env: Env) -> None:
    empty = env.client.get("/v1/worklist", params={"agent": ""}, headers=env.auth("supervisor"))
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "query agent"
    stale = env.client.get("/v1/worklist", params={"on": "2026-11-28",
                                                   "cursor": "0" * 32 + ".3"},
                           headers=env.auth("supervisor"))
    assert stale.status_code == 409 and stale.json()["errors"][0]["field"] == "cursor"
