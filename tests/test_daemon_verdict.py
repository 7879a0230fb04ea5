"""The daemon against real servers on 127.0.0.1 that the test breaks: verdicts and the ledger."""

from __future__ import annotations

import time
from contextlib import asynccontextmanager
from datetime import date

import aiohttp
import pytest

from monitor.sim import DnsResponder, SimNetwork, TcpPort
from monitor.sim.network import DC_NAME
from tests.support.daemon import INTERVAL, TIMEOUT, fast_config, link, running
from tests.support.wait import wait_until


@asynccontextmanager
async def serving(server):
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def net():
    async with SimNetwork(icmp=False) as network:
        yield network


def today_outages(daemon, kind: str = "outage") -> list[dict]:
    """Today's episodes of `kind`: a loaded machine can make the fast config's probes slower
    than its 100 ms and record a true "slow" episode beside the outage under test (a CI run
    failed on one)."""
    day = daemon.clock.now().astimezone(daemon.config.office.zone).date()
    return [r for r in daemon.outages(day, day)["outages"] if r["kind"] == kind]


async def test_datacenter_outage_opens_closes_and_counts_lost_seconds(net: SimNetwork) -> None:
    async with running(fast_config(net)) as daemon:
        injected = time.time()
        await net.set_mode("datacenter", "down")
        await wait_until(lambda: link(daemon) == ("down", "datacenter"), what="datacenter down")
        # The outage is in the ledger as soon as it opens, before it ends.
        assert daemon.ledger is not None and len(daemon.ledger.open_episodes()) == 1
        restored = time.time() + 1.0
        await _hold(1.0)
        await net.set_mode("datacenter", "ok")
        await wait_until(lambda: link(daemon) == ("up", None), what="link up again")
        (outage,) = today_outages(daemon)
    tolerance = INTERVAL + TIMEOUT
    start, end = outage["start_unix"], outage["end_unix"]
    assert abs(start - injected) <= tolerance, (start, injected)
    assert abs(end - restored) <= tolerance + 0.1, (end, restored)
    assert outage["domain"] == "datacenter" and outage["first_hop"] == "dc-siak"
    assert outage["lost_service_seconds"] == pytest.approx(end - start, abs=0.01)
    assert outage["evidence"]["dc-siak"]["reason"] == "refused"


async def test_isp_failure_is_never_blamed_on_the_data_center(net: SimNetwork) -> None:
    async with running(fast_config(net)) as daemon:
        for server, mode in (("anchor", "down"), ("dns", "silent"), ("datacenter", "hang"),
                             ("vpn", "down")):  # fmt: skip
            await net.set_mode(server, mode)
        await wait_until(lambda: link(daemon) == ("down", "isp"), what="isp blamed")
        for server in ("anchor", "dns", "datacenter", "vpn"):
            await net.set_mode(server, "ok")
        await wait_until(lambda: link(daemon)[0] == "up", what="recovery")
        (outage,) = today_outages(daemon)
    assert [d["domain"] for d in outage["domains"]] == ["isp"]


async def test_local_network_wins_over_everything_after_it(net: SimNetwork) -> None:
    async with serving(TcpPort("127.0.0.1")) as lan:
        config = fast_config(net)
        config["targets"].insert(0, {"name": "lan-switch", "role": "local", "kind": "tcp",
                                     "host": "127.0.0.1", "port": lan.port})  # fmt: skip
        async with running(config) as daemon:
            await lan.set_mode("down")
            await net.set_mode("datacenter", "down")
            await net.set_mode("anchor", "down")
            await wait_until(lambda: link(daemon) == ("down", "local"), what="local blamed")


async def test_name_resolution_failures_are_the_dns_domain(net: SimNetwork) -> None:
    async with serving(DnsResponder("127.0.0.1", zone={DC_NAME: ["10.20.0.5"]})) as auth:
        config = fast_config(net)
        config["targets"].append({"name": "dc-name", "role": "datacenter", "kind": "dns",
                                  "server": auth.address, "query": DC_NAME})  # fmt: skip
        async with running(config) as daemon:
            await auth.set_mode("nxdomain")
            await wait_until(lambda: link(daemon) == ("down", "dns"), what="dns blamed")


async def test_data_center_slow_is_a_slow_period_not_an_outage(net: SimNetwork) -> None:
    # Slow (150 ms, over the 100 ms limit) but well inside the timeout, so that a loaded
    # machine's extra milliseconds cannot turn a slow answer into a timeout.
    data = fast_config(net)
    data["defaults"] = {"interval": "0.5s", "timeout": "0.4s"}
    async with running(data) as daemon:
        await net.set_mode("datacenter", "slow", delay=0.15)
        await wait_until(lambda: link(daemon) == ("slow", "datacenter"), what="slow datacenter")
        await net.set_mode("datacenter", "ok")
        await wait_until(lambda: link(daemon)[0] == "up", what="recovery")
        (episode,) = today_outages(daemon, "slow")
    assert episode["kind"] == "slow"


async def test_verdict_changes_during_one_outage_keep_the_sequence(net: SimNetwork) -> None:
    async with running(fast_config(net)) as daemon:
        await net.set_mode("datacenter", "down")
        await net.set_mode("anchor", "down")
        await net.set_mode("dns", "silent")
        await wait_until(lambda: link(daemon) == ("down", "isp"), what="isp blamed")
        await net.set_mode("anchor", "ok")
        await net.set_mode("dns", "ok")
        await wait_until(lambda: link(daemon) == ("down", "datacenter"), what="now the dc")
        await _hold(1.5)  # the data-center part lasts longest
        await net.set_mode("datacenter", "ok")
        await wait_until(lambda: link(daemon)[0] == "up", what="recovery")
        (outage,) = today_outages(daemon)
    assert [d["domain"] for d in outage["domains"]] == ["isp", "datacenter"]
    assert outage["domain"] == "datacenter"


async def test_endpoints_and_metrics(net: SimNetwork) -> None:
    async with running(fast_config(net)) as daemon:
        base = f"http://127.0.0.1:{daemon.port}"
        await net.set_mode("datacenter", "down")
        await wait_until(lambda: link(daemon)[0] == "down", what="outage")
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/healthz") as r:
                assert r.status == 200
            async with http.get(f"{base}/api/status") as r:
                status = await r.json()
            async with http.get(f"{base}/metrics") as r:
                metrics = await r.text()
            today = date.today().isoformat()
            async with http.get(f"{base}/api/outages", params={"from": today}) as r:
                assert r.status == 200
            async with http.get(f"{base}/api/outages", params={"from": "30-11-2026"}) as r:
                assert r.status == 400 and "YYYY-MM-DD" in (await r.json())["error"]
    assert status["link"] == {"state": "down", "domain": "datacenter",
                              "since": status["link"]["since"], "episode": "outage"}  # fmt: skip
    siak = next(t for t in status["targets"] if t["name"] == "dc-siak")
    assert siak["state"] == "down" and siak["last"]["result"] == "refused"
    assert 'pantau_probe_success{kind="http",role="datacenter",target="dc-siak"} 0.0' in metrics
    assert 'pantau_link_state{state="down"} 1.0' in metrics
    assert 'pantau_outage_active{domain="datacenter"} 1.0' in metrics
    assert 'pantau_outages_total{domain="datacenter"} 0.0' in metrics  # counted when it ends
    assert 'pantau_target_state{state="down",target="dc-siak"} 1.0' in metrics
    assert "pantau_service_open 1.0" in metrics
    assert 'result="refused",role="datacenter",target="dc-siak"' in metrics


async def test_healthz_is_503_once_the_scheduler_stops(net: SimNetwork) -> None:
    async with running(fast_config(net)) as daemon:
        assert daemon.healthy()
        assert daemon.scheduler is not None
        daemon.scheduler.shutdown()
        assert not daemon.healthy()


async def _hold(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)
