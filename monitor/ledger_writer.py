"""The daemon's ledger writes: queued in memory on the loop, committed by one writer thread.

SQLite never runs on the event loop for the daemon's writes: a full disk, a lock held by another
process (busy_timeout 5 s) or a slow fsync delays the commit, never a probe or `/metrics`. What a
failed commit held goes back to the front of the queue and is written when the disk recovers:
episodes are kept as one latest snapshot each (bounded by their number), samples up to
`MAX_PENDING_SAMPLES` (then the oldest are dropped and counted).

The writer checks at every commit that the file at `storage.path` is still the one it opened
(device and inode). If it was deleted or replaced, the writer copies everything it has (the
open, orphaned database) to `<path>.rescued-<UTC time>` and goes on writing there: nothing is
lost, and nothing is written into a file that is not this ledger. The daemon reports it until
it is restarted (see docs/reliability.md).
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monitor.ledger import (
    Episode,
    EpisodeKind,
    EpisodeRow,
    Gap,
    Ledger,
    Sample,
    episode_row,
    uncovered,
)
from monitor.ledger_schema import open_store

# 25 targets probed every 15 s for 16 hours; 136 bytes each in memory (measured), 14 MB at most.
# Writing all of them when the disk recovers took 0.7 s (in the writer thread, not the loop).
MAX_PENDING_SAMPLES = 100_000


@dataclass(slots=True)
class Batch:
    """Writes not yet committed: one transaction's worth."""

    episodes: dict[int, EpisodeRow] = field(default_factory=dict)
    gaps: list[tuple[float, float, str]] = field(default_factory=list)
    beat: float | None = None
    samples: list[Sample] = field(default_factory=list)
    prune_before: float | None = None

    def __bool__(self) -> bool:
        return bool(self.episodes or self.gaps or self.samples or self.beat or self.prune_before)

    def size(self) -> int:
        return len(self.episodes) + len(self.gaps) + len(self.samples) + (self.beat is not None)

    def then(self, newer: Batch) -> Batch:
        """This (older, failed) batch followed by what was queued since: newer wins per row."""
        return Batch(
            {**self.episodes, **newer.episodes},
            [*self.gaps, *newer.gaps],
            _latest(self.beat, newer.beat),
            [*self.samples, *newer.samples],
            _latest(self.prune_before, newer.prune_before),
        )


def _latest(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else max(a, b)


def _episode(row: EpisodeRow) -> Episode:
    episode_id, _office, kind, started_at, ended_at, domains, evidence, updated_at = row
    pairs = [(at, domain) for at, domain in json.loads(domains)]
    return Episode(episode_id, kind, started_at, ended_at, pairs, json.loads(evidence), updated_at)


def write_batch(ledger: Ledger, batch: Batch) -> None:
    """Commit one batch in one transaction; on any error nothing of it is written."""
    with ledger.transaction():
        for row in batch.episodes.values():
            ledger.put_episode(row)
        for start, end, reason in batch.gaps:
            ledger.add_gap(start, end, reason)
        if batch.samples:
            ledger.add_samples(batch.samples)
        if batch.beat is not None:
            ledger.beat(batch.beat)
        if batch.prune_before is not None:
            ledger.prune_samples(batch.prune_before)


class BufferedLedger(Ledger):
    """The tracker's ledger in the daemon: writes go to a queue, reads see file + queue.

    Episode ids are allocated here (one daemon per ledger, see ledger_lock.py), so an episode
    has its id before its row exists. Episodes, gaps and the heartbeat read back include what
    is queued or being written, so /api/outages, the status page and the reports are current
    even while the disk is full (a heartbeat stuck on disk would count as unmonitored time).
    `urgent` is set when an episode opens or ends, or monitoring resumes after a gap: the
    daemon writes at once, not at the next flush, so those edges are on disk within
    milliseconds.
    """

    def __init__(self, path: str | Path, office: str) -> None:
        super().__init__(path, office)
        self._next_id = self.next_episode_id()
        self.pending = Batch()
        self.in_flight = Batch()
        self.dropped_samples = 0
        self.urgent = False

    def open_episode(
        self, kind: EpisodeKind, started_at: float, domain: str, evidence: dict[str, Any]
    ) -> Episode:
        episode = Episode(
            self._next_id, kind, started_at, None, [(started_at, domain)], evidence, started_at
        )
        self._next_id += 1
        self.save_episode(episode)
        self.urgent = True
        return episode

    def save_episode(self, episode: Episode) -> None:
        self.pending.episodes[episode.id] = episode_row(self.office, episode)
        if episode.ended_at is not None:
            self.urgent = True

    def open_episodes(self) -> list[Episode]:
        return self._overlay(super().open_episodes(), lambda e: e.ended_at is None)

    def episodes(self, start: float, end: float) -> list[Episode]:
        return self._overlay(
            super().episodes(start, end), lambda e: e.started_at < end and e.end_or(end) > start
        )

    def _overlay(self, found: list[Episode], keep: Callable[[Episode], bool]) -> list[Episode]:
        """Rows read from the file, updated by what is queued or being written."""
        by_id = {e.id: e for e in found}
        for row in self.in_flight.then(self.pending).episodes.values():
            episode = _episode(row)
            if keep(episode):
                by_id[episode.id] = episode
            else:
                by_id.pop(episode.id, None)
        return sorted(by_id.values(), key=lambda e: (e.started_at, e.id))

    def last_seen(self) -> float | None:
        queued = _latest(self.in_flight.beat, self.pending.beat)
        return _latest(super().last_seen(), queued)

    def first_seen(self) -> float | None:
        stored = super().first_seen()
        if stored is not None:
            return stored
        queued = [b for b in (self.in_flight.beat, self.pending.beat) if b is not None]
        return min(queued) if queued else None

    def gaps(self, start: float, end: float) -> list[Gap]:
        found = super().gaps(start, end)
        taken = [(g.started_at, g.ended_at) for g in found]
        for gap_start, gap_end, reason in self.in_flight.then(self.pending).gaps:
            for a, b in uncovered(gap_start, gap_end, taken):
                if a < end and b > start:
                    found.append(Gap(a, b, reason))
                    taken.append((a, b))
        return sorted(found, key=lambda g: g.started_at)

    def add_gap(self, started_at: float, ended_at: float, reason: str) -> None:
        if ended_at > started_at:
            self.pending.gaps.append((started_at, ended_at, reason))
            # Monitoring resumed at `ended_at`: the heartbeat goes there in the same write, so
            # a kill before the next flush cannot start another gap inside this one.
            self.beat(ended_at)
            self.urgent = True

    def beat(self, at: float) -> None:
        self.pending.beat = _latest(self.pending.beat, at)

    def add_samples(self, samples: Iterable[Sample]) -> None:
        self.pending.samples.extend(samples)
        self._trim()

    def prune_samples(self, before: float) -> int:
        self.pending.prune_before = _latest(self.pending.prune_before, before)
        return 0

    @contextmanager
    def transaction(self) -> Iterator[None]:
        yield  # the writer commits a whole batch in one transaction

    def reattach(self, path: Path) -> None:
        """Read from `path` from now on (the writer moved there, see LedgerWriter._rescue)."""
        self._db.close()
        self._db = open_store(path)
        self.path = path

    def take(self) -> Batch:
        """Everything queued, for one commit; the queue starts empty again."""
        self.in_flight, self.pending = self.pending, Batch()
        self.urgent = False
        return self.in_flight

    def written(self) -> None:
        """The batch from `take()` is on disk."""
        self.in_flight = Batch()

    def put_back(self) -> None:
        """The batch from `take()` failed: it goes back in front of what was queued since."""
        self.pending, self.in_flight = self.in_flight.then(self.pending), Batch()
        self._trim()

    def _trim(self) -> None:
        excess = len(self.pending.samples) - MAX_PENDING_SAMPLES
        if excess > 0:
            del self.pending.samples[:excess]
            self.dropped_samples += excess


@dataclass(frozen=True, slots=True)
class Moved:
    """The ledger file was deleted or replaced; the writer now writes to `to`."""

    what: str  # "deleted" or "replaced"
    to: Path


class LedgerWriter:
    """One thread that owns a write connection to the ledger and commits batches in order."""

    def __init__(self, path: str | Path, office: str) -> None:
        self.path = Path(path)
        self.office = office
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="pantau-ledger")
        self._ledger = Ledger(self.path, office)
        self._identity = _identity(self.path)
        self.moved: Moved | None = None

    async def commit(self, batch: Batch) -> Moved | None:
        """Write `batch` in the writer thread; raises sqlite3.Error / OSError if it failed."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._write, batch)

    def commit_now(self, batch: Batch) -> Moved | None:
        """The same, blocking: for the last write when the loop is going away."""
        return self._executor.submit(self._write, batch).result()

    def _write(self, batch: Batch) -> Moved | None:
        moved = None
        if self.moved is None and self._identity is not None:
            now = _identity(self.path)
            if now != self._identity:
                moved = self._rescue("deleted" if now is None else "replaced")
        write_batch(self._ledger, batch)
        return moved

    def _rescue(self, what: str) -> Moved:
        """Copy the open (orphaned) database to a new file beside it and write there from now."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        target = self.path.with_name(f"{self.path.name}.rescued-{stamp}")
        self._ledger.copy_to(target)
        self._ledger.close()
        self._ledger = Ledger(target, self.office)
        self.moved = Moved(what, target)
        return self.moved

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self._ledger.close()


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return stat.st_dev, stat.st_ino
