"""The buffered ledger and its writer, pure of processes: queue, retry, overlay, gaps that never
overlap (hypothesis over restart sequences), the lock, and the clock that notices steps."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from monitor.calendar import ServiceCalendar
from monitor.clock import STEP_SECONDS, Clock
from monitor.config import Config, parse_config
from monitor.ledger import Ledger, Sample, uncovered
from monitor.ledger_lock import LedgerBusy, LedgerLock
from monitor.ledger_writer import MAX_PENDING_SAMPLES, BufferedLedger, write_batch
from monitor.metrics import Metrics
from monitor.tracker import LinkTracker
from tests.factories import result

OFFICE = "simulasi"
T0 = 1_764_547_200.0  # 2025-12-01 00:00 UTC


def config(db: Path) -> Config:
    all_day = {d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    return parse_config(
        {
            "office": {"name": "Simulasi", "id": OFFICE, "timezone": "Asia/Jakarta"},
            "listen": "127.0.0.1:0",
            "storage": {"path": str(db)},
            "service_hours": {"weekly": all_day, "holidays": None},
            "targets": [{"name": "dc", "role": "datacenter", "kind": "tcp",
                         "host": "127.0.0.1", "port": 9}],
        }
    )  # fmt: skip


# --- uncovered: the arithmetic that keeps gaps apart -----------------------------------------
intervals = st.tuples(st.integers(0, 100), st.integers(0, 100)).map(sorted).map(tuple)


@given(st.tuples(st.integers(0, 100), st.integers(0, 100)).map(sorted), st.lists(intervals))
def test_uncovered_is_exactly_the_part_nothing_covers(span: list[int], taken: list) -> None:
    start, end = span
    pieces = uncovered(start, end, taken)
    for (a, b), (c, _) in itertools.pairwise(pieces):
        assert a < b <= c  # in order, disjoint, not empty
    for x in range(start, end):  # every unit second: in a piece iff no taken interval holds it
        point = x + 0.5
        in_piece = any(a <= point < b for a, b in pieces)
        in_taken = any(a <= point < b for a, b in taken)
        assert in_piece != in_taken


# --- restarts: whatever the pattern, gaps never overlap -------------------------------------
run = st.tuples(
    st.floats(0, 30),  # seconds the daemon was down before this run
    st.one_of(st.none(), st.floats(0, 5)),  # first verdict after start (None: killed before)
    st.lists(st.floats(0, 10), max_size=4),  # commits (flush + write) after start
    st.floats(0, 10),  # killed this long after start
)


@settings(max_examples=60, deadline=None)
@given(st.lists(run, min_size=1, max_size=8))
def test_gaps_never_overlap_whatever_the_restart_pattern(runs: list) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "ledger.db"
        cfg = config(db)
        calendar = ServiceCalendar(cfg.service_hours, cfg.office.zone)
        now = T0
        seen = Ledger(db, OFFICE)  # a first run that left a heartbeat
        seen.beat(now)
        seen.close()
        for down, verdict_after, commits, killed_after in runs:
            start = now + down
            ledger = BufferedLedger(db, OFFICE)
            writer = Ledger(db, OFFICE)
            tracker = LinkTracker(cfg, calendar, ledger, Metrics(CollectorRegistry()))
            tracker.resume(start)
            events = [(start + c, "commit") for c in commits if c < killed_after]
            if verdict_after is not None and verdict_after < killed_after:
                events.append((start + verdict_after, "verdict"))
            for at, what in sorted(events):
                if what == "verdict":
                    tracker.observe(result("dc", at))
                else:
                    tracker.flush(at)
                    write_batch(writer, ledger.take())
                    ledger.written()
            now = start + killed_after  # SIGKILL: whatever is queued is gone
            writer.close()
            ledger.close()
        check = Ledger(db, OFFICE)
        gaps = check.gaps(0, 2e10)
        check.close()
    for first, second in itertools.pairwise(gaps):
        assert first.ended_at <= second.started_at, gaps


# --- the queue --------------------------------------------------------------------------------
def test_a_failed_write_goes_back_in_front_and_the_reads_still_see_it(tmp_path: Path) -> None:
    db = tmp_path / "ledger.db"
    ledger = BufferedLedger(db, OFFICE)
    episode = ledger.open_episode("outage", T0, "isp", {"targets": {}})
    ledger.beat(T0 + 1)
    assert ledger.urgent
    batch = ledger.take()
    assert not ledger.urgent and ledger.open_episodes()[0].id == episode.id  # in flight
    episode.ended_at = T0 + 5
    ledger.save_episode(episode)  # ends while the first write is still under way
    ledger.put_back()  # that write failed (disk full)
    assert ledger.pending.episodes[episode.id][4] == T0 + 5  # the newer snapshot wins
    assert ledger.open_episodes() == [] and len(ledger.episodes(0, 2e10)) == 1
    assert batch.beat == ledger.pending.beat == T0 + 1
    assert ledger.last_seen() == ledger.first_seen() == T0 + 1  # not on disk, still known
    write_batch(Ledger(db, OFFICE), ledger.take())
    ledger.written()
    (stored,) = Ledger(db, OFFICE).episodes(0, 2e10)
    assert (stored.started_at, stored.ended_at) == (T0, T0 + 5)
    ledger.close()


def test_samples_waiting_too_long_are_dropped_oldest_first_and_counted(tmp_path: Path) -> None:
    ledger = BufferedLedger(tmp_path / "ledger.db", OFFICE)
    samples = [Sample(T0 + i, "dc", "datacenter", True, 0.01, None) for i in range(10)]
    ledger.add_samples(samples * (MAX_PENDING_SAMPLES // 10))
    ledger.add_samples(samples[:3])
    assert len(ledger.pending.samples) == MAX_PENDING_SAMPLES and ledger.dropped_samples == 3
    assert ledger.pending.samples[-1].at == T0 + 2
    ledger.close()


def test_episode_ids_continue_after_the_rows_already_written(tmp_path: Path) -> None:
    db = tmp_path / "ledger.db"
    first = Ledger(db, OFFICE)
    old = first.open_episode("slow", T0, "isp", {})
    first.close()
    ledger = BufferedLedger(db, OFFICE)
    assert ledger.open_episode("outage", T0 + 9, "isp", {}).id == old.id + 1
    ledger.close()


# --- the lock ---------------------------------------------------------------------------------
def test_a_second_lock_is_refused_and_names_the_holder(tmp_path: Path) -> None:
    import os

    db = tmp_path / "ledger.db"
    held = LedgerLock(db)
    with pytest.raises(LedgerBusy) as busy:
        LedgerLock(db)
    assert busy.value.pid == os.getpid()
    held.release()
    LedgerLock(db).release()  # free again once released


# --- the clock --------------------------------------------------------------------------------
class FakeTime:
    def __init__(self) -> None:
        self.wall, self.mono = T0, 100.0

    def tick(self, seconds: float) -> None:
        self.wall += seconds
        self.mono += seconds


def test_the_clock_notices_a_step_and_re_anchors() -> None:
    t = FakeTime()
    clock = Clock(lambda: t.wall, lambda: t.mono)
    t.tick(2.0)
    assert clock.check() is None and clock.wall() == T0 + 2.0
    t.wall += 3600.0  # NTP steps the wall clock an hour ahead
    assert clock.wall() == T0 + 2.0  # not followed yet: durations stay monotonic
    assert clock.check() == pytest.approx(3600.0)
    assert clock.wall() == T0 + 3602.0
    t.wall += 30.0  # a suspend: the wall clock went on, the monotonic one stopped
    assert clock.check() == pytest.approx(30.0)
    t.wall -= STEP_SECONDS / 2  # less than a step: left to the periodic resync
    assert clock.check() is None
    t.wall -= 120.0
    assert clock.check() == pytest.approx(-120.0 - STEP_SECONDS / 2)
    assert clock.wall() == t.wall
