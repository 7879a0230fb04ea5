"""The simulated office network: modes switch at runtime, ports survive, config validates."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import AsyncIterator

import aiohttp
import pytest
import yaml
from aiohttp import web

from monitor.config import parse_config
from monitor.probes.context import ProbeContext
from monitor.sim import DataCenterApp, SimNetwork, TcpPort, control_app
from monitor.sim.__main__ import parse_args
from monitor.sim.timeline import DEMO_TIMELINE, Step, due_steps, play
from tests.support.probing import probe_context, probe_once

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
async def ctx() -> AsyncIterator[ProbeContext]:
    async with probe_context() as ctx:
        yield ctx


@pytest.fixture
async def net() -> AsyncIterator[SimNetwork]:
    async with SimNetwork() as net:
        yield net


async def probe_all(ctx: ProbeContext, net: SimNetwork) -> dict[str, str]:
    config = parse_config(net.config(), "sim")
    results = await asyncio.gather(*(probe_once(ctx, t, 1.0) for t in config.targets))
    return {r.target: r.result_label for r in results}


async def test_generated_config_validates_and_every_target_succeeds(ctx, net):
    config = parse_config(net.config(listen="127.0.0.1:19470"), "sim")

    assert config.listen == "127.0.0.1:19470"
    names = [t.name for t in config.targets]
    expected = ["isp-dns", "public-anchor", "dc-siak", "dc-vpn"]
    assert names == (["office-router", *expected] if net.icmp else expected)
    assert {t.role for t in config.targets} >= {"isp", "internet", "datacenter"}
    outcome = await probe_all(ctx, net)
    assert set(outcome.values()) == {"success"}, outcome


async def test_yaml_config_parses_to_the_same_config(net):
    assert parse_config(yaml.safe_load(net.config_yaml()), "y") == parse_config(net.config())


async def test_a_data_center_outage_shows_only_on_datacenter_targets(ctx, net):
    await net.set_mode("datacenter", "down")
    await net.set_mode("vpn", "down")

    outcome = await probe_all(ctx, net)

    assert outcome["dc-siak"] == "refused"
    assert outcome["dc-vpn"] == "refused"
    assert outcome["isp-dns"] == "success"
    assert outcome["public-anchor"] == "success"


async def test_faults_heal_on_the_same_ports(ctx, net):
    ports = {name: server.port for name, server in net.servers.items()}
    for name, mode in [("datacenter", "hang"), ("vpn", "hang"), ("dns", "down")]:
        await net.set_mode(name, mode)
    for name in ("datacenter", "vpn", "dns"):
        await net.set_mode(name, "ok")

    assert {name: server.port for name, server in net.servers.items()} == ports
    assert set((await probe_all(ctx, net)).values()) == {"success"}


async def test_bad_server_or_mode_names_the_choices(net):
    with pytest.raises(ValueError, match=r"server must be one of datacenter, vpn, dns, anchor"):
        await net.set_mode("router", "down")
    with pytest.raises(ValueError, match=r"mode for vpn must be one of ok, down, hang; got 'slow'"):
        await net.set_mode("vpn", "slow")


async def test_stop_releases_every_port():
    net = SimNetwork()
    await net.start()
    ports = [server.port for server in net.servers.values()]  # the DNS one listens on TCP too
    await net.stop()

    for port in ports:
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection("127.0.0.1", port)
    assert not net.workdir.exists()


async def test_stop_does_not_wait_for_a_hanging_request():
    app = DataCenterApp("127.0.0.1", 0, mode="hang")
    await app.start()
    async with aiohttp.ClientSession() as session:
        request = asyncio.create_task(session.get(app.url))
        async with asyncio.timeout(2):
            await app.request_arrived.wait()
            await app.stop()
        with pytest.raises(aiohttp.ClientError):
            async with asyncio.timeout(2):
                response = await request
                await response.read()
                response.raise_for_status()


@pytest.fixture
async def control() -> AsyncIterator[tuple[str, dict]]:
    servers = {"http": DataCenterApp("127.0.0.1", 0), "tcp": TcpPort("127.0.0.1", 0)}
    runner = web.AppRunner(control_app(servers))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}", servers
    await runner.cleanup()


async def test_control_api_switches_modes(control):
    base, servers = control
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{base}/mode", params={"server": "http", "mode": "slow", "delay": "3"}
        ) as r:
            assert r.status == 200
            body = await r.json()
        async with session.post(f"{base}/mode", params={"server": "tcp", "mode": "nope"}) as bad:
            assert bad.status == 400
            assert "must be one of ok, down, hang" in await bad.text()
        async with session.get(f"{base}/status") as status:
            current = await status.json()

    assert servers["http"].mode == "slow"
    assert servers["http"].delay == 3.0
    assert body["servers"]["http"]["mode"] == "slow"
    assert current["servers"]["tcp"] == {
        "mode": "ok",
        "port": servers["tcp"].port,
        "modes": ["ok", "down", "hang"],
    }


async def test_control_api_rejects_cert_change_on_plain_http(control):
    base, _ = control
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{base}/cert", params={"variant": "expired"}) as r:
            assert r.status == 400
            assert "not an https server" in await r.text()


async def test_module_entry_point_serves_and_stops_on_sigterm(ctx):
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "monitor.sim",
        "--http",
        "127.0.0.1:0",
        "--tcp",
        "127.0.0.1:0",
        "--dns",
        "127.0.0.1:0",
        "--control",
        "127.0.0.1:0",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(10):
            ready = json.loads(await proc.stdout.readline())
        control_url = ready["control"]
        http_port = ready["servers"]["http"]["port"]
        async with aiohttp.ClientSession() as session:
            async with session.post(
                f"{control_url}mode", params={"server": "http", "mode": "down"}
            ) as r:
                assert r.status == 200
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection("127.0.0.1", http_port)
        proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(5):
            _, stderr = await proc.communicate()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, stderr.decode()
    assert set(ready["servers"]) == {"http", "tcp", "dns"}


def test_entry_point_needs_a_server():
    with pytest.raises(SystemExit) as exit_info:
        parse_args(["--control", "127.0.0.1:0"])
    assert exit_info.value.code == 2


def test_due_steps_repeat_every_cycle():
    steps = (Step(10, "datacenter", "down"), Step(30, "datacenter", "ok"))

    due = due_steps(steps, after=25, until=135, cycle=120)

    assert [(when, step.mode) for when, step in due] == [(30, "ok"), (130, "down")]
    assert due_steps(steps, after=10, until=29, cycle=120) == []  # (after, until]: 10 is done
    assert [w for w, _ in due_steps(steps, after=-1, until=500, cycle=None)] == [10, 30]


def test_demo_timeline_shows_an_outage_start_and_end_within_a_minute():
    due = due_steps(DEMO_TIMELINE, after=-1, until=60)

    dc = [(when, step.mode) for when, step in due if step.server == "datacenter"]
    assert dc[:2] == [(8, "down"), (28, "ok")]
    assert {step.server for _, step in due} <= {"datacenter", "vpn", "dns", "anchor"}


async def test_play_applies_steps_to_the_network(net):
    seen: list[tuple[float, str, str]] = []
    steps = (Step(0, "vpn", "down"), Step(0, "dns", "servfail"), Step(0.05, "vpn", "ok"))

    def record(at: float, step: Step) -> None:
        seen.append((at, step.server, step.mode))

    async with asyncio.timeout(5):
        await play(net, steps, cycle=None, on_step=record)

    assert seen == [(0, "vpn", "down"), (0, "dns", "servfail"), (0.05, "vpn", "ok")]
    assert (net.vpn.mode, net.dns.mode) == ("ok", "servfail")
