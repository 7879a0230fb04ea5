"""Two uplinks (issue 16): the verdict per uplink, up on backup, and probes that leave through
their target's source (bound address, or SO_BINDTODEVICE) for every probe kind."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import dns.message
import pytest
from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest

from monitor.cli import main
from monitor.config import Config, parse_config
from monitor.exposition import render
from monitor.metrics import Metrics
from monitor.path.tracer import TraceSettings, trace
from monitor.probes.context import ProbeContext
from monitor.sim import SimNetwork
from monitor.state import TargetState, Thresholds
from monitor.uplinks.bind import source_problems
from monitor.uplinks.config import Source
from monitor.uplinks.ledger import DegradedLedger
from monitor.uplinks.verdict import judge_uplinks
from monitor.uplinks.watch import UplinkWatch
from tests.support.daemon import fast_config, running
from tests.support.factories import result
from tests.support.probing import (
    dns_target,
    http_target,
    icmp_target,
    probe_context,
    probe_once,
    require_icmp,
    tcp_target,
)
from tests.support.tools import require_root
from tests.support.wait import wait_until

pytestmark = pytest.mark.timeout(30)
LIMITS = Thresholds(down_after=1, up_after=1, slow_latency=1.0, slow_loss=0.2)
# name -> (role, uplink); the LAN router is on no uplink: it counts for both.
TARGETS = {
    "lan": ("local", None),
    "isp-fiber": ("isp", "fiber"),
    "dc-fiber": ("datacenter", "fiber"),
    "isp-4g": ("isp", "4g"),
    "dc-4g": ("datacenter", "4g"),
}
UPLINK_OF = {name: uplink for name, (_, uplink) in TARGETS.items()}


def states(down: str = "", unknown: str = "") -> list[TargetState]:
    """Every target confirmed up except those named in `down` / `unknown` (comma-separated)."""
    out = []
    for name, (role, _) in TARGETS.items():
        state = TargetState(name, role, LIMITS)
        if name not in unknown.split(","):
            state.observe(result(name, ok=name not in down.split(","), role=role))
        out.append(state)
    return out


@pytest.mark.parametrize(
    ("down", "unknown", "link", "fiber", "four_g", "degraded"),
    [
        ("", "", ("up", None), ("up", None), ("up", None), False),
        # The primary's ISP is cut: the ISP is blamed for fiber, the service is up on backup.
        ("isp-fiber,dc-fiber", "", ("up", None), ("down", "isp"), ("up", None), True),
        ("isp-4g,dc-4g", "", ("up", None), ("up", None), ("down", "isp"), True),
        # Both ISPs cut: an outage, blamed on the ISP.
        ("isp-fiber,dc-fiber,isp-4g,dc-4g", "", ("down", "isp"), ("down", "isp"),
         ("down", "isp"), False),
        # The data center is down through both: its fault, an outage.
        ("dc-fiber,dc-4g", "", ("down", "datacenter"), ("down", "datacenter"),
         ("down", "datacenter"), False),
        # The office LAN is down: every uplink is down, blamed on the LAN.
        ("lan,dc-fiber,dc-4g", "", ("down", "local"), ("down", "local"), ("down", "local"), False),
        # The primary is down and the backup not heard from yet: no verdict yet.
        ("isp-fiber,dc-fiber", "isp-4g,dc-4g", ("unknown", None), ("down", "isp"),
         ("unknown", None), False),
    ],
)  # fmt: skip
def test_the_verdict_per_uplink(
    down: str, unknown: str, link: tuple, fiber: tuple, four_g: tuple, degraded: bool
) -> None:
    verdicts = judge_uplinks(states(down, unknown), UPLINK_OF)
    assert (verdicts.link.state, verdicts.link.domain) == link
    assert (verdicts.uplinks["fiber"].state, verdicts.uplinks["fiber"].domain) == fiber
    assert (verdicts.uplinks["4g"].state, verdicts.uplinks["4g"].domain) == four_g
    assert verdicts.degraded is degraded


def test_without_uplinks_the_verdict_is_the_old_one() -> None:
    no_uplinks = {name: None for name in TARGETS}
    # Any data-center target down is an outage, as before issue 16.
    verdicts = judge_uplinks(states("isp-fiber,dc-fiber"), no_uplinks)
    assert verdicts.link.state == "down" and verdicts.uplinks == {}


def _watching(tmp_path: Path) -> tuple[Config, CollectorRegistry, DegradedLedger, UplinkWatch]:
    """An UplinkWatch over TARGETS (TCP targets on two uplinks), its registry and its ledger."""
    config = parse_config(
        {
            "office": {"name": "Grobogan"},
            "targets": [
                {"name": n, "role": r, "kind": "tcp", "host": "127.0.0.1", "port": 9}
                | ({"uplink": u} if u else {})
                for n, (r, u) in TARGETS.items()
            ],
        }
    )
    registry = CollectorRegistry()
    ledger = DegradedLedger(tmp_path / "pantau.db", "grobogan")
    return config, registry, ledger, UplinkWatch(config, Metrics(registry), ledger)


def test_up_on_backup_is_a_gauge_and_a_ledger_row(tmp_path: Path) -> None:
    config, registry, ledger, watch = _watching(tmp_path)

    def sample(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    watch.update(states(), 100.0)
    assert sample("pantau_link_degraded") == 0.0
    assert sample("pantau_target_uplink", target="dc-4g", uplink="4g") == 1.0
    watch.update(states("isp-fiber,dc-fiber"), 200.0)
    assert sample("pantau_link_degraded") == 1.0
    assert sample("pantau_uplink_state", uplink="fiber", state="down") == 1.0
    assert sample("pantau_uplink_state", uplink="4g", state="up") == 1.0
    watch.flush(260.0)
    # Both down: an outage (the tracker's), no longer "up on backup".
    watch.update(states("isp-fiber,dc-fiber,isp-4g,dc-4g"), 300.0)
    assert sample("pantau_link_degraded") == 0.0
    watch.update(states("isp-fiber,dc-fiber"), 400.0)
    watch.update(states(), 450.0)
    assert [row.span(1000.0) for row in ledger.rows(0, 1000)] == [
        (200.0, 300.0, "fiber"),
        (400.0, 450.0, "fiber"),
    ]
    # A row a killed daemon left open ends where it was last seen.
    row = ledger.open("fiber", 500.0)
    ledger.touch(row, 530.0)
    UplinkWatch(config, Metrics(CollectorRegistry()), ledger)
    assert ledger.rows(490.0, 1000.0)[0].ended_at == 530.0
    ledger.close()


# --- sources -----------------------------------------------------------------------------------
def test_check_names_a_source_this_machine_lacks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "pantau.yaml"
    path.write_text(
        "office: {name: Grobogan}\n"
        "targets:\n"
        "  - {name: a, role: isp, kind: tcp, host: 127.0.0.1, port: 9, uplink: fiber,"
        " source: {address: 127.0.0.2}}\n"
        "  - {name: b, role: isp, kind: tcp, host: 127.0.0.1, port: 9, uplink: 4g,"
        " source: {interface: pwwan9}}\n"
        "  - {name: c, role: isp, kind: tcp, host: 127.0.0.1, port: 9,"
        " source: {address: 'fd00:16::2'}}\n",
        encoding="utf-8",
    )
    assert main(["check", "-c", str(path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"{path}: targets[1].source.interface: interface 'pwwan9' does not exist on this"
        " machine; write one that `ip address` lists",
        f"{path}: targets[2].source.address: address fd00:16::2 is not an address of this"
        " machine; write one that `ip address` lists",
    ]
    assert source_problems(parse_config({"office": {"name": "x"}, "targets": [
        {"name": "a", "role": "isp", "kind": "tcp", "host": "127.0.0.1", "port": 9,
         "source": {"interface": "lo"}}]})) == []  # fmt: skip


@pytest.fixture
async def ctx() -> AsyncIterator[ProbeContext]:
    async with probe_context() as ctx:
        yield ctx


BOUND = Source(address="127.0.0.2")
LO = Source(interface="lo")
MISSING = Source(interface="pwwan9")


async def test_tcp_and_http_leave_from_the_source(ctx: ProbeContext) -> None:
    peers: list[str] = []

    async def hello(request: web.Request) -> web.Response:
        assert request.transport is not None
        peers.append(request.transport.get_extra_info("peername")[0])
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/", hello)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        for source, peer in ((None, "127.0.0.1"), (BOUND, "127.0.0.2"), (LO, "127.0.0.1")):
            http = await probe_once(ctx, http_target(f"http://127.0.0.1:{port}/", source=source))
            assert http.ok and peers[-1] == peer, (source, http)
            tcp = tcp_target(port).model_copy(update={"source": source})
            assert (await probe_once(ctx, tcp)).ok
        # SO_BINDTODEVICE to an interface that is not there: the probe cannot leave.
        for target in (http_target(f"http://127.0.0.1:{port}/", source=MISSING),
                       tcp_target(port).model_copy(update={"source": MISSING})):  # fmt: skip
            failed = await probe_once(ctx, target)
            assert (failed.ok, failed.reason) == (False, "unreachable"), failed
    finally:
        await runner.cleanup()


class _Resolver(asyncio.DatagramProtocol):
    """Answers every query with one A record and remembers who asked."""

    def __init__(self) -> None:
        self.peers: list[str] = []
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        query = dns.message.from_wire(data)
        answer = dns.message.make_response(query)
        answer.answer.append(
            dns.rrset.from_text(query.question[0].name, 60, "IN", "A", "10.20.0.5")
        )
        self.peers.append(addr[0])
        assert self.transport is not None
        self.transport.sendto(answer.to_wire(), addr)


async def test_dns_leaves_from_the_source(ctx: ProbeContext) -> None:
    loop = asyncio.get_running_loop()
    transport, resolver = await loop.create_datagram_endpoint(
        _Resolver, local_addr=("127.0.0.1", 0)
    )
    port = transport.get_extra_info("sockname")[1]
    try:
        for source, peer in ((None, "127.0.0.1"), (BOUND, "127.0.0.2"), (LO, "127.0.0.1")):
            target = dns_target(f"127.0.0.1:{port}", "siak.example", source=source)
            got = await probe_once(ctx, target)
            assert got.ok and resolver.peers[-1] == peer, (source, got)
        missing = await probe_once(ctx, dns_target(f"127.0.0.1:{port}", "x.example",
                                                   source=MISSING))  # fmt: skip
        assert (missing.ok, missing.reason) == (False, "unreachable"), missing
    finally:
        transport.close()


async def test_icmp_leaves_from_the_source(ctx: ProbeContext) -> None:
    require_icmp()
    for source in (BOUND, LO):
        got = await probe_once(ctx, icmp_target(source=source, count=2, spacing="50ms"))
        assert got.ok, (source, got)
    missing = await probe_once(ctx, icmp_target(source=MISSING, count=1))
    assert not missing.ok and missing.reason in ("unreachable", "permission"), missing


async def test_the_path_tracer_leaves_from_the_source() -> None:
    require_root("raw sockets")
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        port = server.getsockname()[1]
        settings = TraceSettings(max_ttl=2, probes=2)
        for source in (BOUND, LO):
            found = await trace("127.0.0.1", "tcp", port, settings, source)
            assert found.error is None and found.reached, (source, found)
        gone = await trace("127.0.0.1", "icmp", 0, settings, MISSING)
    assert gone.error == "unreachable" and not gone.hops, gone


async def test_run_names_a_missing_source_and_the_service_is_up_on_backup(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with SimNetwork(icmp=False) as net:
        data = fast_config(net)
        fiber = {"uplink": "fiber", "source": {"address": "127.0.0.2"}}
        gone = {"uplink": "4g", "source": {"interface": "pwwan9"}}
        targets = [t | fiber for t in data["targets"] if t["role"] in ("isp", "datacenter")]
        targets += [t | gone | {"name": f"{t['name']}-4g"} for t in targets]
        data["targets"] = targets
        with caplog.at_level(logging.WARNING, logger="pantau"):
            async with running(data) as daemon:
                watch = daemon.tracker.uplink_watch if daemon.tracker else None
                assert watch is not None
                await wait_until(lambda: watch.last is not None and watch.last.degraded,
                                 what="up on backup")  # fmt: skip
                assert watch.last is not None and watch.last.uplinks["4g"].domain == "isp"
                value = daemon.metrics.registry.get_sample_value("pantau_link_degraded")
                assert value == 1.0 and list(watch.open) == ["4g"]
    index = next(i for i, t in enumerate(targets) if t.get("source") == gone["source"])
    assert (
        f"targets[{index}].source.interface: interface 'pwwan9' does not exist on this machine;"
        " write one that `ip address` lists (its probes fail until it exists)"
    ) in caplog.messages


def test_a_ledger_that_cannot_be_written_leaves_the_verdict_standing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _, registry, ledger, watch = _watching(tmp_path)
    ledger.close()  # every write now fails
    with caplog.at_level(logging.ERROR, logger="pantau.uplinks"):
        verdicts = watch.update(states("isp-fiber,dc-fiber"), 200.0)
        watch.flush(201.0)
    assert verdicts.degraded and registry.get_sample_value("pantau_link_degraded") == 1.0
    assert any("cannot write the degraded row" in m for m in caplog.messages)


async def test_probe_series_carry_the_uplink_label_in_both_renderers() -> None:
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    metrics.set_uplinks(("fiber",), {"dc-fiber": "fiber"})
    for name in ("dc-fiber", "dc"):  # one target on an uplink, one without
        metrics.observe_probe(result(name, ok=False, reason="refused"))
        metrics.observe_probe(result(name, 1.0, kind="icmp", loss=0.5))
        metrics.set_target_state(name, "up")
    fast = (await render(metrics.series, metrics.others)).decode()
    reference = generate_latest(registry).decode()

    def lines(text: str) -> list[str]:
        return sorted(line for line in text.splitlines() if "_created" not in line)

    assert lines(fast) == lines(reference)
    assert 'pantau_target_state{state="up",target="dc-fiber",uplink="fiber"} 1.0' in fast
    assert 'pantau_target_state{state="up",target="dc"} 1.0' in fast  # no empty label
    probe_lines = [line for line in fast.splitlines() if 'target="dc-fiber"' in line]
    assert probe_lines and all('uplink="fiber"' in line for line in probe_lines)
