"""Memory bounds that are settings, not measurements (the figures: docs/performance.md)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from monitor.cli.run import release_free_heap
from monitor.ledger import Ledger
from monitor.ledger_schema import CACHE_KIB
from monitor.ledger_writer import BufferedLedger
from monitor.maintenance.central import CentralStore
from monitor.path.store import PathStore
from monitor.report.outbox import Outbox
from monitor.uplinks.ledger import DegradedLedger


def _cache_size(db: sqlite3.Connection | None) -> int:
    assert db is not None
    return int(db.execute("PRAGMA cache_size").fetchone()[0])


def test_every_connection_to_the_ledger_file_caps_its_page_cache(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    stores = [
        Ledger(path, "office"),
        BufferedLedger(path, "office"),
        PathStore(path, "office"),
        DegradedLedger(path, "office"),
        CentralStore(path, "office"),
        Outbox(path, "office"),
    ]
    try:
        for store in stores:
            assert _cache_size(store._db) == -CACHE_KIB, type(store).__name__  # negative: KiB
        moved = tmp_path / "moved.db"
        Ledger(moved, "office").close()
        stores[1].reattach(moved)  # type: ignore[attr-defined]  # the reader after a rescue
        stores[5].reattach(moved)  # type: ignore[attr-defined]
        assert _cache_size(stores[1]._db) == _cache_size(stores[5]._db) == -CACHE_KIB
    finally:
        for store in stores:
            store.close()  # type: ignore[attr-defined]


def test_release_free_heap_is_safe_to_call() -> None:
    release_free_heap()
    release_free_heap()
