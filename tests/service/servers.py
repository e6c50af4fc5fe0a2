"""`callscript serve` as real processes for the race, fault and webhook tests.

A served database gets one agent (through `callscript users add`, as an operator
would) and the telecom deployment file; `Served` starts, stops and kills workers.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from callscript.store.crypto import KEY_VARIABLE, new_key
from tests.service.conftest import CUSTOMER, DEPLOYMENT

CLI = [sys.executable, "-m", "callscript"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Served:
    """A `serve` process (its uvicorn supervisor) with its workers, on one port."""

    db_url: str
    folder: Path
    workers: int = 2
    extra: Sequence[str] = ()
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[str] | None = None
    token: str = ""

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def add_agent(self, name: str = "A1") -> str:
        added = subprocess.run([*CLI, "users", "add", name, "--role", "agent", "--display-name",
                                "李娜", "--phone", "0571-86001234", "--db", self.db_url],
                               env=self.env, capture_output=True, text=True, check=True)
        return added.stdout.splitlines()[-1]

    def start(self) -> None:
        deployment = self.folder / "deployment.yaml"
        deployment.write_text(yaml.safe_dump(DEPLOYMENT, allow_unicode=True), encoding="utf-8")
        self.proc = subprocess.Popen(
            [*CLI, "serve", "--db", self.db_url, "--workers", str(self.workers), "--port",
             str(self.port), "--deployment", str(deployment), *self.extra],
            env=self.env, stdout=subprocess.DEVNULL, stderr=(self.folder / "serve.log").open("a"),
            text=True)
        self.wait_healthy()

    def wait_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.base_url, timeout=5) as client:
            while True:
                assert self.proc is not None and self.proc.poll() is None, self.log()
                with contextlib.suppress(httpx.TransportError):
                    if client.get("/healthz").status_code == 200 and (
                            len(self.worker_pids()) == self.workers or self.workers == 1):
                        return
                assert time.monotonic() < deadline, "serve did not come up:\n" + self.log()
                time.sleep(0.1)

    def log(self) -> str:
        path = self.folder / "serve.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def worker_pids(self) -> list[int]:
        """uvicorn's worker processes: the supervisor's children that run spawn_main."""
        assert self.proc is not None
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == self.proc.pid and b"spawn_main" in cmdline:
                found.append(int(entry.name))
        return sorted(found)

    def busiest_worker(self) -> int:
        """The worker holding the most client connections on our port (a kill that hits
        no connection proves nothing; the kernel may give one worker all of them)."""
        established = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with contextlib.suppress(OSError):
                for line in Path(table).read_text().splitlines()[1:]:
                    fields = line.split()
                    if int(fields[1].rsplit(":", 1)[1], 16) == self.port and fields[3] == "01":
                        established.add(fields[9])  # the socket's inode

        def held(pid: int) -> int:
            count = 0
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    link = os.readlink(fd)
                    count += link.startswith("socket:[") and link[8:-1] in established
            return count

        return max(self.worker_pids(), key=held)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@contextlib.contextmanager
def serving(db_url: str, folder: Path, workers: int = 2, extra: Sequence[str] = (),
            env: dict[str, str] | None = None) -> Iterator[Served]:
    served = Served(db_url, folder, workers, extra,
                    {**os.environ, KEY_VARIABLE: new_key(), **(env or {})})
    served.token = served.add_agent()
    served.start()
    try:
        yield served
    finally:
        served.stop()


def race(base_url: str, n: int, send: Callable[[httpx.Client, int], httpx.Response]
         ) -> list[httpx.Response]:
    """n requests released at once from n threads, each on its own connection (so the
    kernel spreads them over the workers)."""
    barrier = threading.Barrier(n)
    results: list[httpx.Response | None] = [None] * n

    def run(i: int) -> None:
        with httpx.Client(base_url=base_url, timeout=60) as client:
            client.get("/healthz")  # connected before the start line
            barrier.wait()
            results[i] = send(client, i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    assert all(r is not None for r in results)
    return [r for r in results if r is not None]


def start_call(client: httpx.Client, served: Served, **headers: str) -> Any:
    response = client.post("/v1/calls", json={"flow": "first_visit",
                                              "context": {"customer": CUSTOMER}},
                           headers={**served.auth(), **headers})
    assert response.status_code == 201, response.text
    return response.json()
