"""The ledger file deleted or replaced under a running daemon: detected at the next write,
reported (ERROR, /healthz 503, pantau_ledger_errors_total), and nothing lost: the daemon copies
what it has to `<path>.rescued-<time>` and goes on writing there, never into a foreign file."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest

from monitor.daemon import Daemon
from monitor.ledger import Ledger
from monitor.sim import SimNetwork
from tests.support.daemon import fast_config, link, running
from tests.support.wait import wait_until

OFFICE = "dispendukcapil-simulasi"


@pytest.fixture
async def net():
    async with SimNetwork(icmp=False) as network:
        yield network


def beat_on_disk(db: Path) -> float | None:
    ledger = Ledger(db, OFFICE)
    try:
        return ledger.last_seen()
    finally:
        ledger.close()


def errors(daemon: Daemon, reason: str) -> float | None:
    return daemon.metrics.registry.get_sample_value(
        "pantau_ledger_errors_total", {"reason": reason}
    )


def outages(ledger: Ledger) -> list:
    """The outages only: a loaded machine can also record a true but unrelated "slow" episode."""
    return [e for e in ledger.episodes(0, 2e10) if e.kind == "outage"]


def rescued_copies(where: Path) -> list[Path]:
    return sorted(where.glob("ledger.db.rescued-*Z"))  # not its -wal, -shm


async def outage_in(daemon: Daemon, net: SimNetwork) -> None:
    await net.set_mode("datacenter", "down")
    await wait_until(lambda: link(daemon)[0] == "down", what="the outage")
    await net.set_mode("datacenter", "ok")
    await wait_until(lambda: link(daemon)[0] == "up", what="the link back")


async def test_a_deleted_ledger_is_reported_and_rescued_with_everything(
    net: SimNetwork, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "ledger.db"
    caplog.set_level(logging.INFO)
    async with running(fast_config(net, storage={"path": str(db)})) as daemon:
        await wait_until(lambda: beat_on_disk(db) is not None, what="a heartbeat on disk")
        first_seen = Ledger(db, OFFICE).first_seen()
        for name in ("ledger.db", "ledger.db-wal", "ledger.db-shm"):
            (tmp_path / name).unlink(missing_ok=True)
        await wait_until(lambda: daemon.health_problem() is not None, what="the report")
        problem = daemon.health_problem()
        assert problem is not None and "was deleted" in problem
        assert errors(daemon, "deleted") == 1.0
        assert daemon.metrics.registry.get_sample_value("pantau_ledger_writable") == 0.0
        (rescued,) = rescued_copies(tmp_path)
        assert str(rescued) in problem
        await outage_in(daemon, net)  # evidence after the deletion goes on being written
        assert daemon.ledger is not None and len(outages(daemon.ledger)) == 1
    assert not db.exists()  # nothing wrote a new, partial ledger at the old path
    kept = Ledger(rescued, OFFICE)
    try:
        assert kept.first_seen() == first_seen  # the history from before the deletion
        (outage,) = outages(kept)  # and the outage after it
        assert outage.ended_at is not None
    finally:
        kept.close()
    logged = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(logged) == 1 and "deleted" in logged[0].getMessage()


async def test_a_replaced_ledger_is_reported_and_left_alone(
    net: SimNetwork, tmp_path: Path
) -> None:
    db = tmp_path / "ledger.db"
    async with running(fast_config(net, storage={"path": str(db)})) as daemon:
        await wait_until(lambda: beat_on_disk(db) is not None, what="a heartbeat on disk")
        db.rename(tmp_path / "moved-away.db")
        foreign = sqlite3.connect(db)
        foreign.execute("CREATE TABLE restored_from_backup (x)")
        foreign.commit()
        foreign.close()
        await wait_until(lambda: errors(daemon, "replaced") == 1.0, what="the report")
        problem = daemon.health_problem()
        assert problem is not None and "was replaced" in problem
        await outage_in(daemon, net)
    tables = sqlite3.connect(db).execute("SELECT name FROM sqlite_master").fetchall()
    assert tables == [("restored_from_backup",)]  # not a row of ours in someone else's file
    (rescued,) = rescued_copies(tmp_path)
    kept = Ledger(rescued, OFFICE)
    try:
        assert len(outages(kept)) == 1
    finally:
        kept.close()
