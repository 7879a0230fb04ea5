"""TCP probe: connect, read the handshake RTT from the kernel, close with a reset."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import struct
from functools import lru_cache
from typing import Any

from monitor.config import PER_TARGET_CACHE, TcpTarget
from monitor.probes.connect import connect_ipv4
from monitor.probes.context import ProbeContext
from monitor.probes.result import Observation
from monitor.probes.tcp_info import kernel_connect_rtt
from monitor.uplinks.bind import bind

_LINGER_RESET = struct.pack("ii", 1, 0)


@lru_cache(maxsize=PER_TARGET_CACHE)
def literal_address(host: str, port: int) -> tuple[socket.AddressFamily, tuple[str, int]] | None:
    """(family, address) when host is an IP literal, which needs no resolver; else None."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return None
    family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    return family, (str(ip), port)


async def probe(target: TcpTarget, timeout: float, ctx: ProbeContext) -> Observation:
    """Open a TCP connection to host:port; the connect time is the measure."""
    loop = asyncio.get_running_loop()
    address: Any
    literal = literal_address(target.host, target.port)
    if literal is not None:
        # loop.getaddrinfo always hops to a worker thread, even for an IP: a third of the
        # probe's CPU at 200/s for nothing.
        family, address = literal[0], literal[1]
        type_, proto = socket.SOCK_STREAM, socket.IPPROTO_TCP
    else:
        infos = await loop.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
        family, type_, proto, _, address = infos[0]
    # Non-blocking from the start: one system call fewer than setblocking(False) after.
    sock = socket.socket(family, type_ | socket.SOCK_NONBLOCK, proto)
    try:
        bind(sock, target.source)  # issue 16: leave through the target's uplink
        started = loop.time()
        if family == socket.AF_INET and literal is not None:
            await connect_ipv4(loop, sock, address)  # loop.sock_connect less its resolver
        else:
            await loop.sock_connect(sock, address)
        stopwatch = loop.time() - started
        rtt = kernel_connect_rtt(sock)
        # Close with RST (SO_LINGER 0): a normal close leaves TIME_WAIT entries that pile up
        # and slow every later probe of the same host:port to a crawl.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
    finally:
        sock.close()
    connect = rtt if rtt is not None else stopwatch
    return Observation(
        latency=connect, phases={"connect": connect}, detail=f"connected {address[0]}"
    )
