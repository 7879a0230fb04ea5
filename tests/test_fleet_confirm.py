"""Fleet confirmation: the office asks the central store (a real VictoriaMetrics holding the
national records) how many offices see the same fault; an unreachable center leaves the verdict
unconfirmed and never disturbs probing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest

from monitor.fleet.confirm import ask, interpret
from monitor.fleet.stack import Central, free_port
from monitor.sim import SimNetwork
from monitor.status.web import board_for
from tests.support.daemon import fast_config, link, running
from tests.support.tools import require_tool
from tests.support.wait import wait_until

pytestmark = pytest.mark.fleet


@pytest.fixture(scope="module")
def center(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Central]:
    require_tool("victoria-metrics", "apt-get install -y victoria-metrics")
    central = Central(tmp_path_factory.mktemp("fleet-confirm")).start()
    now_ms = int((time.time() - 5) * 1000)
    # What vmalert records during a central outage seen by 312 of 498 voting offices, while
    # this office's ISP (telkom) has no regional trouble: 1 of its 40 offices blames it.
    central.import_lines(
        [
            f"fleet:pantau_datacenter_down:count 312 {now_ms}",
            f"fleet:pantau_voters:count 498 {now_ms}",
            f'isp:pantau_isp_down:count{{isp="telkom"}} 1 {now_ms}',
            f'isp:pantau_voters:count{{isp="telkom"}} 40 {now_ms}',
        ]
    )
    try:
        yield central
    finally:
        central.stop()


@pytest.fixture
async def net() -> AsyncIterator[SimNetwork]:
    async with SimNetwork(icmp=False) as network:
        yield network


def test_interpret() -> None:
    assert interpret("datacenter", 312, 498, 1.0).state == "confirmed"
    assert interpret("isp", 1, 40, 1.0).state == "only_this_office"
    assert interpret("isp", 0, 40, 1.0).state == "only_this_office"
    missing = interpret("datacenter", None, 498, 1.0)
    assert (missing.state, missing.why) == ("unconfirmed", "no_data")


async def test_ask_the_center(center: Central) -> None:
    dc = await ask(center.url, "datacenter", "telkom", 2.0, 1.0)
    assert (dc.state, dc.offices, dc.of) == ("confirmed", 312, 498)
    isp = await ask(center.url, "isp", "telkom", 2.0, 1.0)
    assert (isp.state, isp.offices, isp.of) == ("only_this_office", 1, 40)
    # An office that did not say its ISP cannot be compared with its ISP's other offices.
    unknown = await ask(center.url, "isp", None, 2.0, 1.0)
    assert (unknown.state, unknown.why) == ("unconfirmed", "no_isp")


async def test_unreachable_and_silent_centers_leave_it_unconfirmed() -> None:
    closed = await ask(f"http://127.0.0.1:{free_port()}", "datacenter", None, 1.0, 1.0)
    assert (closed.state, closed.why) == ("unconfirmed", "unreachable")

    release = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1)
        await release.wait()  # accepts, never answers
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        hung = await ask(f"http://127.0.0.1:{port}", "datacenter", None, 0.3, 1.0)
    finally:
        release.set()
        server.close()
        await server.wait_closed()
    assert (hung.state, hung.why) == ("unconfirmed", "timeout")


async def _scrape(daemon) -> str:  # type: ignore[no-untyped-def]
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{daemon.port}/metrics") as response:
            return await response.text()


def _fleet(daemon) -> dict | None:  # type: ignore[no-untyped-def]
    return daemon.status()["link"]["fleet"]


async def test_daemon_carries_the_confirmation_in_status_and_evidence(
    net: SimNetwork, center: Central
) -> None:
    office = {"name": "Grobogan", "id": "grobogan", "isp": "telkom"}
    fleet = {"url": center.url, "timeout": "250ms", "every": "300ms"}
    async with running(fast_config(net, office=office, fleet=fleet)) as daemon:
        assert _fleet(daemon) is None  # nothing to confirm while the link is up
        await net.set_mode("datacenter", "down")
        await wait_until(lambda: link(daemon) == ("down", "datacenter"), what="datacenter down")
        await wait_until(lambda: _fleet(daemon) is not None, what="the fleet's answer")
        answer = _fleet(daemon)
        assert answer is not None
        assert (answer["domain"], answer["state"], answer["offices"], answer["of"]) == (
            "datacenter", "confirmed", 312, 498,
        )  # fmt: skip
        assert daemon.ledger is not None
        await wait_until(
            lambda: "fleet" in daemon.ledger.open_episodes()[0].evidence,  # type: ignore[union-attr]
            what="the answer in the ledger",
        )
        (episode,) = daemon.ledger.open_episodes()
        assert episode.evidence["fleet"]["state"] == "confirmed"
        # The status page and the gauge the pages read say the same.
        board = board_for(daemon)  # type: ignore[arg-type]
        assert "Dikonfirmasi: 312 dari 498 kantor mengalami hal yang sama" in board.view()["lines"]
        page = await _scrape(daemon)
        assert 'pantau_fleet_confirmation_offices{domain="datacenter",scope="same"} 312.0' in page
        assert 'pantau_fleet_confirmation_offices{domain="datacenter",scope="fresh"} 498.0' in page
        await net.set_mode("datacenter", "ok")
        await wait_until(lambda: link(daemon) == ("up", None), what="link up again")
        assert _fleet(daemon) is None
        assert not [line for line in board.view()["lines"] if "Dikonfirmasi" in line]
        await wait_until(
            lambda: (
                not daemon.metrics.registry.get_sample_value(
                    "pantau_fleet_confirmation_offices", {"domain": "datacenter", "scope": "same"}
                )
            ),
            what="the gauge gone with the outage",
        )
        assert "pantau_fleet_confirmation_offices{" not in await _scrape(daemon)
        # The closed outage keeps the center's last answer: `pantau outages`, /api/outages.
        day = daemon.clock.now().astimezone(daemon.config.office.zone).date()
        (outage,) = daemon.outages(day, day)["outages"]
        assert outage["fleet"]["state"] == "confirmed" and outage["fleet"]["offices"] == 312


async def test_own_isp_fault_is_only_this_office(net: SimNetwork, center: Central) -> None:
    office = {"name": "Grobogan", "id": "grobogan", "isp": "telkom"}
    fleet = {"url": center.url, "timeout": "250ms", "every": "300ms"}
    async with running(fast_config(net, office=office, fleet=fleet)) as daemon:
        for server, mode in (("anchor", "down"), ("dns", "silent"), ("datacenter", "hang")):
            await net.set_mode(server, mode)
        await wait_until(lambda: link(daemon) == ("down", "isp"), what="isp down")
        await wait_until(lambda: _fleet(daemon) is not None, what="the fleet's answer")
        assert _fleet(daemon)["state"] == "only_this_office"  # type: ignore[index]


async def test_unreachable_center_never_blocks_probing(net: SimNetwork) -> None:
    fleet = {"url": f"http://127.0.0.1:{free_port()}", "timeout": "250ms", "every": "300ms"}
    async with running(fast_config(net, fleet=fleet)) as daemon:
        await net.set_mode("datacenter", "down")
        await wait_until(lambda: link(daemon) == ("down", "datacenter"), what="datacenter down")
        await wait_until(lambda: _fleet(daemon) is not None, what="an answer")
        assert _fleet(daemon)["state"] == "unconfirmed"  # type: ignore[index]
        await net.set_mode("datacenter", "ok")
        # Probing carried on: the recovery is seen as usual.
        await wait_until(lambda: link(daemon) == ("up", None), what="link up again")
