"""The command line as people use it: probe, outages (agreeing with the API), calendar, demo."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
import yaml

from monitor.cli import main
from monitor.sim import SimNetwork
from tests.support.daemon import fast_config, link, running
from tests.support.wait import wait_until

PANTAU = [sys.executable, "-m", "monitor.cli"]


@pytest.fixture
async def net():
    async with SimNetwork(icmp=False) as network:
        yield network


async def _run(*args: str) -> subprocess.CompletedProcess[str]:
    import asyncio

    return await asyncio.to_thread(
        subprocess.run, [*PANTAU, *args], capture_output=True, text=True, timeout=60
    )


async def test_probe_prints_phases_and_exits_0_on_success(net: SimNetwork) -> None:
    done = await _run("probe", net.datacenter.url, "--insecure")
    assert done.returncode == 0, done.stderr
    for word in ("OK", "dns", "connect", "tls", "ttfb", "total", "cert expires"):
        assert word in done.stdout


async def test_probe_exits_1_with_the_reason_on_failure(net: SimNetwork) -> None:
    await net.set_mode("vpn", "down")
    done = await _run("probe", f"tcp://127.0.0.1:{net.vpn.port}")
    assert done.returncode == 1
    assert "FAILED (refused)" in done.stdout


async def test_probe_dns_json(net: SimNetwork) -> None:
    done = await _run("probe", f"dns://{net.dns.address}/siak.kemendagri.go.id", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["detail"] == "A 10.20.0.5"


def test_probe_rejects_what_it_cannot_probe(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["probe", "ftp://127.0.0.1/"]) == 1
    assert "write one of https://host/path" in capsys.readouterr().err


async def test_outages_command_agrees_with_the_api(net: SimNetwork, tmp_path: Path) -> None:
    config = fast_config(net)
    async with running(config) as daemon:
        await net.set_mode("datacenter", "down")
        await wait_until(lambda: link(daemon)[0] == "down", what="outage")
        await net.set_mode("datacenter", "ok")
        await wait_until(lambda: link(daemon)[0] == "up", what="recovery")
        day = daemon.clock.now().astimezone(daemon.config.office.zone).date().isoformat()
        url = f"http://127.0.0.1:{daemon.port}/api/outages"
        async with aiohttp.ClientSession() as http:
            async with http.get(url, params={"from": day, "to": day}) as response:
                api = await response.json()
    path = tmp_path / "pantau.yaml"
    path.write_text(yaml.safe_dump(config))
    done = await _run("outages", "-c", str(path), "--from", day, "--to", day, "--format", "json")
    assert done.returncode == 0, done.stderr
    cli = json.loads(done.stdout)
    # The account runs to `now`: monitored and not-yet seconds move on between the two reads;
    # what happened (lost, slow, scheduled) and everything else must be equal.
    fixed = ("date", "scheduled_seconds", "lost_by_domain", "slow_by_domain", "outages")
    for a, b in zip(cli.pop("days"), api.pop("days"), strict=True):
        assert {k: a[k] for k in fixed} == {k: b[k] for k in fixed}
    cli.pop("total"), api.pop("total")
    assert cli == api
    assert len(api["outages"]) == 1
    csv_out = await _run("outages", "-c", str(path), "--from", day, "--format", "csv")
    assert csv_out.stdout.splitlines()[0].startswith("kind,start_local,end_local")
    assert csv_out.stdout.count("\noutage,") == 1


def test_outages_without_a_ledger_says_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "pantau.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "office": {"name": "X"},
                "storage": {"path": str(tmp_path / "none.db")},
                "targets": [{"name": "a", "role": "datacenter", "kind": "tcp",
                             "host": "127.0.0.1", "port": 1}],
            }
        )
    )  # fmt: skip
    assert main(["outages", "-c", str(path), "--from", "2026-12-01"]) == 1
    assert "run `pantau run` first" in capsys.readouterr().err


def test_calendar_command_prints_holidays(capsys: pytest.CaptureFixture[str]) -> None:
    config = Path(__file__).parent / "fixtures" / "config" / "good-issue.yaml"
    args = ["calendar", "-c", str(config), "--from", "2026-12-24", "--to", "2026-12-25"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Natal" in out and "tutup" in out


def test_run_refuses_a_busy_port(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        path = tmp_path / "pantau.yaml"
        path.write_text(
            yaml.safe_dump(
                {
                    "office": {"name": "X"},
                    "listen": f"127.0.0.1:{port}",
                    "storage": {"path": str(tmp_path / "l.db")},
                    "targets": [{"name": "a", "role": "datacenter", "kind": "tcp",
                                 "host": "127.0.0.1", "port": 1}],
                }
            )
        )  # fmt: skip
        assert main(["run", "-c", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"listen: cannot listen on 127.0.0.1:{port}" in err and "Traceback" not in err


async def test_demo_shows_an_outage_start_and_end() -> None:
    done = await _run("demo", "--duration", "34s", "--listen", "127.0.0.1:0")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "OUTAGE started, fault domain: datacenter" in out
    assert out.index("OUTAGE started") < out.index("LINK UP", out.index("OUTAGE started"))
    assert "/metrics" in out
    ledger = out[out.index("Outage ledger") :]
    assert "\noutage " in ledger and "datacenter" in ledger


async def test_run_freezes_its_long_lived_objects_out_of_the_collector(net: SimNetwork) -> None:
    """`pantau run` calls gc.freeze() once the daemon is up and again after the first round of
    probes: full collections skip its heap."""
    import asyncio
    import gc

    from monitor.cli.run import serve, warm_up_seconds
    from monitor.config import parse_config

    assert gc.get_freeze_count() == 0
    stop = asyncio.Event()
    config = parse_config(fast_config(net))
    task = asyncio.create_task(serve(config, stop))
    try:
        await wait_until(lambda: gc.get_freeze_count() > 0, what="gc.freeze() after start")
        at_start = gc.get_freeze_count()
        # Once every target has run (warm_up_seconds), what the first round keeps is frozen too.
        await wait_until(
            lambda: gc.get_freeze_count() > at_start,
            timeout=warm_up_seconds(config) + 5,
            what="gc.freeze() after the first round of probes",
        )
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        gc.unfreeze()  # the rest of the test session collects as usual
