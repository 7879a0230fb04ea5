"""DNS latency over UDP comes from the kernel's send and receive stamps of the query and answer.

The resolver answers from its own thread after a fixed delay; the test blocks its event loop
while the answer is on its way, so a stopwatch on the loop would report the stall.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator

import dns.message
import dns.rrset
import pytest

import monitor.probes.dns_wire as dns_wire
from tests.support.probing import dns_target, kernel_stamps_on, probe_context, probe_once

pytestmark = pytest.mark.timeout(20)

NAME = "siak.kemendagri.go.id"
SERVER_DELAY = 0.03  # the resolver's think time: the true round trip on loopback
LOOP_STALL = 0.15  # how long the test blocks its own loop while the answer is due


class SlowResolver:
    """Answers each UDP query SERVER_DELAY after it came, from a thread."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.address = f"127.0.0.1:{self.sock.getsockname()[1]}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                wire, peer = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(wire)
            response = dns.message.make_response(query)
            response.answer.append(
                dns.rrset.from_text(query.question[0].name, 60, "IN", "A", "10.20.0.5")
            )
            time.sleep(SERVER_DELAY)
            self.sock.sendto(response.to_wire(), peer)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


@pytest.fixture
def resolver() -> Iterator[SlowResolver]:
    server = SlowResolver()
    yield server
    server.close()


async def _probe_with_a_stalled_loop(resolver: SlowResolver):
    async with kernel_stamps_on(), probe_context() as ctx:
        # Blocked from +5 ms (query sent) to +155 ms: the answer comes at ~+30 ms.
        asyncio.get_running_loop().call_later(0.005, time.sleep, LOOP_STALL)
        return await probe_once(ctx, dns_target(resolver.address, NAME), deadline=2)


async def test_latency_is_the_wire_round_trip_even_when_the_loop_stalls(resolver):
    result = await _probe_with_a_stalled_loop(resolver)

    assert result.ok, result.message
    assert result.duration >= LOOP_STALL  # the stall really delayed the probe
    assert SERVER_DELAY * 0.9 <= result.latency < LOOP_STALL / 2  # a loop clock: >= LOOP_STALL


async def test_without_kernel_stamps_the_clock_at_the_read_counts_the_stall(resolver, monkeypatch):
    monkeypatch.setattr(dns_wire, "receive_stamps", lambda sock: False)
    monkeypatch.setattr(dns_wire, "send_stamps", lambda sock: False)

    result = await _probe_with_a_stalled_loop(resolver)

    assert result.ok, result.message
    assert result.latency >= LOOP_STALL * 0.9  # read when the loop got to it


async def test_the_socket_is_left_without_pending_stamps():
    """Send stamps drained at once: nothing left to raise EPOLLERR and spin the loop."""
    import select

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
        peer.bind(("127.0.0.1", 0))
        sock = await dns_wire.stamped_socket(socket.AF_INET, None, peer.getsockname())
        async with sock:
            await sock.sendto(b"query", None, None)
            assert sock.sent_ns is not None
            poller = select.poll()
            poller.register(sock.sock, select.POLLIN)
            assert poller.poll(0) == []
