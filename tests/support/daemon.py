"""Run the real daemon in-process against the simulated network, with fast probes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from monitor.config import parse_config
from monitor.daemon import Daemon
from monitor.sim import SimNetwork
from tests.support.wait import wait_until

ALL_DAY = {d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
INTERVAL, TIMEOUT = 0.2, 0.15


def fast_config(net: SimNetwork, **extra: Any) -> dict[str, Any]:
    data = net.config(listen="127.0.0.1:0", interval=f"{INTERVAL}s", timeout=f"{TIMEOUT}s")
    data["outage"] = {"down_after": 3, "up_after": 2, "slow_latency": "100ms"}
    data["service_hours"] = {"weekly": ALL_DAY, "holidays": None}
    # ICMP to 127.0.0.1 cannot be made to fail; local faults use a TCP target the test owns.
    data["targets"] = [t for t in data["targets"] if t["kind"] != "icmp"]
    data.update(extra)
    return data


@asynccontextmanager
async def running(config: dict[str, Any]) -> AsyncIterator[Daemon]:
    async with Daemon(parse_config(config)) as daemon:
        await wait_until(lambda: link(daemon)[0] == "up", what="the link to be up")
        yield daemon


def link(daemon: Daemon) -> tuple[str, str | None]:
    if daemon.tracker is None:
        return "stopped", None
    return daemon.tracker.verdict.state, daemon.tracker.verdict.domain
