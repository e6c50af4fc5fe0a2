"""Every connection of `serve` has TCP_NODELAY, also on the socket `--workers` binds.

uvicorn binds that socket with ``socket.socket(family=…)`` (``proto`` 0), on which
asyncio does not set TCP_NODELAY: each response then waited for the client's delayed
ACK, 40 ms a request with two workers. The protocol `serve` gives uvicorn sets it.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

import pytest
import uvicorn
from uvicorn.server import ServerState

from callscript.service.protocol import NoDelayH11, http_protocol


async def _app(scope: object, receive: object, send: object) -> None:  # never called
    raise AssertionError


def _server_side_no_delay(make: Callable[[], asyncio.Protocol]) -> int:
    """TCP_NODELAY on the server's side of a connection, once ``make()``'s protocol has it."""

    async def run() -> int:
        loop = asyncio.get_running_loop()
        made: asyncio.Future[int] = loop.create_future()

        class Watched(asyncio.Protocol):
            def __init__(self) -> None:
                self.inner = make()

            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                self.inner.connection_made(transport)
                sock = transport.get_extra_info("socket")
                made.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

            def connection_lost(self, exc: Exception | None) -> None:
                self.inner.connection_lost(exc)

        listening = socket.socket(family=socket.AF_INET)  # as uvicorn binds for --workers
        listening.bind(("127.0.0.1", 0))
        assert listening.proto == 0
        server = await loop.create_server(Watched, sock=listening)
        _reader, writer = await asyncio.open_connection(*listening.getsockname())
        try:
            return await asyncio.wait_for(made, 5)
        finally:
            writer.close()
            server.close()

    return asyncio.run(run())


def test_asyncio_leaves_nagle_on_for_such_a_socket() -> None:
    # the cause, kept as a test: if asyncio ever sets it, protocol.py can go
    assert _server_side_no_delay(asyncio.Protocol) == 0


@pytest.mark.parametrize("name", ["httptools", "h11"])
def test_the_served_protocol_turns_nagle_off(name: str) -> None:
    config = uvicorn.Config(_app, http=name)
    config.load()
    state = ServerState()
    protocol = http_protocol() if name == "httptools" else NoDelayH11
    assert protocol.__name__ != "H11Protocol"
    assert _server_side_no_delay(lambda: protocol(config=config, server_state=state, app_state={})) == 1
