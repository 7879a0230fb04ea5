"""A UDP socket for dnspython that notes the kernel's send and receive stamps of the query.

dnspython times a query with `time.time()` around its awaits, so the loop's backlog is in it,
and its asyncio socket (a DatagramProtocol) never sees a datagram's ancillary data. This is a
socket of dnspython's own interface (`dns.asyncbackend.DatagramSocket`) that reads with
`recvmsg()`: `dns.asyncquery.udp` runs unchanged on it (matching of id and question, stray
datagrams ignored), and the probe reads the query's round trip off the socket afterwards:
the kernel's send stamp of the query to its receive stamp of the answer (kstamp.py), either
end falling back to a clock reading taken at the syscall when the kernel gives no stamp.
"""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

import dns._asyncbackend
import dns.exception

from monitor.probes.kstamp import RX_ANCILLARY, drain_tx, receive_stamps, rx_stamp, send_stamps
from monitor.uplinks.bind import bind
from monitor.uplinks.config import Source


async def stamped_socket(af: int, source: Source | None, destination: Any) -> StampedDatagram:
    """A connected UDP socket to `destination`, leaving through `source` (issue 16)."""
    sock = socket.socket(af, socket.SOCK_DGRAM)
    try:
        bind(sock, source)
        sock.setblocking(False)
        # Connected: an ICMP port unreachable then surfaces as ConnectionRefused (reason
        # refused) instead of a silent wait until the timeout.
        await asyncio.get_running_loop().sock_connect(sock, destination)
    except BaseException:
        sock.close()
        raise
    return StampedDatagram(sock)


class StampedDatagram(dns._asyncbackend.DatagramSocket):  # type: ignore[misc]
    """dnspython's datagram socket on a connected, stamping socket (one query, one answer)."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__(sock.family, socket.SOCK_DGRAM)
        self.sock = sock
        self._rx = receive_stamps(sock)
        self._tx = send_stamps(sock)  # EVERY_SEND, keyed by send number
        self._sends = 0
        self._stamps: dict[int, int] = {}
        self.sent_ns: int | None = None  # the last send: the kernel's stamp, else the clock
        self.received_ns: int | None = None  # the last datagram read: likewise

    def rtt(self) -> float | None:
        """Seconds from the last query's send to the last datagram read (the answer)."""
        self._drain()
        if self.sent_ns is None or self.received_ns is None:
            return None
        return (self.received_ns - self.sent_ns) / 1e9

    def _drain(self) -> None:
        """Empty the error queue (see kstamp.py: left there, it keeps the loop waking)."""
        if not self._tx:
            return
        self._stamps.update(drain_tx(self.sock))
        stamp = self._stamps.get(self._sends - 1)
        if stamp is not None:
            self.sent_ns = stamp

    async def sendto(self, what: bytes, destination: Any, timeout: float | None) -> int:
        before = time.clock_gettime_ns(time.CLOCK_REALTIME)
        try:
            sent = self.sock.send(what)
        except (BlockingIOError, InterruptedError):  # send buffer full: wait, then stamp anyway
            await asyncio.get_running_loop().sock_sendall(self.sock, what)
            sent = len(what)
        self._sends += 1
        self.sent_ns = before
        self._drain()  # on loopback and veth the stamp is already there
        return sent

    async def recvfrom(self, size: int, timeout: float | None) -> tuple[bytes, Any]:
        loop = asyncio.get_running_loop()
        while True:
            self._drain()
            try:
                data, ancillary, _flags, peer = self.sock.recvmsg(size, RX_ANCILLARY)
            except (BlockingIOError, InterruptedError):
                await self._readable(loop, timeout)
                continue
            stamp = rx_stamp(ancillary) if self._rx else None
            self.received_ns = stamp or time.clock_gettime_ns(time.CLOCK_REALTIME)
            return data, peer

    async def _readable(self, loop: asyncio.AbstractEventLoop, timeout: float | None) -> None:
        ready: asyncio.Future[None] = loop.create_future()
        loop.add_reader(self.sock, _wake, ready)
        try:
            async with asyncio.timeout(timeout):
                await ready
        except TimeoutError:
            raise dns.exception.Timeout(timeout=timeout) from None
        finally:
            loop.remove_reader(self.sock)

    async def close(self) -> None:
        self.sock.close()

    async def getpeername(self) -> Any:
        return self.sock.getpeername()

    async def getsockname(self) -> Any:
        return self.sock.getsockname()


def _wake(ready: asyncio.Future[None]) -> None:
    if not ready.done():
        ready.set_result(None)
