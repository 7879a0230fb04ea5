"""Resources probes share within one daemon: one HTTP client session and the ICMP socket mode."""

from __future__ import annotations

import asyncio
import os
import socket
from typing import Any

import aiohttp

from monitor.probes.http_bound import BoundConnector
from monitor.probes.http_trace import PhaseTrace, TracedResponse
from monitor.probes.wire_clock import SO_TIMESTAMPNS, StampingConnector
from monitor.uplinks.config import Source


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


class ProbeContext:
    """Created once by the daemon (or a one-shot `pantau probe`), closed when it stops."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._stamps_on: socket.socket | None = None
        self.icmp_privileged = icmp_mode()
        self._bound: dict[Source, aiohttp.ClientSession] = {}

    def keep_stamps_on(self) -> None:
        """Hold the kernel's receive stamping on while the context lives (see StampingConnector:
        a fresh socket per probe would toggle the kernel-wide switch on nearly every probe)."""
        if self._stamps_on is None:
            self._stamps_on = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                self._stamps_on.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            except OSError:
                pass

    @property
    def http(self) -> aiohttp.ClientSession:
        if self._session is None:
            # force_close: every probe opens a fresh connection, or it would time nothing.
            # use_dns_cache=False: the dns phase is measured on every probe, not once.
            # StampingConnector: time to first byte from kernel timestamps (wire_clock.py).
            self._session = _session(
                StampingConnector(force_close=True, use_dns_cache=False, limit=0)
            )
        return self._session

    async def resolve(self, host: str, port: int) -> list[tuple[socket.AddressFamily, Any]]:
        """(family, address) for a host name, through the session's resolver (aiohttp's
        ThreadedResolver: getaddrinfo in a worker thread, nothing cached), as before the probe
        had its own HTTP client; a session given another resolver (the tests) is honoured."""
        resolver = getattr(self.http.connector, "_resolver", None)
        if resolver is None:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
            return [(info[0], info[4]) for info in infos]
        answers = await resolver.resolve(host, port, family=socket.AF_UNSPEC)
        return [
            (a["family"], (a["host"], a["port"], 0, 0) if a["family"] == socket.AF_INET6
             else (a["host"], a["port"]))
            for a in answers
        ]  # fmt: skip

    def http_for(self, source: Source | None) -> aiohttp.ClientSession:
        """The session of probes that leave through `source` (issue 16); None: `http`."""
        if source is None:
            return self.http
        session = self._bound.get(source)
        if session is None:
            connector = BoundConnector(source, force_close=True, use_dns_cache=False, limit=0)
            session = self._bound[source] = _session(connector)
        return session

    async def close(self) -> None:
        if self._stamps_on is not None:
            self._stamps_on.close()
            self._stamps_on = None
        if self._session is not None:
            await self._session.close()
            self._session = None
        for session in self._bound.values():
            await session.close()
        self._bound.clear()


def _session(connector: aiohttp.BaseConnector) -> aiohttp.ClientSession:
    """A probe session on `connector` (plain or bound to a source; see ProbeContext.http)."""
    return aiohttp.ClientSession(
        connector=connector,
        trace_configs=[PhaseTrace.config()],
        response_class=TracedResponse,
        # Every probe stands alone: no cookie set by one response rides on the next
        # request (and no jar to filter and update on each probe).
        cookie_jar=aiohttp.DummyCookieJar(),
        # The runner owns every deadline (monitor/runner.py); aiohttp's defaults would
        # add timers of their own to each request (total 300 s, connect 30 s).
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=None),
        auto_decompress=True,
        skip_auto_headers=("User-Agent",),
        headers={"User-Agent": "pantau"},
    )
