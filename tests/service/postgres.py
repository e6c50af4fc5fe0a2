"""A throw-away PostgreSQL server from Debian's `postgresql` package, in a temporary folder.

PostgreSQL refuses to run as root: as root the server runs as the `postgres` user the
package creates (through runuser); otherwise as the current user. It listens on a
Unix socket only, so it needs no free port and is reachable from this machine alone.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PORT = 5499  # only names the socket file: nothing listens on TCP


def binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _as_server_user(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


class Server:
    """A running throw-away server that a fault test may stop and start again."""

    def __init__(self, root: Path, durable: bool = False) -> None:
        self.durable = durable  # flush every commit to disk, as a production server does
        bin_dir = binaries()
        assert bin_dir is not None
        self.root, self.bin_dir = root, bin_dir
        self.data, self.sockets = root / "data", root / "sockets"
        self.url = f"postgresql://postgres@/postgres?host={self.sockets}&port={PORT}"

    def _pg_ctl(self, *args: str, check: bool = True) -> None:
        subprocess.run(_as_server_user([str(self.bin_dir / "pg_ctl"), "-D", str(self.data),
                                        "-w", *args]),
                       check=check, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self) -> None:
        options = f"-k {self.sockets} -p {PORT} -c listen_addresses='' -c max_connections=200"
        if not self.durable:  # tests need no crash safety: faster
            options += " -c fsync=off -c synchronous_commit=off"
        self._pg_ctl("-l", str(self.root / "server.log"), "-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        """`fast` rolls back open transactions and closes every connection, as a restart does."""
        self._pg_ctl("-m", mode, "stop", check=mode != "immediate")


@contextmanager
def running_server(durable: bool = False) -> Iterator[Server]:
    """Start a server; yield it; stop and delete it after."""
    root = Path(tempfile.mkdtemp(prefix="callscript-pg-"))
    server = Server(root, durable)
    server.sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(server.sockets, "postgres")
    try:
        subprocess.run(_as_server_user([str(server.bin_dir / "initdb"), "-D", str(server.data),
                                        "-U", "postgres", "--auth=trust", "-E", "UTF8",
                                        "--no-sync"]),
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        server.start()
        yield server
    finally:
        server.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def temporary_server() -> Iterator[str]:
    """Start a server; yield the admin URL (database `postgres`); stop and delete it after."""
    with running_server() as server:
        yield server.url
