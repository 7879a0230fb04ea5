"""The ledger across a real daemon process: SIGKILL mid-outage, restart, SIGTERM."""

from __future__ import annotations

import asyncio
import re
import signal
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from monitor.sim import SimNetwork
from tests.support.daemon import fast_config
from tests.support.process import ledger_view, start_daemon, stop
from tests.support.wait import wait_until


@pytest.fixture
async def net():
    async with SimNetwork(icmp=False) as network:
        yield network


def metric(log: Path, name: str) -> float:
    """A sample from the /metrics of the daemon that last logged its address."""
    ports = re.findall(r"listening on http://127\.0\.0\.1:(\d+)/metrics", log.read_text())
    with urllib.request.urlopen(f"http://127.0.0.1:{ports[-1]}/metrics", timeout=5) as r:
        text = r.read().decode()
    (value,) = re.findall(rf"^{name} (\S+)$", text, re.M)
    return float(value)


def write_config(net: SimNetwork, tmp_path: Path) -> tuple[Path, Path]:
    data = fast_config(net)
    db = tmp_path / "ledger.db"
    data["storage"] = {"path": str(db)}
    path = tmp_path / "pantau.yaml"
    path.write_text(yaml.safe_dump(data))
    return path, db


async def kill_during_outage(net: SimNetwork, config: Path, db: Path, log: Path) -> float:
    """Start the daemon, take the data center down, SIGKILL it mid-outage; the kill time."""
    daemon = start_daemon(config, log)
    try:
        await wait_until(lambda: ledger_view(db)[2] if db.exists() else None, 15, "a heartbeat")
        await net.set_mode("datacenter", "down")
        await wait_until(lambda: ledger_view(db)[0], 15, "the outage in the ledger")
        await asyncio.sleep(2.5)  # let at least one flush carry evidence and a heartbeat
        killed_at = time.time()
        daemon.send_signal(signal.SIGKILL)
        daemon.wait(timeout=10)
    finally:
        if daemon.poll() is None:
            daemon.kill()
    return killed_at


async def test_sigkill_mid_outage_then_restart_while_still_down(
    net: SimNetwork, tmp_path: Path
) -> None:
    config, db = write_config(net, tmp_path)
    log = tmp_path / "daemon.log"
    killed_at = await kill_during_outage(net, config, db, log)
    await asyncio.sleep(1.5)  # the daemon is gone; the data center stays down
    second = start_daemon(config, log)
    try:
        gaps = await wait_until(lambda: ledger_view(db)[1], 15, "the unmonitored gap")
        unmonitored = await asyncio.to_thread(metric, log, "pantau_unmonitored_seconds_total")
        assert unmonitored == pytest.approx(gaps[0].ended_at - gaps[0].started_at, abs=0.01)
        await net.set_mode("datacenter", "ok")
        await wait_until(
            lambda: all(e.ended_at for e in ledger_view(db)[0]), 15, "the outage to close"
        )
        restored_at = time.time()
        assert stop(second) < 5.0
    finally:
        if second.poll() is None:
            second.kill()
    assert second.returncode == 0, log.read_text()
    episodes, gaps, _ = ledger_view(db)
    (outage,) = episodes  # one outage, continued across the restart, nothing duplicated
    (gap,) = gaps
    assert outage.kind == "outage" and outage.main_domain(outage.ended_at) == "datacenter"
    assert killed_at - 2.5 <= gap.started_at <= killed_at  # the last flush before the kill
    assert gap.ended_at > killed_at + 1.0
    assert outage.started_at < gap.started_at < gap.ended_at < outage.ended_at <= restored_at


async def test_link_back_while_the_daemon_was_dead_closes_the_outage_at_its_last_evidence(
    net: SimNetwork, tmp_path: Path
) -> None:
    config, db = write_config(net, tmp_path)
    log = tmp_path / "daemon.log"
    await kill_during_outage(net, config, db, log)
    _, _, last_seen = ledger_view(db)
    await net.set_mode("datacenter", "ok")  # it comes back while nobody watches
    await asyncio.sleep(1.0)
    second = start_daemon(config, log)
    try:
        await wait_until(lambda: ledger_view(db)[1], 15, "the unmonitored gap")
        assert stop(second) < 5.0
    finally:
        if second.poll() is None:
            second.kill()
    episodes, gaps, _ = ledger_view(db)
    (outage,) = episodes
    (gap,) = gaps
    assert outage.ended_at == pytest.approx(last_seen)  # closed where the evidence ends
    assert gap.started_at == pytest.approx(last_seen)


async def test_sigterm_stops_within_five_seconds_and_keeps_the_open_outage(
    net: SimNetwork, tmp_path: Path
) -> None:
    config, db = write_config(net, tmp_path)
    log = tmp_path / "daemon.log"
    daemon = start_daemon(config, log)
    try:
        await wait_until(lambda: ledger_view(db)[2] if db.exists() else None, 15, "a heartbeat")
        await net.set_mode("datacenter", "down")
        await wait_until(lambda: ledger_view(db)[0], 15, "the outage in the ledger")
        took = stop(daemon, signal.SIGTERM)
    finally:
        if daemon.poll() is None:
            daemon.kill()
    assert daemon.returncode == 0 and took < 5.0, log.read_text()
    (outage,) = ledger_view(db)[0]
    assert outage.ended_at is None  # still open: the next run continues or closes it
