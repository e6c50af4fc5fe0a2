"""uvicorn's HTTP protocol with TCP_NODELAY on every connection.

With `--workers` above 1, uvicorn binds the listening socket itself with
``socket.socket(family=…)``, whose ``proto`` is 0, and hands it to the workers.
asyncio sets TCP_NODELAY only on sockets whose ``proto`` is IPPROTO_TCP, so every
accepted connection kept Nagle's algorithm: a response written as headers then
body waited for the client's delayed ACK, 40 ms per request on Linux. Setting
the option where the connection is made removes that wait in every mode.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol

try:  # the fast parser, when installed (callscript[service] installs it)
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - httptools is a dependency of the service extra
    HttpToolsProtocol = None  # type: ignore[assignment,misc]


def no_delay(transport: asyncio.BaseTransport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):  # a connection already reset: nothing to tune
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class NoDelayH11(H11Protocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        no_delay(transport)
        super().connection_made(transport)


if HttpToolsProtocol is not None:
    class NoDelayHttpTools(HttpToolsProtocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            no_delay(transport)
            super().connection_made(transport)


def http_protocol() -> type[asyncio.Protocol]:
    """httptools when it is installed (several times faster than h11), else h11."""
    return NoDelayHttpTools if HttpToolsProtocol is not None else NoDelayH11
