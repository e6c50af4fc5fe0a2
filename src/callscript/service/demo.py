"""`make demo`'s service part: one call through `callscript serve` on its SQLite default.

Starts the service in a temporary folder (so its callscript.db lands there) with a
deployment file (the hotline and service centre the agent says), adds an agent, drives
the first-visit sample call over HTTP with httpx, prints the dialogue and the record's
disposition, and stops the service, whatever happens.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from callscript.demo import DEPLOYMENT, SAMPLES


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _cli(*args: str, cwd: Path) -> str:
    done = subprocess.run([sys.executable, "-m", "callscript", *args], cwd=cwd, check=True,
                          capture_output=True, text=True)
    return done.stdout


def _wait_until_up(client: httpx.Client, server: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the service stopped while starting")
        try:
            if client.get("/healthz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the service did not answer within 30 s")


def _show(prompt: dict[str, Any]) -> None:
    for note in prompt["notes"]:
        print(f"          ({note})")
    for line in prompt["lines"]:
        print(f"  客户经理: {line}")


def drive(client: httpx.Client) -> dict[str, Any]:
    """The first-visit sample, turn by turn, each with If-Match and an Idempotency-Key."""
    sample = next(s for s in SAMPLES if s.flow == "first_visit")
    given = {part: values for part, values in sample.context.items()  # the service fills
             if part not in ("agent", "deployment")}                 # agent and deployment
    started = client.post("/v1/calls", json={"flow": sample.flow, "context": given})
    started.raise_for_status()
    call: dict[str, Any] = started.json()
    print(f"POST /v1/calls -> 201, call {call['id']} revision {call['revision']}")
    _show(call["prompt"])
    bodies: list[dict[str, Any]] = []
    for turn in sample.turns:
        if turn.kind == "hold":
            bodies += [{"type": "hold"}, {"type": "resume"}]
        elif turn.kind == "interrupt":
            bodies.append({"type": "interrupt", "interruption": turn.id})
        else:
            bodies.append({"type": "answer", "answer": turn.id, "captures": turn.captures})
    for body in bodies:
        print(f"  -> {body['type']} {body.get('answer') or body.get('interruption') or ''}")
        response = client.post(f"/v1/calls/{call['id']}/turns", json=body, headers={
            "If-Match": f'"{call["revision"]}"',
            "Idempotency-Key": f"{call['id']}-{call['revision']}"})
        response.raise_for_status()
        call = response.json()
        _show(call["prompt"])
    print(f"call {call['status']} at revision {call['revision']}: {call['disposition']}")
    return call


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="callscript-serve-demo-") as folder:
        cwd = Path(folder)
        token = _cli("users", "add", "A0107", "--role", "agent", "--display-name", "李娜",
                     "--phone", "0571-86001234", "--dev", cwd=cwd).splitlines()[-1]
        deployment = cwd / "deployment.yaml"
        deployment.write_text(yaml.safe_dump({"deployment": DEPLOYMENT}, allow_unicode=True),
                              encoding="utf-8")
        port = _free_port()
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        print(f"=== callscript serve --dev --deployment deployment.yaml --port {port} "
              f"(SQLite: {cwd}/callscript.db) ===")
        server = subprocess.Popen([sys.executable, "-m", "callscript", "serve", "--dev",
                                   "--deployment", str(deployment), "--port", str(port)],
                                  cwd=cwd, env=env, text=True,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30,
                              headers={"Authorization": f"Bearer {token}"}) as client:
                _wait_until_up(client, server)
                call = drive(client)
                record = client.get(f"/v1/calls/{call['id']}/record").json()
                print(f"record: {len(record['path'])} steps, disposition "
                      f"{record['disposition']['id']} ({record['disposition']['code']}), "
                      f"{len(record['follow_ups'])} follow-ups")
        finally:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
