"""Memory bounds that are settings, not measurements (the figures: docs/performance.md)."""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

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


PINNED = """
import ctypes, json, sys
from monitor.cli.run import pin_mmap_threshold

class Info(ctypes.Structure):  # glibc's struct mallinfo2
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]

libc = ctypes.CDLL(None)
libc.mallinfo2.restype = Info
pinned = pin_mmap_threshold() if sys.argv[1] == "pin" else None
big = bytearray(4 << 20)  # mmap'd, and freed: glibc would raise its threshold to 4 MB
del big
before = libc.mallinfo2().hblks
block = bytearray(512 << 10)
print(json.dumps({"pinned": pinned, "mapped": libc.mallinfo2().hblks - before}))
"""


def _mapped_after_a_large_free(how: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", PINNED, how], capture_output=True, text=True, timeout=30
    )
    assert out.returncode == 0, out.stderr
    seen: dict[str, object] = json.loads(out.stdout)
    return seen


def test_large_blocks_stay_mmapped_after_a_large_one_is_freed() -> None:
    """`pantau run` pins glibc's mmap threshold, so a 512 KiB block (a scrape's gzip state or
    page chunk) is still mmap'd, and given back when freed, after a larger one was freed:
    glibc alone would serve it from the heap, which keeps the pages."""
    assert _mapped_after_a_large_free("pin") == {"pinned": True, "mapped": 1}
    assert _mapped_after_a_large_free("no")["mapped"] == 0  # what the pin prevents


def test_pantau_run_pins_the_threshold_before_it_loads_its_config(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from monitor.cli import run

    calls: list[str] = []

    class Stop(Exception):
        pass

    def load(path: str) -> None:
        calls.append("load")
        raise Stop

    monkeypatch.setattr(run, "pin_mmap_threshold", lambda: calls.append("pin"))
    monkeypatch.setattr(run, "load_isolated", load)
    with pytest.raises(Stop):
        run.cmd_run(argparse.Namespace(config="pantau.yaml"))
    assert calls == ["pin", "load"]
