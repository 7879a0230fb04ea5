"""The outage ledger: outages, slow periods, unmonitored gaps and probe samples in SQLite (WAL).

Times are unix seconds (UTC). An episode row is written the moment it opens and updated as it
goes, so a SIGKILL loses at most the last few seconds of evidence, never an outage.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from monitor.ledger_schema import migrate, open_store

EpisodeKind = Literal["outage", "slow"]


@dataclass(slots=True)
class Episode:
    """An outage or a slow period, open while `ended_at` is None."""

    id: int
    kind: EpisodeKind
    started_at: float
    ended_at: float | None
    domains: list[tuple[float, str]]
    evidence: dict[str, dict[str, Any]] = field(default_factory=dict)
    updated_at: float = 0.0

    def end_or(self, now: float) -> float:
        return self.ended_at if self.ended_at is not None else now

    def domain_spans(self, now: float) -> list[tuple[float, float, str]]:
        """(start, end, domain) for each stretch of the verdict, clipped to the episode."""
        end = self.end_or(now)
        spans = []
        for index, (at, domain) in enumerate(self.domains):
            stop = self.domains[index + 1][0] if index + 1 < len(self.domains) else end
            spans.append((max(at, self.started_at), min(stop, end), domain))
        return [s for s in spans if s[1] > s[0]] or [(self.started_at, end, self.domains[0][1])]

    def main_domain(self, now: float) -> str:
        """The domain that held longest (the first one wins a tie)."""
        held: dict[str, float] = {}
        for start, stop, domain in self.domain_spans(now):
            held[domain] = held.get(domain, 0.0) + (stop - start)
        return max(held, key=lambda d: held[d])


@dataclass(frozen=True, slots=True)
class Gap:
    started_at: float
    ended_at: float
    reason: str


@dataclass(frozen=True, slots=True)
class Sample:
    at: float
    target: str
    role: str
    ok: bool
    latency: float
    reason: str | None


class Ledger:
    """One SQLite file; every method is short and synchronous (called from the event loop)."""

    def __init__(self, path: str | Path, office: str) -> None:
        self.path = Path(path)
        self.office = office
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = open_store(path)
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL under WAL: a committed row survives a process kill; only an OS crash can
        # lose the last transactions, which is the "last few seconds" we accept.
        self._db.execute("PRAGMA synchronous=NORMAL")
        migrate(self._db)  # the schema is monitor/ledger_schema.py's

    def close(self) -> None:
        self._db.close()

    def copy_to(self, path: str | Path) -> None:
        """A consistent copy of the whole database as a new file (SQLite's online backup)."""
        copy = sqlite3.connect(str(path))
        try:
            self._db.backup(copy)
        finally:
            copy.close()

    # --- episodes ---
    def open_episode(
        self, kind: EpisodeKind, started_at: float, domain: str, evidence: dict[str, Any]
    ) -> Episode:
        domains = [(started_at, domain)]
        cursor = self._db.execute(
            "INSERT INTO episodes (office, kind, started_at, ended_at, domains, evidence,"
            " updated_at) VALUES (?, ?, ?, NULL, ?, ?, ?)",
            (self.office, kind, started_at, json.dumps(domains), json.dumps(evidence), started_at),
        )
        assert cursor.lastrowid is not None
        return Episode(cursor.lastrowid, kind, started_at, None, domains, evidence, started_at)

    def next_episode_id(self) -> int:
        row = self._db.execute("SELECT COALESCE(MAX(id), 0) FROM episodes").fetchone()
        return int(row[0]) + 1

    def put_episode(self, row: EpisodeRow) -> None:
        """Insert or update one episode from its `episode_row` snapshot (the buffered writer)."""
        self._db.execute(
            "INSERT INTO episodes (id, office, kind, started_at, ended_at, domains, evidence,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
            " ended_at = excluded.ended_at, domains = excluded.domains,"
            " evidence = excluded.evidence, updated_at = excluded.updated_at",
            row,
        )

    def save_episode(self, episode: Episode) -> None:
        self._db.execute(
            "UPDATE episodes SET ended_at = ?, domains = ?, evidence = ?, updated_at = ?"
            " WHERE id = ?",
            (
                episode.ended_at,
                json.dumps(episode.domains),
                json.dumps(episode.evidence),
                episode.updated_at,
                episode.id,
            ),
        )

    def open_episodes(self) -> list[Episode]:
        return self._episodes("ended_at IS NULL", ())

    def episodes(self, start: float, end: float) -> list[Episode]:
        """Episodes that overlap [start, end), oldest first."""
        return self._episodes("started_at < ? AND (ended_at IS NULL OR ended_at > ?)", (end, start))

    def _episodes(self, where: str, args: Sequence[Any]) -> list[Episode]:
        rows = self._db.execute(
            "SELECT id, kind, started_at, ended_at, domains, evidence, updated_at FROM episodes"
            f" WHERE office = ? AND {where} ORDER BY started_at, id",
            (self.office, *args),
        ).fetchall()
        return [
            Episode(
                row[0],
                row[1],
                row[2],
                row[3],
                [(at, domain) for at, domain in json.loads(row[4])],
                json.loads(row[5]),
                row[6],
            )
            for row in rows
        ]

    # --- unmonitored gaps and the heartbeat that finds them ---
    def add_gap(self, started_at: float, ended_at: float, reason: str) -> None:
        """Record [started_at, ended_at) as unmonitored, less what earlier gaps already hold."""
        taken = self._db.execute(
            "SELECT started_at, ended_at FROM gaps WHERE office = ? AND started_at < ?"
            " AND ended_at > ? ORDER BY started_at",
            (self.office, ended_at, started_at),
        ).fetchall()
        for start, end in uncovered(started_at, ended_at, taken):
            self._db.execute(
                "INSERT INTO gaps (office, started_at, ended_at, reason) VALUES (?, ?, ?, ?)",
                (self.office, start, end, reason),
            )

    def gaps(self, start: float, end: float) -> list[Gap]:
        rows = self._db.execute(
            "SELECT started_at, ended_at, reason FROM gaps WHERE office = ? AND started_at < ?"
            " AND ended_at > ? ORDER BY started_at",
            (self.office, end, start),
        ).fetchall()
        return [Gap(*row) for row in rows]

    def last_seen(self) -> float | None:
        row = self._db.execute(
            "SELECT last_seen FROM heartbeat WHERE office = ?", (self.office,)
        ).fetchone()
        return row[0] if row else None

    def first_seen(self) -> float | None:
        row = self._db.execute(
            "SELECT first_seen FROM heartbeat WHERE office = ?", (self.office,)
        ).fetchone()
        return row[0] if row else None

    def beat(self, at: float) -> None:
        self._db.execute(
            "INSERT INTO heartbeat (office, first_seen, last_seen) VALUES (?, ?, ?)"
            # Never backwards (a clock step back): a gap starts at the heartbeat, and an older
            # heartbeat would start the next gap inside seconds already accounted for.
            " ON CONFLICT (office) DO UPDATE SET last_seen = MAX(last_seen, excluded.last_seen)",
            (self.office, at, at),
        )

    # --- probe samples (for latency percentiles in reports) ---
    def add_samples(self, samples: Iterable[Sample]) -> None:
        self._db.executemany(
            "INSERT INTO samples (office, at, target, role, ok, latency, reason)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (self.office, s.at, s.target, s.role, int(s.ok), s.latency, s.reason)
                for s in samples
            ],
        )

    def samples(self, start: float, end: float, role: str | None = None) -> list[Sample]:
        query = "SELECT at, target, role, ok, latency, reason FROM samples"
        query += " WHERE office = ? AND at >= ? AND at < ?"
        args: list[Any] = [self.office, start, end]
        if role is not None:
            query += " AND role = ?"
            args.append(role)
        rows = self._db.execute(query + " ORDER BY at", args).fetchall()
        return [Sample(r[0], r[1], r[2], bool(r[3]), r[4], r[5]) for r in rows]

    def prune_samples(self, before: float) -> int:
        return self._db.execute(
            "DELETE FROM samples WHERE office = ? AND at < ?", (self.office, before)
        ).rowcount

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes into one commit (one fsync-free WAL append instead of many)."""
        self._db.execute("BEGIN")
        try:
            yield
            self._db.execute("COMMIT")
        except BaseException:
            # SQLite may already have rolled back (a full disk does): a second ROLLBACK would
            # raise and hide the error that matters.
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise


EpisodeRow = tuple[int, str, EpisodeKind, float, float | None, str, str, float]


def episode_row(office: str, episode: Episode) -> EpisodeRow:
    """The episode as the values of one row, frozen now (later changes do not leak in)."""
    return (
        episode.id,
        office,
        episode.kind,
        episode.started_at,
        episode.ended_at,
        json.dumps(episode.domains),
        json.dumps(episode.evidence),
        episode.updated_at,
    )


def uncovered(
    start: float, end: float, taken: Iterable[tuple[float, float]]
) -> list[tuple[float, float]]:
    """The parts of [start, end) that no interval of `taken` covers, in order."""
    pieces: list[tuple[float, float]] = []
    cursor = start
    for taken_start, taken_end in sorted(taken):
        if taken_start > cursor:
            pieces.append((cursor, min(taken_start, end)))
        cursor = max(cursor, taken_end)
        if cursor >= end:
            break
    if cursor < end:
        pieces.append((cursor, end))
    return [(a, b) for a, b in pieces if b > a]
