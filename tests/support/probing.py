"""Build targets, run one probe through the real runner, and own a ProbeContext for a test."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from monitor.clock import Clock
from monitor.config import DnsTarget, HttpTarget, IcmpTarget, Target, TcpTarget
from monitor.probes.context import ProbeContext, icmp_mode
from monitor.probes.result import ProbeResult
from monitor.runner import run_probe
from tests.support.tools import skip_or_fail

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
