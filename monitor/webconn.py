"""Connection deadlines for the daemon's HTTP server: no client holds a connection it does not use.

A server alone keeps a connection whose request head arrives a byte at a time (slowloris) for as
long as bytes come, and one whose reader stopped reading (or vanished without a FIN) for as long
as the response waits in the send buffer. Each accepted connection is watched here, through a
thin protocol in front of the server's (monitor/httpserver.py), and closed when:

- its request head is not complete `header_timeout` after the connection opened or after the
  first byte of the next request arrived (slowloris, a silent new connection; TLS handshakes
  get the same limit);
- no new request starts within `idle_timeout` of the last response (keep-alive idle, and a
  peer that vanished: nothing to send, nothing received);
- a response makes no progress for `write_timeout` (a client that stopped reading, or a peer
  that vanished with data in flight): aborted, its buffered bytes freed.

A client that sends its request and then half-closes (FIN) still gets its answer; the
connection closes once the answer is out.

One timer for all connections checks them a few times per the shortest deadline.
"""

from __future__ import annotations

import asyncio
import fcntl
import socket
import struct
import termios
from collections.abc import Callable

# struct tcp_info (linux/tcp.h): tcpi_bytes_acked, a u64 at offset 120 (Linux 4.1+), counts what
# the peer has acknowledged: the one sign that a response really moves. The size of the write
# buffer alone is not: it also grows while a handler adds events nobody reads.
_BYTES_ACKED = struct.Struct("=Q")
_ACKED_OFFSET, _TCP_INFO_LEN = 120, 128


_INT = struct.Struct("i")


def _kernel_progress(transport: asyncio.BaseTransport) -> tuple[int, int | None]:
    """(bytes in the kernel's send queue not yet acknowledged, bytes acknowledged so far)."""
    sock = transport.get_extra_info("socket")
    if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return 0, None
    try:
        queued = _INT.unpack(fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, bytes(4)))[0]
        info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, _TCP_INFO_LEN)
    except (OSError, AttributeError, ValueError):
        return 0, None
    if len(info) < _TCP_INFO_LEN:
        return queued, None
    return queued, int(_BYTES_ACKED.unpack_from(info, _ACKED_OFFSET)[0])


class _Watched(asyncio.Protocol):
    """Stands in front of one server connection and records what it does."""

    __slots__ = ("_guard", "busy", "eof", "head_since", "idle_since", "inner", "last_acked",
                 "last_size", "moved", "served", "transport")  # fmt: skip

    def __init__(self, guard: ConnectionGuard, inner: asyncio.Protocol) -> None:
        self._guard = guard
        self.inner = inner
        self.transport: asyncio.Transport | None = None
        self.busy = 0  # requests inside a handler now
        self.served = 0
        self.eof = False  # the client half-closed: it sends no more, but may wait for an answer
        self.head_since: float | None = None  # first byte of a request head not yet handled
        self.idle_since = 0.0
        self.last_size = 0  # the transport's write buffer at the last check
        self.last_acked: int | None = None  # the kernel's count of bytes the peer acknowledged
        self.moved = 0.0  # when the write buffer last changed or was empty

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        now = self._guard.now()
        self.transport = transport  # type: ignore[assignment]
        self.head_since = self.idle_since = self.moved = now  # a new connection owes a head
        self._guard.add(self)
        self.inner.connection_made(transport)
        self._guard.admit(self)

    def data_received(self, data: bytes) -> None:
        if self.busy == 0 and self.head_since is None:
            self.head_since = self._guard.now()
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        keep_open = self.inner.eof_received()
        transport = self.transport
        if transport is None or transport.get_extra_info("sslcontext") is not None:
            return keep_open  # asyncio closes TLS on EOF whatever we answer
        if self.busy or self.head_since is not None:
            # `printf 'GET /healthz HTTP/1.0\r\n\r\n' | nc -N`: a request, then FIN. asyncio
            # would close at once and the answer is lost; keep the sending half open: the
            # server closes once the answer is out (the sweep's "eof" rule backs it up).
            self.eof = True
            return True
        return keep_open

    def connection_lost(self, exc: Exception | None) -> None:
        self._guard.remove(self)
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()

    def request_started(self) -> None:
        self.busy += 1
        self.head_since = None

    def request_done(self) -> None:
        self.busy -= 1
        self.served += 1
        self.idle_since = self._guard.now()


class ConnectionGuard:
    """Watches every connection of one listener; see the module docstring for the rules."""

    def __init__(
        self,
        header_timeout: float,
        idle_timeout: float,
        write_timeout: float,
        max_connections: int = 0,
    ) -> None:
        self.header_timeout = header_timeout
        self.idle_timeout = idle_timeout
        self.write_timeout = write_timeout
        self.max_connections = max_connections  # 0: no limit
        self.tick = min(max(min(header_timeout, idle_timeout, write_timeout) / 4, 0.02), 1.0)
        self._open: dict[asyncio.Protocol, _Watched] = {}  # the server's connection -> watcher
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # connections ended, by rule ("limit": evicted or refused at max_connections)
        self.closed = {"header": 0, "idle": 0, "write": 0, "eof": 0, "limit": 0}
        self.dropped_bytes = 0  # response bytes thrown away with stalled connections

    @property
    def open_connections(self) -> int:
        return len(self._open)

    def now(self) -> float:
        assert self._loop is not None
        return self._loop.time()

    def factory(self, make: Callable[[], asyncio.Protocol]) -> Callable[[], asyncio.Protocol]:
        """Wrap the server's protocol factory so each connection is watched."""
        return lambda: _Watched(self, make())

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._timer = loop.call_later(self.tick, self._sweep)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def add(self, watched: _Watched) -> None:
        self._open[watched.inner] = watched

    def remove(self, watched: _Watched) -> None:
        self._open.pop(watched.inner, None)

    def admit(self, new: _Watched) -> None:
        """Above max_connections, the connection idle or dribbling the longest makes room (a
        scrape gets in during a slowloris flood); if every other one is busy, the new one goes.
        """
        if not self.max_connections or len(self._open) <= self.max_connections:
            return
        waiting = [w for w in self._open.values()
                   if w is not new and not w.busy and w.transport is not None
                   and not w.transport.get_write_buffer_size()]  # fmt: skip
        victim = min(waiting, key=_since, default=new)
        self.closed["limit"] += 1
        self.remove(victim)
        if victim.transport is not None:
            victim.transport.close()

    def started(self, protocol: asyncio.Protocol) -> None:
        """A request is inside a handler: only the write rule applies meanwhile."""
        watched = self._open.get(protocol)
        if watched is not None:
            watched.request_started()

    def done(self, protocol: asyncio.Protocol) -> None:
        watched = self._open.get(protocol)
        if watched is not None:
            watched.request_done()

    def _sweep(self) -> None:
        assert self._loop is not None
        now = self._loop.time()
        for watched in list(self._open.values()):
            rule = self._broken_rule(watched, now)
            if rule is None:
                continue
            self.closed[rule] += 1
            transport = watched.transport
            if transport is not None and rule == "write":
                self.dropped_bytes += transport.get_write_buffer_size()
                transport.abort()  # its buffer dropped: nobody will read it
            elif transport is not None:
                transport.close()
            self.remove(watched)
        self._timer = self._loop.call_later(self.tick, self._sweep)

    def _broken_rule(self, w: _Watched, now: float) -> str | None:
        transport = w.transport
        size = transport.get_write_buffer_size() if transport is not None else 0
        pending = size
        if transport is not None and (w.busy or size):
            # The kernel may hold a stalled response too (its send buffer grows to MBs): what
            # counts is whether the peer acknowledges anything.
            queued, acked = _kernel_progress(transport)
            pending += queued
            if acked is not None and acked != w.last_acked:
                w.moved = now
                w.last_acked = acked
        if pending == 0 or size < w.last_size:
            w.moved = now
        w.last_size = size
        if pending and now - w.moved >= self.write_timeout:
            return "write"
        if w.busy or size:
            return None
        if w.eof and w.head_since is None:
            return "eof"  # answered a client that had half-closed: nothing more will come
        if w.head_since is not None:
            return "header" if now - w.head_since >= self.header_timeout else None
        return "idle" if now - w.idle_since >= self.idle_timeout else None


def _since(w: _Watched) -> float:
    return w.head_since if w.head_since is not None else w.idle_since
