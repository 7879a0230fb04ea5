"""ICMP sockets from a source address or through an interface (SO_BINDTODEVICE), issue 16.

Apart from monitor.uplinks.bind so the daemon imports icmplib only when a target uses ICMP.
The echoes themselves are sent and timed by monitor/probes/icmp_echo.py.
"""

from __future__ import annotations

import socket
from functools import lru_cache

import icmplib
from icmplib.sockets import ICMPv4Socket, ICMPv6Socket

from monitor.uplinks.bind import SO_BINDTODEVICE


@lru_cache(maxsize=64)
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


def socket_kind(address: str, interface: str | None) -> type[ICMPv4Socket]:
    """icmplib's socket class for the IP `address`, bound to `interface` when one is given."""
    base = ICMPv6Socket if icmplib.utils.is_ipv6_address(address) else ICMPv4Socket
    return _device_socket(base, interface) if interface else base
