"""The handshake RTT the kernel measured, read from TCP_INFO (the TCP and HTTP probes share it)."""

from __future__ import annotations

import socket
import struct

# struct tcp_info (linux/tcp.h): 8 one-byte fields, then 32-bit fields. tcpi_rtt (microseconds)
# is at byte 68 and tcpi_total_retrans at byte 100.
_TCPI_RTT = struct.Struct("=I")
_RTT_OFFSET, _RETRANS_OFFSET, _TCP_INFO_LEN = 68, 100, 104


def kernel_connect_rtt(sock: socket.socket) -> float | None:
    """The handshake RTT the kernel measured (seconds), or None where it can't tell.

    A user-space stopwatch around `await connect()` also counts event-loop lag, which grows
    to milliseconds under load; the kernel's sample is the SYN -> SYN/ACK time on the wire.
    After a retransmitted SYN the kernel takes no sample (Karn), so the caller falls back to
    its stopwatch, which then rightly includes the retransmission wait.
    """
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, _TCP_INFO_LEN)
    except (OSError, AttributeError):
        return None
    if len(info) < _TCP_INFO_LEN:
        return None
    (rtt_us,) = _TCPI_RTT.unpack_from(info, _RTT_OFFSET)
    (retrans,) = _TCPI_RTT.unpack_from(info, _RETRANS_OFFSET)
    if rtt_us == 0 or retrans:
        return None
    return rtt_us / 1e6
