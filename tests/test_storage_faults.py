"""Storage faults at process level, against a real daemon process: a second daemon on the same
ledger, a small tmpfs that fills and is freed, a write lock held by another process for 5 s.
(The deleted or replaced file, in-process: tests/test_storage_moved.py.)"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from monitor.ledger import Ledger
from monitor.sim import SimNetwork
from tests.support.daemon import INTERVAL, TIMEOUT, fast_config
from tests.support.process import OFFICE, hold_write_lock, ledger_view, start_daemon, stop
from tests.support.tools import require_root, require_tool
from tests.support.wait import wait_until


@pytest.fixture
async def net():
    async with SimNetwork(icmp=False) as network:
        yield network


def write_config(net: SimNetwork, tmp_path: Path, db: Path) -> Path:
    data = fast_config(net)
    data["storage"] = {"path": str(db)}
    path = tmp_path / "pantau.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def port_of(log: Path) -> int | None:
    ports = re.findall(r"listening on http://127\.0\.0\.1:(\d+)/metrics", log.read_text())
    return int(ports[-1]) if ports else None


def get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def sample(text: str, name: str, **labels: str) -> float:
    """Sum of the samples of `name` whose labels include `labels`."""
    total = 0.0
    for line in text.splitlines():
        match = re.match(r"^(\w+)(\{[^}]*\})? (\S+)$", line)
        if not match or match[1] != name:
            continue
        if all(f'{k}="{v}"' in (match[2] or "") for k, v in labels.items()):
            total += float(match[3])
    return total


async def fetch(port: int, path: str) -> tuple[int, str]:
    return await asyncio.to_thread(get, port, path)


async def link_state(port: int) -> str:
    return json.loads((await fetch(port, "/api/status"))[1])["link"]["state"]


async def apoll(check, what: str, timeout: float = 20.0):  # type: ignore[no-untyped-def]
    """Poll an async condition (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def test_a_second_daemon_on_the_same_ledger_refuses_to_start(
    net: SimNetwork, tmp_path: Path
) -> None:
    db = tmp_path / "ledger.db"
    config = write_config(net, tmp_path, db)
    log = tmp_path / "first.log"
    first = start_daemon(config, log)
    try:
        await wait_until(lambda: port_of(log), 15, "the first daemon to listen")
        second = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "monitor.cli", "run", "-c", str(config)],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert first.poll() is None  # the first one goes on
        port = port_of(log)
        assert port is not None and (await fetch(port, "/healthz"))[0] == 200
    finally:
        stop(first)
    assert second.returncode == 1
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1, second.stderr  # one line, no traceback, nothing logged as started
    assert f"pid {first.pid}" in lines[0] and "storage.path" in lines[0]
    assert "in use by another Pantau" in lines[0]
    assert second.stdout == ""


def fill(path: Path) -> int:
    """Write 64 KiB blocks until the file system is full (bounded); the bytes written."""
    written = 0
    with path.open("wb") as out:
        for _ in range(4096):
            try:
                out.write(b"\0" * 65536)
                out.flush()
            except OSError:
                break
            written += 65536
    return written


def mount_tmpfs(where: Path, size: str) -> None:
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "pstorage", str(where)],
                   check=True, timeout=30)  # fmt: skip


def umount(where: Path) -> None:
    if subprocess.run(["umount", str(where)], check=False, timeout=30).returncode != 0:
        subprocess.run(["umount", "-l", str(where)], check=False, timeout=30)  # still busy


async def test_a_full_disk_is_loud_and_the_outage_survives_it(
    net: SimNetwork, tmp_path: Path
) -> None:
    require_root("mounts a small tmpfs for the ledger")
    require_tool("mount", "apt-get install mount")
    disk = tmp_path / "disk"
    disk.mkdir()
    mount_tmpfs(disk, "8m")
    try:
        db = disk / "ledger.db"
        config = write_config(net, tmp_path, db)
        log = tmp_path / "daemon.log"
        daemon = start_daemon(config, log)
        try:
            await wait_until(lambda: db.exists() and ledger_view(db)[2], 15, "a heartbeat")
            port = port_of(log)
            assert port is not None
            filler = disk / "filler"
            await asyncio.to_thread(fill, filler)

            async def failing() -> bool:
                return (await fetch(port, "/healthz"))[0] == 503

            await apoll(failing, "/healthz to turn 503")
            _, body = await fetch(port, "/healthz")
            assert "ledger write failed" in body and "full" in body, body
            text = (await fetch(port, "/metrics"))[1]
            assert sample(text, "pantau_ledger_errors_total", reason="write") >= 1
            assert sample(text, "pantau_ledger_writable") == 0

            # A whole outage while nothing can be written.
            injected = time.time()
            await net.set_mode("datacenter", "down")

            async def is_(state: str) -> bool:
                return await link_state(port) == state

            await apoll(lambda: is_("down"), "the outage")
            await asyncio.sleep(1.0)
            restored = time.time()
            await net.set_mode("datacenter", "ok")
            await apoll(lambda: is_("up"), "the link back up")
            assert (await fetch(port, "/healthz"))[0] == 503  # still full
            assert ledger_view(db)[0] == []  # nothing of it on disk yet

            filler.unlink()  # the disk recovers

            async def healthy() -> bool:
                return (await fetch(port, "/healthz"))[0] == 200

            await apoll(healthy, "/healthz back to 200")
            assert stop(daemon) < 5.0
        finally:
            if daemon.poll() is None:
                daemon.kill()
                daemon.wait(timeout=10)
        assert daemon.returncode == 0, log.read_text()
        (outage,) = ledger_view(db)[0]
        tolerance = INTERVAL + TIMEOUT + 0.1
        assert abs(outage.started_at - injected) <= tolerance, (outage.started_at, injected)
        assert outage.ended_at is not None
        assert abs(outage.ended_at - restored) <= tolerance, (outage.ended_at, restored)
        text = log.read_text()
        errors = [line for line in text.splitlines() if " ERROR ledger write failed" in line]
        assert len(errors) == 1, text  # once, not every 2 s
        assert "ledger writable again" in log.read_text()
    finally:
        umount(disk)


async def test_a_write_lock_held_elsewhere_for_5s_stalls_neither_probes_nor_metrics(
    net: SimNetwork, tmp_path: Path
) -> None:
    db = tmp_path / "ledger.db"
    config = write_config(net, tmp_path, db)
    log = tmp_path / "daemon.log"
    daemon = start_daemon(config, log)
    try:
        await wait_until(lambda: db.exists() and ledger_view(db)[2], 15, "a heartbeat")
        port = port_of(log)
        assert port is not None
        holder = hold_write_lock(db, 5.0)
        try:
            assert holder.stdout is not None
            held_from = float(await asyncio.to_thread(holder.stdout.readline))
            answers = []
            for _ in range(200):  # bounded: ~50 ms apart, the hold is 5 s
                if holder.poll() is not None:
                    break
                status, text = await fetch(port, "/metrics")
                answers.append((time.time(), status, sample(text, "pantau_probes_total")))
                await asyncio.sleep(0.05)
            held_to = float(await asyncio.to_thread(holder.stdout.readline))
            holder.wait(timeout=10)
        finally:
            if holder.poll() is None:
                holder.kill()
            assert holder.stdout is not None
            holder.stdout.close()
        during = [a for a in answers if held_from < a[0] < held_to]
        assert all(status == 200 for _, status, _ in during)
        # A flush falls in the first 2 s of the hold; a write on the loop would stall it there
        # until the lock goes. Answers from both ends of the hold show nothing stalled.
        early = [a for a in during if a[0] < held_from + 2.5]
        late = [a for a in during if a[0] > held_from + 3.0]
        assert early and late, (held_from, held_to, [a[0] for a in answers])
        assert late[-1][2] > early[0][2]  # and probes went on while the ledger was locked
        await asyncio.sleep(2.5)  # the next flush writes what waited
        text = (await fetch(port, "/metrics"))[1]
        assert sample(text, "pantau_ledger_commits_delayed_total") >= 1
        # The loop never waited for the lock: /metrics answered about every 50 ms through the
        # hold, where a write on the loop would stall it until the lock goes (3 s or more). Gaps
        # are judged rather than pantau_probes_skipped_total == 0: a loaded machine pausing the
        # process for 100 ms also skips a probe (seen once with two CPU burners beside the suite).
        times = [at for at, _, _ in during]
        longest = max(b - a for a, b in itertools.pairwise(times))
        assert longest < 1.5, f"/metrics did not answer for {longest:.2f} s during the hold"
        assert stop(daemon) < 5.0
    finally:
        if daemon.poll() is None:
            daemon.kill()
    assert daemon.returncode == 0, log.read_text()
    ledger = Ledger(db, OFFICE)
    try:
        kept = ledger.samples(held_from + 0.5, held_to - 0.5)
    finally:
        ledger.close()
    assert kept  # the probes of the locked seconds reached the ledger afterwards


async def test_rapid_sigkill_restarts_leave_no_overlapping_gaps(
    net: SimNetwork, tmp_path: Path
) -> None:
    db = tmp_path / "ledger.db"
    config = write_config(net, tmp_path, db)
    log = tmp_path / "daemon.log"
    # Killed (counted from its "started" line) before, around and after its first verdict
    # (~0.2 s) and its first flush (2 s).
    for run, delay in enumerate((2.2, 0.0, 0.25, 1.9, 0.1)):  # the first leaves a heartbeat
        daemon = start_daemon(config, log)
        try:
            await wait_until(
                lambda n=run: log.read_text().count("pantau started") > n, 15, "the start"
            )
            await asyncio.sleep(delay)
            daemon.send_signal(signal.SIGKILL)
            daemon.wait(timeout=10)
        finally:
            if daemon.poll() is None:
                daemon.kill()
    last = start_daemon(config, log)
    try:
        await wait_until(lambda: len(ledger_view(db)[1]) >= 2, 15, "the gaps of the restarts")
        assert stop(last) < 5.0
    finally:
        if last.poll() is None:
            last.kill()
    gaps = ledger_view(db)[1]
    assert len(gaps) >= 2
    for first, second in itertools.pairwise(gaps):
        assert first.ended_at <= second.started_at, gaps
