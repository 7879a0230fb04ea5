"""ICMP RTT comes from the kernel's send and receive stamps: a busy event loop does not add to it.

The echo goes to 127.0.0.1, where the kernel answers within microseconds; the test blocks its
own loop right after each send, before the reply is read: icmplib's clock readings would then
report the stall, the kernel's stamps do not.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

import pytest
from icmplib.sockets import ICMPv4Socket

import monitor.probes.icmp_echo as icmp_echo
from monitor.probes.context import icmp_mode
from tests.support.probing import LOCALHOST, kernel_stamps_on, require_icmp

pytestmark = pytest.mark.timeout(20)

LOOP_STALL = 0.05  # blocked after each send, while the reply is already queued


class StallingSocket(ICMPv4Socket):
    """icmplib's socket, holding the caller for LOOP_STALL after every send."""

    def send(self, request: Any) -> None:
        super().send(request)
        time.sleep(LOOP_STALL)


async def _rtts(count: int = 3) -> list[float]:
    async with kernel_stamps_on():
        host = await icmp_echo.echo(
            LOCALHOST, StallingSocket, None, count, 0.01, 1.0, bool(icmp_mode())
        )
    assert host.packets_sent == count
    assert host.packets_received == count, "loopback answers every echo"
    return [rtt / 1000 for rtt in host.rtts]


async def test_rtt_is_the_kernels_even_when_the_loop_stalls():
    require_icmp()

    rtts = await _rtts()

    # Loopback RTT is tens of microseconds; a clock on the loop would report >= LOOP_STALL.
    assert all(0 < rtt < LOOP_STALL / 5 for rtt in rtts), rtts


async def test_without_kernel_stamps_the_rtt_falls_back_to_icmplibs_clock(monkeypatch):
    require_icmp()
    monkeypatch.setattr(icmp_echo, "send_stamps", lambda sock: False)
    monkeypatch.setattr(icmp_echo, "receive_stamps", lambda sock: False)

    rtts = await _rtts(count=1)

    assert rtts[0] >= LOOP_STALL * 0.9  # the stall is counted: what the stamps take away


async def test_a_send_stamp_alone_still_gives_a_sane_rtt(monkeypatch):
    """One end stamped, the other read off the clock: both are CLOCK_REALTIME, so they mix."""
    require_icmp()
    monkeypatch.setattr(icmp_echo, "receive_stamps", lambda sock: False)

    rtts = await _rtts(count=1)

    assert LOOP_STALL * 0.9 <= rtts[0] < LOOP_STALL + 0.05


async def test_an_address_that_never_answers_counts_as_lost():
    """No reply within the timeout: sent, not received; no exception, as icmplib."""
    require_icmp()
    host = await icmp_echo.echo("127.0.0.1", _Silent, None, 2, 0.01, 0.05, bool(icmp_mode()))
    assert (host.packets_sent, host.packets_received) == (2, 0)


class _Silent(ICMPv4Socket):
    """Sends echoes with another id than the one asked for: no reply ever matches."""

    def _create_packet(self, id: int, sequence: int, payload: bytes) -> bytes:
        return super()._create_packet((id + 1) % 65536, sequence, payload)


class RecordingSocket(ICMPv4Socket):
    """icmplib's socket, keeping the identifier of every request it sends."""

    sent_ids: ClassVar[list[int]] = []

    def send(self, request: Any) -> None:
        RecordingSocket.sent_ids.append(request.id)
        super().send(request)


async def test_the_burst_says_which_identifier_its_echoes_carried():
    """The bench's probe trace pairs each probe with its echoes on the wire by it (issue 18)."""
    require_icmp()
    RecordingSocket.sent_ids = []
    bursts = [
        await icmp_echo.echo(LOCALHOST, RecordingSocket, None, 2, 0.01, 1.0, bool(icmp_mode()))
        for _ in range(2)
    ]
    assert RecordingSocket.sent_ids == [bursts[0].ident] * 2 + [bursts[1].ident] * 2
    assert bursts[0].ident != bursts[1].ident
