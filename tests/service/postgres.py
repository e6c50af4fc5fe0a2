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


@contextmanager
def temporary_server() -> Iterator[str]:
    """Start a server; yield the admin URL (database `postgres`); stop and delete it after."""
    bin_dir = binaries()
    assert bin_dir is not None
    root = Path(tempfile.mkdtemp(prefix="callscript-pg-"))
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
    run = {"check": True, "stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE}
    try:
        subprocess.run(_as_server_user([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres",
                                        "--auth=trust", "-E", "UTF8", "--no-sync"]), **run)
        options = (f"-k {sockets} -p {PORT} -c listen_addresses='' -c fsync=off "
                   "-c max_connections=200 -c synchronous_commit=off")
        subprocess.run(_as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-w", "-l",
                                        str(root / "server.log"), "-o", options, "start"]), **run)
        yield f"postgresql://postgres@/postgres?host={sockets}&port={PORT}"
    finally:
        subprocess.run(_as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-w", "-m",
                                        "immediate", "stop"]),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        shutil.rmtree(root, ignore_errors=True)
