"""A probe cut short by its deadline, at any step (connect, TLS handshake, request, answer),
leaves no socket or transport behind: a daemon probing every few seconds for months would run
out of descriptors, and a leaked transport is garbage-collected at a random later moment.

Each server here closes every connection it accepted, so whatever is still unclosed at the end
is the probe's."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import gc
import os
import socket
import ssl
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from monitor.config import Target
from monitor.probes.context import ProbeContext
from monitor.sim import TlsMaterial
from monitor.sim.port import Port
from tests.support.probing import dns_target, http_target, probe_once, tcp_target

# Deadlines around the servers' delays, so the cut lands in different steps from run to run.
DEADLINES = (0.02, 0.05, 0.08, 0.11, 0.14)
SERVER_DELAY = 0.08


class SlowServer:
    """Answers each request after SERVER_DELAY, or never (silent); with TLS if given. It keeps
    every connection open from its side and counts those the probe closed: a probe that
    forgot a connection leaves it counted as open."""

    def __init__(self) -> None:
        self.accepted = 0
        self.closed_by_probe = 0
        self.silent = False
        self._writers: list[asyncio.StreamWriter] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        self._writers.append(writer)
        try:
            await reader.read(4096)  # the request, or a TLS hello the server never answers
            if not self.silent:
                await asyncio.sleep(SERVER_DELAY)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            while await reader.read(4096):
                pass
        except (OSError, ssl.SSLError):
            pass  # a reset: the probe closed it
        self.closed_by_probe += 1

    @asynccontextmanager
    async def serving(self, tls: ssl.SSLContext | None, *, silent: bool) -> AsyncIterator[int]:
        self.silent = silent
        server = await asyncio.start_server(self.handle, "127.0.0.1", 0, ssl=tls)
        try:
            yield server.sockets[0].getsockname()[1]
            # Every connection the probes opened is closed by them, at once (they abort).
            for _ in range(100):
                if self.closed_by_probe == self.accepted:
                    break
                await asyncio.sleep(0.02)
            assert (self.accepted, self.closed_by_probe) == (self.accepted, self.accepted)
        finally:
            server.close()
            for writer in self._writers:
                writer.transport.abort()
            await asyncio.sleep(0)


def _open_sockets() -> int:
    """This process's open sockets (other descriptors come and go with the test runner)."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # the listing's own descriptor is gone by now
            count += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
    return count


async def _leaks_after(probes: AsyncIterator[None]) -> list[str]:
    """Run the probes, let every close finish, collect garbage: the ResourceWarnings left."""
    fds = _open_sockets()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        async for _ in probes:
            pass
        await asyncio.sleep(0.1)  # closes scheduled with call_soon run
        still_open = _open_sockets() - fds  # before the collector closes any
        gc.collect()
    leaks = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    return leaks + [f"{still_open} descriptors left open"] * (still_open > 0)


async def _cut_short(ctx: ProbeContext, target: Target) -> AsyncIterator[None]:
    for deadline in DEADLINES * 2:
        result = await probe_once(ctx, target, deadline)
        assert result.reason is not None or result.ok
        yield None


async def test_http_and_https_probes_cut_short_leave_nothing_open(tmp_path: Path) -> None:
    tls = TlsMaterial()
    ca = tls.write_ca(tmp_path / "ca.pem")
    ctx = ProbeContext()
    server = SlowServer()

    async def runs() -> AsyncIterator[None]:
        for scheme, silent in (("http", False), ("http", True), ("https", False), ("https", True)):
            server_tls = tls.server_context() if scheme == "https" else None
            async with server.serving(server_tls, silent=silent) as port:
                url = f"{scheme}://127.0.0.1:{port}/"
                async for step in _cut_short(ctx, http_target(url, tls_ca_file=ca)):
                    yield step
        # A TCP server that never speaks TLS: the handshake itself is cut short.
        async with server.serving(None, silent=True) as port:
            url = f"https://127.0.0.1:{port}/"
            async for step in _cut_short(ctx, http_target(url, tls_ca_file=ca)):
                yield step
        await ctx.close()

    assert await _leaks_after(runs()) == []
    assert server.accepted >= 40  # the cuts really landed on open connections


async def test_tcp_probes_cut_short_leave_nothing_open() -> None:
    ctx = ProbeContext()

    async def runs() -> AsyncIterator[None]:
        port = Port("127.0.0.1", 0, asyncio.Protocol)
        try:
            await port.blackhole()  # a full accept queue: the connect hangs until the deadline
            async for step in _cut_short(ctx, tcp_target(port.port)):
                yield step
        finally:
            port.close()
        await ctx.close()

    assert await _leaks_after(runs()) == []


async def test_dns_probes_cut_short_leave_nothing_open() -> None:
    ctx = ProbeContext()

    async def runs() -> AsyncIterator[None]:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:  # reads nothing
            silent.bind(("127.0.0.1", 0))
            port = silent.getsockname()[1]
            target = dns_target(f"127.0.0.1:{port}", "siak.example.")
            async for step in _cut_short(ctx, target):
                yield step
        await ctx.close()

    assert await _leaks_after(runs()) == []


async def _cyclic_garbage_of(probes: AsyncIterator[None]) -> collections.Counter[str]:
    """The probes' objects that only the cycle collector would free: run them with the
    collector keeping what it finds (`DEBUG_SAVEALL`), then count the wire clocks and probe
    sockets among it. The servers' own transports (plain sockets) are not counted."""
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        async for _ in probes:
            pass
        await asyncio.sleep(0.1)  # closes scheduled with call_soon run
        gc.collect()
        kept = collections.Counter(type(o).__name__ for o in gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    return collections.Counter({k: kept[k] for k in ("StampingSocket", "WireClock") if kept[k]})


async def test_http_probes_leave_no_garbage_cycle(tmp_path: Path) -> None:
    """Each probe's transport is freed when it closes, not by the cycle collector: on Python
    3.11 an asyncio socket transport refers to itself, and at 500 HTTP probes/s the full
    collections that cleaned up after them stalled the loop for 30-50 ms (transport_cycle.py)."""
    tls = TlsMaterial()
    ca = tls.write_ca(tmp_path / "ca.pem")
    ctx = ProbeContext()
    server = SlowServer()

    async def runs() -> AsyncIterator[None]:
        for scheme in ("http", "https"):
            server_tls = tls.server_context() if scheme == "https" else None
            async with server.serving(server_tls, silent=False) as port:
                target = http_target(f"{scheme}://127.0.0.1:{port}/", tls_ca_file=ca)
                for _ in range(5):
                    result = await probe_once(ctx, target, 2.0)
                    assert result.ok, result.message
                    yield None
                async for step in _cut_short(ctx, target):  # and cut short at any step
                    yield step
        await ctx.close()

    assert await _cyclic_garbage_of(runs()) == collections.Counter()
    # The 10 answered probes connected; so did some of the 20 cut short (not all of them on a
    # loaded machine, where the shortest deadlines can end before the connect: 27 of 30 seen).
    assert server.accepted > 10


async def test_a_refused_http_connect_leaves_no_garbage_cycle() -> None:
    """The connect's error is raised from the frame that held it and the socket: without
    dropping those locals, traceback -> frame -> error made a cycle around the socket."""
    ctx = ProbeContext()
    with socket.socket() as bound:  # bound, never listening: the connect is refused
        bound.bind(("127.0.0.1", 0))
        target = http_target(f"http://127.0.0.1:{bound.getsockname()[1]}/")

        async def runs() -> AsyncIterator[None]:
            for _ in range(3):
                result = await probe_once(ctx, target, 2.0)
                assert result.reason == "refused", result.message
                yield None
            await ctx.close()

        assert await _cyclic_garbage_of(runs()) == collections.Counter()
