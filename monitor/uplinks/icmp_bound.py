"""ICMP echoes from a source address or through an interface (SO_BINDTODEVICE), issue 16.

Apart from monitor.uplinks.bind so the daemon imports icmplib only when a target uses ICMP.
"""

from __future__ import annotations

import asyncio
import socket

import icmplib
from icmplib.sockets import AsyncSocket, ICMPv4Socket, ICMPv6Socket

from monitor.uplinks.bind import SO_BINDTODEVICE
from monitor.uplinks.config import Source


def _device_socket(base: type[ICMPv4Socket], interface: str) -> type[ICMPv4Socket]:
    class Bound(base):  # type: ignore[valid-type,misc]
        def _create_socket(self, type: int) -> socket.socket:
            sock: socket.socket = super()._create_socket(type)
            try:
                sock.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, interface.encode())
            except OSError:
                sock.close()
                raise
            return sock

    return Bound


async def ping(
    address: str, source: Source, count: int, interval: float, timeout: float, privileged: bool
) -> icmplib.Host:
    """icmplib's `async_ping` with the socket bound to `source` (same loop, same result)."""
    if icmplib.utils.is_hostname(address):
        address = (await icmplib.async_resolve(address))[0]
    base = ICMPv6Socket if icmplib.utils.is_ipv6_address(address) else ICMPv4Socket
    kind = _device_socket(base, source.interface) if source.interface else base
    ident = icmplib.utils.unique_identifier()
    rtts: list[float] = []
    sent = 0
    with AsyncSocket(kind(source.address, privileged)) as sock:
        for sequence in range(count):
            if sequence:
                await asyncio.sleep(interval)
            request = icmplib.ICMPRequest(destination=address, id=ident, sequence=sequence)
            try:
                sock.send(request)
                sent += 1
                reply = await sock.receive(request, timeout)
                reply.raise_for_status()
                rtts.append((reply.time - request.time) * 1000)
            except icmplib.ICMPLibError:
                pass
    return icmplib.Host(address, sent, rtts)
