"""The service as processes: imported lazily, serving from several workers on PostgreSQL,
and sweeping idle calls on its own."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import yaml

from callscript.service import operations
from callscript.service.app import _sweeper
from callscript.store.crypto import KEY_VARIABLE, new_key
from tests.service.conftest import CUSTOMER, DEPLOYMENT, Env

HEAVY = ("fastapi", "sqlalchemy", "alembic", "uvicorn", "cryptography", "callscript.service",
         "callscript.store")


def test_import_callscript_and_its_cli_leave_the_service_unloaded() -> None:
    code = ("import sys, callscript, callscript.cli.app; callscript.builtin_flows(); "
            f"print([m for m in sys.modules if m.startswith({HEAVY!r})])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_two_workers_share_one_postgresql(postgres_admin_url: str, tmp_path: Path) -> None:
    from tests.service.conftest import _fresh_postgres

    url = _fresh_postgres(postgres_admin_url)
    env = {**os.environ, KEY_VARIABLE: new_key()}
    cli = [sys.executable, "-m", "callscript"]
    added = subprocess.run([*cli, "users", "add", "A1", "--role", "agent", "--display-name", "李娜",
                            "--phone", "0571-86001234", "--db", url],
                           env=env, capture_output=True, text=True, check=True)
    token = added.stdout.splitlines()[-1]
    deployment = tmp_path / "deployment.yaml"
    deployment.write_text(yaml.safe_dump(DEPLOYMENT, allow_unicode=True), encoding="utf-8")
    port = _free_port()
    server = subprocess.Popen([*cli, "serve", "--db", url, "--workers", "2", "--port", str(port),
                               "--deployment", str(deployment)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30,
                          headers={"Authorization": f"Bearer {token}"}) as client:
            deadline = time.monotonic() + 60
            while True:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                with contextlib.suppress(httpx.TransportError):
                    if client.get("/healthz").status_code == 200:
                        break
                assert time.monotonic() < deadline, "serve did not come up"
                time.sleep(0.2)
            started = client.post("/v1/calls", json={"flow": "first_visit",
                                                     "context": {"customer": CUSTOMER}})
            assert started.status_code == 201, started.text
            call = started.json()
            revisions = []
            for answer in ("answered", "confirmed", "no_time"):
                # new connections, so the kernel spreads them over both workers
                with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as fresh:
                    response = fresh.post(f"/v1/calls/{call['id']}/turns", headers={
                        "Authorization": f"Bearer {token}", "If-Match": str(call["revision"])},
                        json={"type": "answer", "answer": answer})
                assert response.status_code == 200, response.text
                call = response.json()
                revisions.append(call["revision"])
            assert revisions == [2, 3, 4] and call["prompt"]["step"] == "busy.ask_time"
    finally:
        server.terminate()
        server.wait(20)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_sweeper_expires_idle_calls_by_itself(env: Env) -> None:
    call = env.start()
    env.clock.now += env.svc.expire_after + timedelta(minutes=1)

    async def sweep_briefly() -> None:
        task = asyncio.create_task(_sweeper(env.svc, every=0.01))
        for _ in range(500):
            await asyncio.sleep(0.01)
            if env.client.get(f"/v1/calls/{call['id']}",
                              headers=env.auth("agent")).json()["status"] == "expired":
                break
        task.cancel()

    asyncio.run(sweep_briefly())
    assert env.client.get(f"/v1/calls/{call['id']}", headers=env.auth("agent")).json()[
        "status"] == "expired"
    assert operations.expire_idle(env.svc) == 0
