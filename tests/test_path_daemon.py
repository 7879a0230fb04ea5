"""The daemon traces the path on a link-state change and keeps the trace with the outage."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from prometheus_client import CollectorRegistry

from monitor.config import parse_config
from monitor.daemon import Daemon
from monitor.sim import SimNetwork
from tests.support.daemon import fast_config, link
from tests.support.tools import require_root
from tests.support.wait import wait_until


@contextlib.asynccontextmanager
async def tracing_daemon(
    net: SimNetwork,
) -> AsyncIterator[tuple[Daemon, list[tuple[str, dict[str, Any]]], CollectorRegistry]]:
    """A daemon with tracing on, its link up; yields it, its events and its registry."""
    require_root("the tracer sends raw TCP SYNs and reads ICMP")
    events: list[tuple[str, dict[str, Any]]] = []
    registry = CollectorRegistry()
    config = parse_config(fast_config(net))
    async with Daemon(
        config, registry=registry, on_event=lambda k, d: events.append((k, d))
    ) as daemon:
        await wait_until(lambda: link(daemon)[0] == "up", what="the link to be up")
        yield daemon, events, registry


@pytest.fixture
async def net():
    async with SimNetwork(icmp=False) as network:
        yield network


async def test_a_trace_runs_within_5s_of_a_transition_and_is_evidence(net: SimNetwork) -> None:
    async with tracing_daemon(net) as (daemon, events, registry):
        config = daemon.config
        await net.set_mode("datacenter", "down")
        await wait_until(lambda: link(daemon) == ("down", "datacenter"), what="datacenter down")
        await wait_until(lambda: any(k == "path" for k, _ in events), what="a trace")
        (down,) = [d for k, d in events if k == "link" and d["state"] == "down"]
        (path,) = [d for k, d in events if k == "path"][:1]
        # The trace started within 5 s of the change (its own start stamp against the
        # transition's, both from the records: no stopwatch in the test).
        assert path["trace"].at - down["at"] < 5.0, (path["trace"].at, down["at"])
        # 127.0.0.1 refuses: the destination itself answers, the data center is confirmed.
        assert daemon.tracker is not None
        assert daemon.tracker.verdict.confirmed is True
        assert daemon.tracker.verdict.cause == "destination_answers"
        path_status = daemon.status()["path"]
        assert path_status == {"confirmed": True, "cause": "destination_answers"}
        day = daemon.clock.now().astimezone(config.office.zone).date()
        (outage,) = daemon.outages(day, day)["outages"]
        evidence = outage["path"]
        assert evidence["confirmed"] is True
        (target,) = evidence["targets"].values()
        assert target["trace"]["reached"] and target["trace"]["hops"][0]["address"] == "127.0.0.1"
        assert (
            registry.get_sample_value("pantau_path_reaches_datacenter", {"target": path["target"]})
            == 1.0
        )
        async with aiohttp.ClientSession() as session:
            url = f"http://127.0.0.1:{daemon.port}/metrics"
            async with session.get(url) as response:
                page = await response.text()
        assert f'pantau_path_reaches_datacenter{{target="{path["target"]}"}} 1.0' in page
        assert f'pantau_path_hop_loss_ratio{{target="{path["target"]}",ttl="1"}} 0.0' in page
        await net.set_mode("datacenter", "ok")


async def test_without_a_trace_the_verdict_is_unconfirmed(net: SimNetwork) -> None:
    config = parse_config(fast_config(net, path={"enabled": True, "max_ttl": 1}))
    async with Daemon(config) as daemon:
        await wait_until(lambda: link(daemon)[0] == "up", what="the link to be up")
        assert daemon.path_watch is not None
        daemon.path_watch.traced.clear()  # nothing to trace: no evidence can come
        await net.set_mode("datacenter", "down")
        await wait_until(lambda: link(daemon) == ("down", "datacenter"), what="datacenter down")
        assert daemon.tracker is not None and daemon.tracker.verdict.confirmed is False
        day = daemon.clock.now().astimezone(config.office.zone).date()
        (outage,) = daemon.outages(day, day)["outages"]
        assert outage["path"] == {"confirmed": False, "cause": "no_trace"}
        await net.set_mode("datacenter", "ok")


async def test_path_off_keeps_the_old_verdict(net: SimNetwork) -> None:
    config = parse_config(fast_config(net, path={"enabled": False}))
    async with Daemon(config) as daemon:
        await wait_until(lambda: link(daemon)[0] == "up", what="the link to be up")
        assert daemon.path_watch is None
        await net.set_mode("datacenter", "down")
        await wait_until(lambda: link(daemon) == ("down", "datacenter"), what="datacenter down")
        assert daemon.tracker is not None and daemon.tracker.verdict.confirmed is None
        await net.set_mode("datacenter", "ok")


async def test_a_trace_the_ledger_file_cannot_keep_is_counted_and_still_evidence(
    net: SimNetwork,
) -> None:
    async with tracing_daemon(net) as (daemon, events, registry):
        config = daemon.config
        assert daemon.path_watch is not None
        # A real SQLite write failure on the trace store's own connection, as on a full disk.
        daemon.path_watch.store._db.execute("PRAGMA query_only=ON")
        await net.set_mode("datacenter", "down")
        await wait_until(lambda: any(k == "path" for k, _ in events), what="a trace")
        await wait_until(
            lambda: (registry.get_sample_value("pantau_path_store_errors_total") or 0) >= 1,
            what="the failed store to be counted",
        )
        day = daemon.clock.now().astimezone(config.office.zone).date()
        (outage,) = daemon.outages(day, day)["outages"]
        (target,) = outage["path"]["targets"].values()
        assert target["trace"]["reached"]
        await net.set_mode("datacenter", "ok")
