"""Memory bounds that are settings, not measurements (the figures: docs/performance.md)."""

from __future__ import annotations

from pathlib import Path

from monitor.cli.run import release_free_heap
from monitor.ledger import CACHE_KIB, Ledger
from monitor.ledger_writer import BufferedLedger


def _cache_size(ledger: Ledger) -> int:
    return int(ledger._db.execute("PRAGMA cache_size").fetchone()[0])


def test_every_ledger_connection_caps_its_page_cache(tmp_path: Path) -> None:
    plain = Ledger(tmp_path / "a.db", "office")
    buffered = BufferedLedger(tmp_path / "b.db", "office")
    try:
        assert _cache_size(plain) == _cache_size(buffered) == -CACHE_KIB  # negative: KiB
        buffered.reattach(tmp_path / "a.db")  # the reader after the writer moved the file
        assert _cache_size(buffered) == -CACHE_KIB
    finally:
        plain.close()
        buffered.close()


def test_release_free_heap_is_safe_to_call() -> None:
    release_free_heap()
    release_free_heap()
