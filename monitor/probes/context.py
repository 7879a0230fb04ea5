"""Resources probes share within one daemon: the name resolver, kernel stamps, the ICMP mode."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Awaitable, Callable
from typing import Any

from monitor.probes.wire_clock import SO_TIMESTAMPNS

# host, port -> [(family, socket address)], in the order to try them.
Resolver = Callable[[str, int], Awaitable[list[tuple[socket.AddressFamily, Any]]]]


def icmp_mode() -> bool | None:
    """True for raw (privileged) ICMP sockets, False for unprivileged ones, None if neither works.

    Unprivileged ICMP needs our group inside net.ipv4.ping_group_range; raw sockets need root or
    CAP_NET_RAW. We try the datagram socket first because it needs no privilege at all.
    """
    for kind, privileged in ((socket.SOCK_DGRAM, False), (socket.SOCK_RAW, True)):
        try:
            socket.socket(socket.AF_INET, kind, socket.IPPROTO_ICMP).close()
        except OSError:
            continue
        return privileged
    return None


ICMP_HELP = (
    "ICMP needs privileges: run as root, give the process CAP_NET_RAW "
    "(Docker: --cap-add NET_RAW), or allow unprivileged ping for group "
    f"{os.getgid()} with `sysctl net.ipv4.ping_group_range='0 2147483647'`"
)


async def system_resolver(host: str, port: int) -> list[tuple[socket.AddressFamily, Any]]:
    """getaddrinfo in the loop's worker thread, nothing cached: the dns phase is measured on
    every probe, not once. AI_ADDRCONFIG as aiohttp's ThreadedResolver asked, which resolved
    the probes' names before: no IPv6 addresses on a host without IPv6 (and the other way)."""
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_ADDRCONFIG
    )
    return [(info[0], info[4]) for info in infos]


class ProbeContext:
    """Created once by the daemon (or a one-shot `pantau probe`), closed when it stops."""

    def __init__(self) -> None:
        self._stamps_on: socket.socket | None = None
        self.icmp_privileged = icmp_mode()
        # What the HTTP probe resolves its host names with; a test gives a silent or failing
        # one (loopback cannot stage either for a real name).
        self.resolver: Resolver = system_resolver

    def keep_stamps_on(self) -> None:
        """Hold the kernel's receive stamping on while the context lives.

        Receive stamps are a kernel-wide switch (a static key): the first socket asking for
        them turns it on through deferred work, the last one closing turns it off. With a fresh
        socket per probe, that toggled it (code patching) on nearly every probe, and a response
        could beat the switch. One idle socket asking for the context's whole life keeps it on:
        then a probe's own request costs an atomic increment.
        """
        if self._stamps_on is None:
            self._stamps_on = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                self._stamps_on.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            except OSError:
                pass

    async def resolve(self, host: str, port: int) -> list[tuple[socket.AddressFamily, Any]]:
        """(family, address) for a host name, through `resolver`."""
        return await self.resolver(host, port)

    async def close(self) -> None:
        if self._stamps_on is not None:
            self._stamps_on.close()
            self._stamps_on = None
