"""Time to first byte from the kernel, not from the event loop.

A stopwatch around `await` also counts the loop's own backlog: the first-byte mark is taken
when the loop gets round to the response, milliseconds late once the daemon is busy. Here the
two ends of TTFB are taken where loop lag cannot get between them and the wire:

- request sent: the kernel's send stamp of the request (`SO_TIMESTAMPING` software TX, asked
  for on that one `sendmsg()`; see kstamp.py), read from the error queue right after the send.
  Where the kernel gives none, the wall clock read just before that syscall: asyncio's
  transport calls `send()` synchronously from `write()`, so it is early by the syscall's own
  path to the driver (13-35 us on loopback and the veth; more if the host deschedules us);
- first response byte: the kernel's receive timestamp of the segment that carried it
  (`SO_TIMESTAMPNS`, only delivered by `recvmsg()`). Our socket subclass reads the first byte
  alone, so the timestamp is that of the first segment, not of the last one in the queue.
  Limit, measured (docs/performance.md): TCP merges a segment that arrives while the previous
  one is still unread into it (tcp_try_coalesce), and the merged one carries the later stamp.
  A segment behind the first one that arrives before we read moves the first-byte stamp to
  its own arrival. The probe no longer asks the server to close (http11.py), so its FIN is
  not that segment: with it, on the bench's veth, TTFB was 90-180 us late in most probes;
  without, within a few us. The next segments of a long body still can be (each is a few
  us behind the first on a LAN; a round trip behind it on a WAN, once the first flight is in).

Both are CLOCK_REALTIME (that is the clock the kernel stamps with), so the phase is a
difference of two readings of one clock, as the monotonic phases are. With TLS, the server's
session tickets can arrive after the request, before the response: the protocol handler marks
the first byte only when decrypted application data reaches it, using the timestamp of the
read that carried it.

Wiring: the HTTP probe's client (http11.py) builds the StampingSocket itself, hands it the
request's `WireClock`, arms the clock at its write and marks the first byte in its protocol.
Where anything is missing (no timestamp, no clock), the probe falls back to its stopwatch.
"""

from __future__ import annotations

import errno
import socket
import time
from typing import Any

from monitor.probes.kstamp import (
    RX_ANCILLARY,
    SO_TIMESTAMPNS,
    STAMP_THIS_SEND,
    drain_tx,
    rx_stamp,
)

__all__ = ["SO_TIMESTAMPNS", "StampingSocket", "WireClock"]


class WireClock:
    """The two ends of one request's time to first byte, in CLOCK_REALTIME nanoseconds."""

    __slots__ = (
        "armed",
        "first_byte_ns",
        "last_rx_ns",
        "sent_by_kernel",
        "sent_ns",
        "tx_pending",
        "tx_stamps",
    )

    def __init__(self) -> None:
        self.armed = False  # set when the connection (and TLS) is up: the next send is the request
        self.sent_ns: int | None = None  # the request's send stamp, else the clock before it
        self.tx_stamps = False  # the socket reports send stamps: ask for one on the request
        self.tx_pending = False  # asked for the request's send stamp, not read yet
        self.sent_by_kernel = False  # sent_ns is the kernel's send stamp
        self.last_rx_ns: int | None = None  # kernel stamp of the latest read since the request
        self.first_byte_ns: int | None = None  # 0: the first byte came, but without a stamp

    def ttfb(self) -> float | None:
        """Seconds from the request's send to the first response byte, or None if unknown."""
        if not self.sent_ns or not self.first_byte_ns:
            return None
        return (self.first_byte_ns - self.sent_ns) / 1e9


class StampingSocket(socket.socket):
    """A socket that notes when the request leaves and when the response's first byte came."""

    __slots__ = ("clock",)
    clock: WireClock

    def _request_starting(self) -> int | None:
        """The wall clock now if the next send carries the request's first byte, else None."""
        clock = self.clock
        if clock.armed and clock.sent_ns is None:
            return time.clock_gettime_ns(time.CLOCK_REALTIME)
        return None

    def send(self, data: Any, flags: int = 0) -> int:
        before = self._request_starting()
        if before is None:
            return super().send(data, flags)
        return self._send_request(before, [data], (), flags, None)

    def sendmsg(self, buffers: Any, ancdata: Any = (), flags: int = 0, address: Any = None) -> int:
        before = self._request_starting()
        if before is None:
            tail = () if address is None else (address,)
            return super().sendmsg(buffers, ancdata, flags, *tail)
        return self._send_request(before, buffers, ancdata, flags, address)

    def _send_request(
        self, before: int, buffers: Any, ancillary: Any, flags: int, address: Any
    ) -> int:
        """Send the request's first bytes, asking the kernel for their send stamp."""
        clock = self.clock
        tail = () if address is None else (address,)
        sent = None
        if clock.tx_stamps:
            try:
                sent = super().sendmsg(buffers, [*ancillary, *STAMP_THIS_SEND], flags, *tail)
                clock.tx_pending = True
            except OSError as exc:
                if exc.errno not in (errno.EINVAL, errno.EOPNOTSUPP):
                    raise
                clock.tx_stamps = False  # this kernel takes no per-send stamp request
        if sent is None:
            sent = super().sendmsg(buffers, ancillary, flags, *tail)
        clock.sent_ns = before  # only once the send went through
        if clock.tx_pending:
            self._take_tx()
        return sent

    def _take_tx(self) -> None:
        """Read the request's send stamp off the error queue (draining it, see kstamp.py)."""
        stamps = drain_tx(self)  # one stamped send on this socket: at most one stamp
        clock = self.clock
        if stamps and clock.tx_pending:
            clock.sent_ns = max(stamps.values())
            clock.sent_by_kernel = True
            clock.tx_pending = False

    def _stamping(self, flags: int) -> bool:
        clock = self.clock
        return clock.sent_ns is not None and clock.first_byte_ns is None and not flags

    def _note(self, ancillary: list[tuple[int, int, bytes]]) -> None:
        stamp = rx_stamp(ancillary)
        if stamp is not None:
            self.clock.last_rx_ns = stamp

    # Both reads take one byte first: a TCP read reports the stamp of the last segment it
    # consumed, and we want the first.
    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        if self.clock.tx_pending:  # the stamp came after the send returned: drain it here
            self._take_tx()
        if not self._stamping(flags):
            return super().recv_into(buffer, nbytes, flags)
        view = memoryview(buffer).cast("B")
        if nbytes:
            view = view[:nbytes]
        got, ancillary, _flags, _addr = self.recvmsg_into([view[:1]], RX_ANCILLARY)
        self._note(ancillary)
        if got == 0 or len(view) == 1:
            return got
        try:
            return got + super().recv_into(view[1:])
        except (BlockingIOError, InterruptedError):
            return got

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        if self.clock.tx_pending:
            self._take_tx()
        if not self._stamping(flags):
            return super().recv(bufsize, flags)
        first, ancillary, _flags, _addr = self.recvmsg(1, RX_ANCILLARY)
        self._note(ancillary)
        if not first or bufsize == 1:
            return first
        try:
            return first + super().recv(bufsize - 1)
        except (BlockingIOError, InterruptedError):
            return first
