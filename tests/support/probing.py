"""Build targets, run one probe through the real runner, and own a ProbeContext for a test."""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from monitor.clock import Clock
from monitor.config import DnsTarget, HttpTarget, IcmpTarget, Target, TcpTarget
from monitor.probes.context import ProbeContext, icmp_mode
from monitor.probes.result import ProbeResult
from monitor.runner import run_probe
from tests.support.tools import skip_or_fail
from tests.support.wait import wait_until

LOCALHOST = "127.0.0.1"


def http_target(url: str, **fields: Any) -> HttpTarget:
    return HttpTarget(name="dc-siak", role="datacenter", kind="http", url=url, **fields)


def tcp_target(port: int, host: str = LOCALHOST) -> TcpTarget:
    return TcpTarget(name="dc-vpn", role="datacenter", kind="tcp", host=host, port=port)


def dns_target(server: str, query: str, **fields: Any) -> DnsTarget:
    return DnsTarget(name="isp-dns", role="isp", kind="dns", server=server, query=query, **fields)


def icmp_target(host: str = LOCALHOST, **fields: Any) -> IcmpTarget:
    return IcmpTarget(name="office-router", role="local", kind="icmp", host=host, **fields)


@asynccontextmanager
async def probe_context() -> AsyncIterator[ProbeContext]:
    ctx = ProbeContext()
    try:
        yield ctx
    finally:
        await ctx.close()


async def probe_once(ctx: ProbeContext, target: Target, deadline: float = 2.0) -> ProbeResult:
    """One probe through the runner (the only way the daemon runs probes), `deadline` seconds."""
    return await run_probe(target, deadline, ctx, Clock())


def require_icmp() -> None:
    """Skip unless this process may send ICMP echoes; on CI (CI=true) fail instead."""
    if icmp_mode() is not None:
        return
    skip_or_fail(
        f"ICMP needs root or ping_group_range covering gid {os.getgid()} "
        f"(uid {os.geteuid()} has neither); run the tests as root"
    )


@asynccontextmanager
async def kernel_stamps_on() -> AsyncIterator[None]:
    """Hold the kernel's receive stamping on, and wait until it is.

    The kernel flips that switch by deferred work when the first socket asks, so a test's
    first answer can beat it and come without a stamp (the probe then falls back to its
    clock, which the timing tests tell apart from the stamps). The daemon holds it on for
    its whole life (ProbeContext.keep_stamps_on).
    """
    from monitor.probes.kstamp import RX_ANCILLARY, receive_stamps, rx_stamp

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((LOCALHOST, 0))
        sock.setblocking(False)
        receive_stamps(sock)

        def stamped() -> bool:
            sock.sendto(b"?", sock.getsockname())
            return rx_stamp(sock.recvmsg(1, RX_ANCILLARY)[1]) is not None

        await wait_until(stamped, timeout=5, what="the kernel's receive stamps")
        yield
