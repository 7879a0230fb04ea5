"""The ledger file itself: episodes round-trip, first/last heartbeat, old files migrate."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from monitor.ledger import Ledger


def test_episode_round_trip_and_main_domain(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.db", "grobogan")
    episode = ledger.open_episode("outage", 100.0, "isp", {"first_hop": "anchor", "targets": {}})
    episode.domains.append((130.0, "datacenter"))
    episode.ended_at = 200.0
    ledger.save_episode(episode)
    (again,) = ledger.episodes(0, 1000)
    assert again.domains == [(100.0, "isp"), (130.0, "datacenter")]
    assert again.main_domain(1000) == "datacenter"  # held 70 s against 30 s
    assert ledger.episodes(200.0, 300.0) == []  # ended exactly at 200: no overlap
    assert Ledger(tmp_path / "l.db", "another-office").episodes(0, 1000) == []
    ledger.close()


def test_heartbeat_keeps_the_first_and_the_last(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.db", "grobogan")
    assert ledger.first_seen() is None and ledger.last_seen() is None
    ledger.beat(10.0)
    ledger.beat(20.0)
    assert (ledger.first_seen(), ledger.last_seen()) == (10.0, 20.0)
    ledger.close()


def test_a_ledger_from_before_first_seen_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE heartbeat (office TEXT PRIMARY KEY, last_seen REAL NOT NULL)")
        db.execute("INSERT INTO heartbeat VALUES ('grobogan', 42.0)")
    ledger = Ledger(path, "grobogan")
    assert (ledger.first_seen(), ledger.last_seen()) == (42.0, 42.0)
    ledger.beat(50.0)
    assert (ledger.first_seen(), ledger.last_seen()) == (42.0, 50.0)
    ledger.close()


def test_old_samples_are_pruned_and_recent_ones_kept(tmp_path: Path) -> None:
    from monitor.ledger import Sample

    ledger = Ledger(tmp_path / "l.db", "grobogan")
    ledger.add_samples(Sample(float(at), "dc", "datacenter", True, 0.01, None) for at in range(10))
    assert ledger.prune_samples(before=5.0) == 5
    assert [s.at for s in ledger.samples(0, 100)] == [5.0, 6.0, 7.0, 8.0, 9.0]
    ledger.close()
