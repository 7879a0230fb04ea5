"""The ledger file's schema: ordered migrations with `PRAGMA user_version`, from any older file."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from monitor.ledger import Ledger
from monitor.ledger_schema import MIGRATIONS, VERSION, SchemaError, migrate, version_of
from monitor.path.store import PathStore
from monitor.report.outbox import Outbox

FIXTURES = Path(__file__).parent / "fixtures" / "ledger"
OFFICE = "dispendukcapil-contoh"
T0 = 1763863200.0  # 2026-11-23 02:00 UTC, the fixture's first outage


def _copy(tmp_path: Path) -> Path:
    path = tmp_path / "pantau.db"
    shutil.copy(FIXTURES / "pantau-01bc6c9.db", path)
    return path


def test_the_migrations_are_numbered_in_order() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))
    assert VERSION == len(MIGRATIONS)


def test_a_ledger_written_before_versioning_is_migrated_and_keeps_everything(
    tmp_path: Path,
) -> None:
    path = _copy(tmp_path)
    with sqlite3.connect(path) as db:
        assert version_of(db) == 0
    ledger = Ledger(path, OFFICE)
    try:
        assert version_of(ledger._db) == VERSION
        outage, slow = ledger.episodes(T0 - 86400, T0 + 86400)
        assert (outage.kind, outage.started_at, outage.ended_at) == ("outage", T0, T0 + 600)
        assert outage.domains == [(T0, "isp")]
        assert outage.evidence["targets"]["isp-gw"]["count"] == 3
        assert (slow.kind, slow.domains[0][1]) == ("slow", "datacenter")
        assert [(g.started_at, g.ended_at) for g in ledger.gaps(0, T0 + 86400)] == [
            (T0 - 1800, T0 - 1200)
        ]
        assert (ledger.first_seen(), ledger.last_seen()) == (T0 - 3600, T0 + 7200)
        assert len(ledger.samples(0, T0 + 86400)) == 12
    finally:
        ledger.close()
    outbox = Outbox(path, OFFICE)
    try:
        sent, queued = outbox.get(date(2026, 11, 23)), outbox.get(date(2026, 11, 24))
        assert sent is not None and sent.status == "sent" and sent.message_id == "<r1@pantau>"
        assert queued is not None and queued.status == "queued"
        outbox._db.execute("UPDATE report_outbox SET status = 'failed'")  # allowed after 4
    finally:
        outbox.close()
    store = PathStore(path, OFFICE)
    try:
        assert store.baseline("dc-siak") is None  # the table exists (migration 5), empty
    finally:
        store.close()


def test_each_migration_runs_once_whoever_opens_the_file_first(tmp_path: Path) -> None:
    path = _copy(tmp_path)
    db = sqlite3.connect(path, isolation_level=None)
    try:
        assert migrate(db) == len(MIGRATIONS)
        assert migrate(db) == 0
        store = PathStore(path, OFFICE)  # opens it again: nothing left to do
        store.close()
        assert version_of(db) == VERSION
    finally:
        db.close()


def test_a_failed_migration_leaves_the_version_before_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _copy(tmp_path)

    def broken(db: sqlite3.Connection) -> None:
        db.execute("CREATE TABLE half_done (x)")
        raise sqlite3.OperationalError("disk I/O error")

    last = MIGRATIONS[-1]
    monkeypatch.setattr(
        "monitor.ledger_schema.MIGRATIONS",
        (*MIGRATIONS[:-1], type(last)(last.version, last.what, broken)),
    )
    db = sqlite3.connect(path, isolation_level=None)
    try:
        with pytest.raises(sqlite3.OperationalError):
            migrate(db)
        assert version_of(db) == VERSION - 1
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert "half_done" not in tables
    finally:
        db.close()


def test_a_file_from_a_newer_pantau_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "pantau.db"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {VERSION + 1}")
    with pytest.raises(SchemaError, match=r"^storage\.path: .*newer Pantau"):
        Ledger(path, OFFICE)
