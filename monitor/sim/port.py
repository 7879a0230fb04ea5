"""One TCP port that can serve, refuse (closed) or black-hole (full accept queue), and come back.

The port number stays reserved while refusing: a bound socket that does not listen answers a SYN
with a reset (connection refused) and keeps any other program from taking the port meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import Callable

FILLER_WAIT = 0.05  # a connect that has not completed by then is stuck in the full queue


def bind_socket(
    host: str, port: int, kind: socket.SocketKind = socket.SOCK_STREAM
) -> socket.socket:
    """A non-blocking socket bound to host:port (0 = ephemeral), SO_REUSEADDR, not listening."""
    family, type_, proto, _, address = socket.getaddrinfo(
        host, port, type=kind, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, type_, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


class Port:
    """A listening port whose state switches at runtime between serve / refuse / blackhole."""

    def __init__(
        self,
        host: str,
        port: int,
        factory: Callable[[], asyncio.BaseProtocol],
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host = host
        self._factory = factory
        self._ssl = ssl_context
        self._bound: socket.socket | None = bind_socket(host, port)
        self.port: int = self._bound.getsockname()[1]
        self._server: asyncio.Server | None = None
        self._fillers: list[socket.socket] = []
        self.accepted = 0  # TCP connections handed to the protocol factory

    def _counted(self) -> asyncio.BaseProtocol:
        self.accepted += 1
        return self._factory()

    def _socket(self) -> socket.socket:
        sock, self._bound = self._bound or bind_socket(self.host, self.port), None
        return sock

    async def serve(self) -> None:
        """Listen and accept: connections reach the protocol."""
        if self._server is not None:
            return
        self._release()
        sock = self._socket()
        sock.listen(128)
        self._server = await asyncio.get_running_loop().create_server(
            self._counted, sock=sock, ssl=self._ssl
        )

    def refuse(self) -> None:
        """Close the listener: connects are refused. Established connections stay."""
        self._stop_serving()
        self._release()
        if self._bound is None:
            self._bound = bind_socket(self.host, self.port)

    async def blackhole(self) -> None:
        """Listen without accepting and fill the queue: new SYNs are dropped, connects hang."""
        self._stop_serving()
        self._release()
        sock = self._socket()
        sock.listen(0)
        self._bound = sock  # kept (listening) until the next state change
        loop = asyncio.get_running_loop()
        for _ in range(8):
            filler = socket.socket(sock.family, socket.SOCK_STREAM)
            filler.setblocking(False)
            self._fillers.append(filler)
            try:
                async with asyncio.timeout(FILLER_WAIT):
                    await loop.sock_connect(filler, sock.getsockname()[:2])
            except TimeoutError:
                return  # the queue is full
        raise RuntimeError(f"could not fill the accept queue of port {self.port}")

    def close(self) -> None:
        """Release the port entirely."""
        self._stop_serving()
        self._release()
        if self._bound is not None:
            self._bound.close()
            self._bound = None

    def _stop_serving(self) -> None:
        if self._server is not None:
            # close() shuts the listening socket now; wait_closed() would also wait for peers.
            self._server.close()
            self._server = None

    def _release(self) -> None:
        """Drop the black hole (fillers and its listening socket) or the placeholder."""
        for filler in self._fillers:
            filler.close()
        self._fillers.clear()
        if self._bound is not None and _is_listening(self._bound):
            self._bound.close()
            self._bound = None


def _is_listening(sock: socket.socket) -> bool:
    with contextlib.suppress(OSError):
        return bool(sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN))
    return False
