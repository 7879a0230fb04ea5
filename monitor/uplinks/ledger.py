"""Degraded episodes ("up on backup": an uplink down while the service answers through another),
kept in the ledger's SQLite file in their own table, written when they open and when they close.

Own table and connection, so the outage ledger's schema (and its `kind` check) stays as it is.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from monitor.ledger_schema import migrate, open_store


@dataclass(frozen=True, slots=True)
class Degraded:
    id: int
    uplink: str
    started_at: float
    ended_at: float | None
    updated_at: float
    domain: str | None = None

    def span(self, now: float) -> tuple[float, float, str]:
        """(start, end, uplink); an open one ends now, or at its last update if abandoned."""
        end = self.ended_at if self.ended_at is not None else min(now, self.updated_at)
        return (self.started_at, end, self.uplink)


class DegradedLedger:
    """Rows of one office; every call is one short statement."""

    def __init__(self, path: str | Path, office: str, create: bool = True) -> None:
        """`create=False`: a reader (a view, the CLI) never writes the schema."""
        self.office = office
        self._db = open_store(path)
        if create:
            migrate(self._db)  # the table is monitor/ledger_schema.py's

    def open(self, uplink: str, at: float, domain: str | None = None) -> int:
        cursor = self._db.execute(
            "INSERT INTO degraded (office, uplink, domain, started_at, ended_at, updated_at)"
            " VALUES (?, ?, ?, ?, NULL, ?)",
            (self.office, uplink, domain, at, at),
        )
        return int(cursor.lastrowid or 0)

    def touch(self, row: int, at: float) -> None:
        self._db.execute("UPDATE degraded SET updated_at = ? WHERE id = ?", (at, row))

    def close_row(self, row: int, at: float) -> None:
        self._db.execute(
            "UPDATE degraded SET ended_at = ?, updated_at = ? WHERE id = ?", (at, at, row)
        )

    def close_abandoned(self) -> None:
        """Rows a stopped daemon left open end where it last saw them."""
        self._db.execute(
            "UPDATE degraded SET ended_at = updated_at WHERE office = ? AND ended_at IS NULL",
            (self.office,),
        )

    def rows(self, start: float, end: float) -> list[Degraded]:
        """Rows overlapping [start, end), oldest first."""
        try:
            found = self._db.execute(
                "SELECT id, uplink, started_at, ended_at, updated_at, domain FROM degraded"
                " WHERE office = ?"
                " AND started_at < ? AND COALESCE(ended_at, updated_at) > ? ORDER BY started_at",
                (self.office, end, start),
            ).fetchall()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return []  # no daemon with uplinks ever wrote this ledger
            raise
        return [Degraded(*row) for row in found]

    def close(self) -> None:
        self._db.close()
