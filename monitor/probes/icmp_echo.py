"""ICMP echoes timed by the kernel: icmplib's sockets and packets, the kernel's stamps at both ends.

icmplib times an echo with `time()` before `sendto()` and `time()` when the loop gets to the
reply, so its RTT includes the event loop's backlog (milliseconds on a busy daemon). This is
icmplib's own `async_ping` loop (same sockets, same packets, same id/sequence matching and
`raise_for_status`, same privileged/unprivileged modes) with one change: the socket asks for
the kernel's send stamp of each request (error queue, keyed by send number) and its receive
stamp of each reply (`SO_TIMESTAMPNS`), and the RTT is their difference. Either stamp missing:
icmplib's clock reading for that end.
"""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

import icmplib
from icmplib import ICMPReply, ICMPRequest
from icmplib.exceptions import ICMPSocketError, TimeoutExceeded
from icmplib.utils import unique_identifier

from monitor.probes.kstamp import RX_ANCILLARY, drain_tx, receive_stamps, rx_stamp, send_stamps

_BUFFER = 1024  # icmplib's own read size


class _Stamps:
    """What the kernel told us about one socket's echoes: send stamps by send number."""

    __slots__ = ("rx", "sent", "tx")

    def __init__(self, sock: socket.socket) -> None:
        self.rx = receive_stamps(sock)
        self.tx = send_stamps(sock)  # EVERY_SEND: each echo request stamped, keyed 0, 1, ...
        self.sent: dict[int, int] = {}

    def drain(self, sock: socket.socket) -> None:
        if self.tx:
            self.sent.update(drain_tx(sock))


class Burst(icmplib.Host):
    """icmplib's Host, and the identifier the burst's requests carried (the benchmark's probe
    trace pairs each probe with its echoes on the wire by it)."""

    def __init__(self, address: str, sent: int, rtts: list[float], ident: int) -> None:
        super().__init__(address, sent, rtts)
        self.ident = ident


async def echo(
    address: str,
    kind: type[Any],
    source: str | None,
    count: int,
    interval: float,
    timeout: float,
    privileged: bool,
) -> Burst:
    """`count` echoes to the IP `address`, `interval` apart, each waiting `timeout` for its reply.

    `kind` is icmplib's ICMPv4Socket or ICMPv6Socket, or a subclass (bound to a device);
    `source` the local address to send from. icmplib's exceptions are raised as icmplib does.
    """
    loop = asyncio.get_running_loop()
    ident = unique_identifier()
    rtts: list[float] = []
    sent = 0
    icmp = kind(source, privileged)
    try:
        sock: socket.socket = icmp.sock
        sock.setblocking(False)
        stamps = _Stamps(sock)
        for sequence in range(count):
            if sequence:
                await asyncio.sleep(interval)
            request = ICMPRequest(destination=address, id=ident, sequence=sequence)
            try:
                icmp.send(request)  # builds the packet, stamps request.time, sendto()
                sent += 1
                stamps.drain(sock)  # on loopback and veth the stamp is already there
                reply, arrived = await _reply(loop, icmp, sock, request, timeout, stamps)
                reply.raise_for_status()
            except icmplib.ICMPLibError:
                continue
            departed = stamps.sent.pop(sent - 1, None)
            if departed and departed < request.time * 1e9 - 1000:
                departed = None  # before the clock read that preceded this send: not its stamp
            if departed and arrived:  # in integer ns: a float of ~1.8e9 s holds only ~0.2 us
                rtts.append((arrived - departed) / 1e6)
                continue
            start = departed / 1e9 if departed else request.time
            end = arrived / 1e9 if arrived else reply.time
            rtts.append((end - start) * 1000)
    finally:
        icmp.close()
    return Burst(address, sent, rtts, ident)


async def _reply(
    loop: asyncio.AbstractEventLoop,
    icmp: Any,
    sock: socket.socket,
    request: ICMPRequest,
    timeout: float,
    stamps: _Stamps,
) -> tuple[ICMPReply, int | None]:
    """The reply to `request` and its receive stamp (ns, or None); TimeoutExceeded after
    `timeout`. Other ICMP traffic the socket sees (a raw socket sees all of it) is skipped."""
    deadline = loop.time() + timeout
    while True:
        found = _read(icmp, sock, request, stamps)
        if found is not None:
            return found
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise TimeoutExceeded(timeout)
        ready: asyncio.Future[None] = loop.create_future()
        loop.add_reader(sock, _wake, ready)
        try:
            async with asyncio.timeout(remaining):
                await ready
        except TimeoutError:
            raise TimeoutExceeded(timeout) from None
        finally:
            loop.remove_reader(sock)


def _wake(ready: asyncio.Future[None]) -> None:
    if not ready.done():
        ready.set_result(None)


def _read(
    icmp: Any, sock: socket.socket, request: ICMPRequest, stamps: _Stamps
) -> tuple[ICMPReply, int | None] | None:
    """Read what is queued until the reply to `request` (None when the queue runs dry).

    Drains the error queue first: a send stamp that came after `send()` returned wakes the
    reader (EPOLLERR) and would keep waking it.
    """
    stamps.drain(sock)
    for _ in range(256):  # bounded: a flood of foreign ICMP cannot hold the loop here
        try:
            packet, ancillary, _flags, peer = sock.recvmsg(_BUFFER, RX_ANCILLARY)
        except (BlockingIOError, InterruptedError):
            return None
        except OSError as exc:
            raise ICMPSocketError(str(exc)) from None
        reply = icmp._parse_reply(packet=packet, source=peer[0], current_time=time.time())
        if reply and request.id == reply.id and request.sequence == reply.sequence:
            return reply, rx_stamp(ancillary) if stamps.rx else None
    return None
