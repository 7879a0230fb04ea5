"""The outbox: daily reports waiting to be sent, in the ledger's SQLite file.

One row per office and local date (the primary key), so a day's report is queued once. The
message bytes are frozen when queued; a resend sends the very same bytes and Message-ID.

A row is claimed before sending (`claimed_by` = host:pid:token) and marked sent only after the
server accepted the message. A claim is void once its process is gone (a kill), or after the
lease. The one window left is a kill after the server's "250 OK" and before the mark (a few
milliseconds): the restarted job sends again, and the recipient gets a duplicate with the same
Message-ID, which mail clients fold into one. No other path sends twice.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from monitor.ledger_schema import migrate, open_store


@dataclass(frozen=True, slots=True)
class OutboxRow:
    day: date
    status: str
    message_id: str | None
    sender: str | None
    recipients: list[str]
    message: bytes | None
    queued_at: float
    attempts: int
    next_attempt_at: float
    claimed_by: str | None
    claimed_at: float | None
    last_error: str | None
    sent_at: float | None


_COLUMNS = (
    "day, status, message_id, sender, recipients, message, queued_at, attempts, "
    "next_attempt_at, claimed_by, claimed_at, last_error, sent_at"
)


def _row(values: tuple) -> OutboxRow:  # type: ignore[type-arg]
    day, status, mid, sender, rcpts, message, *rest = values
    return OutboxRow(
        date.fromisoformat(day), status, mid, sender, json.loads(rcpts or "[]"), message, *rest
    )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Outbox:
    """The report_outbox table of one office; its own connection to the ledger file."""

    def __init__(self, path: str | Path, office: str, lease: float = 900.0) -> None:
        self.office = office
        self.lease = lease
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        self._db = self._connect(path)
        migrate(self._db)  # the table is monitor/ledger_schema.py's

    @staticmethod
    def _connect(path: str | Path) -> sqlite3.Connection:
        db = open_store(path)
        db.execute("PRAGMA journal_mode=WAL")
        # FULL: a row marked sent must survive a power cut, or the day's mail goes out twice.
        db.execute("PRAGMA synchronous=FULL")
        return db

    def reattach(self, path: str | Path) -> None:
        """Use the ledger's rescued copy from now on (monitor/ledger_writer.py); same owner."""
        self._db.close()
        self._db = self._connect(path)

    def close(self) -> None:
        self._db.close()

    def get(self, day: date) -> OutboxRow | None:
        found = self._db.execute(
            f"SELECT {_COLUMNS} FROM report_outbox WHERE office = ? AND day = ?",
            (self.office, day.isoformat()),
        ).fetchone()
        return _row(found) if found else None

    def queue(
        self, day: date, message_id: str, sender: str, recipients: list[str], data: bytes,
        now: float,
    ) -> bool:  # fmt: skip
        """Queue the day's mail; False if the day already has a row (queued, sent or skipped)."""
        cursor = self._db.execute(
            "INSERT INTO report_outbox (office, day, status, message_id, sender, recipients,"
            " message, queued_at, next_attempt_at) VALUES (?, ?, 'queued', ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (office, day) DO NOTHING",
            (self.office, day.isoformat(), message_id, sender, json.dumps(recipients), data,
             now, now),
        )  # fmt: skip
        return cursor.rowcount == 1

    def requeue_skipped(
        self, day: date, message_id: str, sender: str, recipients: list[str], data: bytes,
        now: float,
    ) -> bool:  # fmt: skip
        """Turn a skipped day (closed, nothing happened) into a queued mail, on request."""
        cursor = self._db.execute(
            "UPDATE report_outbox SET status = 'queued', message_id = ?, sender = ?,"
            " recipients = ?, message = ?, queued_at = ?, next_attempt_at = ?"
            " WHERE office = ? AND day = ? AND status = 'skipped'",
            (message_id, sender, json.dumps(recipients), data, now, now, self.office,
             day.isoformat()),
        )  # fmt: skip
        return cursor.rowcount == 1

    def skip(self, day: date, now: float, why: str) -> None:
        """Record that the day needs no mail, so it is not reconsidered every minute."""
        self._db.execute(
            "INSERT INTO report_outbox (office, day, status, queued_at, last_error)"
            " VALUES (?, ?, 'skipped', ?, ?) ON CONFLICT (office, day) DO NOTHING",
            (self.office, day.isoformat(), now, why),
        )

    def due(self, now: float) -> list[OutboxRow]:
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM report_outbox WHERE office = ? AND status = 'queued'"
            " AND next_attempt_at <= ? ORDER BY day",
            (self.office, now),
        ).fetchall()
        return [_row(r) for r in rows]

    def _stale(self, owner: str | None, claimed_at: float | None, now: float) -> bool:
        if owner is None:
            return True
        if claimed_at is None or now - claimed_at > self.lease:
            return True
        host, pid, _token = owner.rsplit(":", 2)
        if host != socket.gethostname():
            return False  # another machine on a shared file: only the lease can tell
        if int(pid) == os.getpid():
            return owner != self.owner  # an earlier run with our pid (PID 1 in a container)
        return not _pid_alive(int(pid))

    def claim(self, day: date, now: float) -> bool:
        """Take the row for sending; False if sent, skipped, or held by another live process."""
        found = self._db.execute(
            "SELECT claimed_by, claimed_at FROM report_outbox WHERE office = ? AND day = ?"
            " AND status = 'queued'",
            (self.office, day.isoformat()),
        ).fetchone()
        if found is None or not self._stale(found[0], found[1], now):
            return False
        cursor = self._db.execute(  # compare-and-set: only if nobody claimed it meanwhile
            "UPDATE report_outbox SET claimed_by = ?, claimed_at = ? WHERE office = ?"
            " AND day = ? AND status = 'queued' AND claimed_by IS ?",
            (self.owner, now, self.office, day.isoformat(), found[0]),
        )
        return cursor.rowcount == 1

    def mark_sent(self, day: date, now: float) -> None:
        self._db.execute(
            "UPDATE report_outbox SET status = 'sent', sent_at = ?, claimed_by = NULL,"
            " last_error = NULL WHERE office = ? AND day = ? AND claimed_by = ?",
            (now, self.office, day.isoformat(), self.owner),
        )

    def mark_failed(self, day: date, now: float, error: str) -> None:
        """The server refused the mail for good (5xx): keep it, never send it on its own again."""
        self._db.execute(
            "UPDATE report_outbox SET status = 'failed', claimed_by = NULL, claimed_at = NULL,"
            " attempts = attempts + 1, last_error = ?, next_attempt_at = ?"
            " WHERE office = ? AND day = ? AND claimed_by = ?",
            (error[:500], now, self.office, day.isoformat(), self.owner),
        )

    def retry_failed(self, day: date, now: float) -> bool:
        """`pantau report daily --send` on a failed day: queue the frozen mail again."""
        cursor = self._db.execute(
            "UPDATE report_outbox SET status = 'queued', next_attempt_at = ?"
            " WHERE office = ? AND day = ? AND status = 'failed'",
            (now, self.office, day.isoformat()),
        )
        return cursor.rowcount == 1

    def release(self, day: date, now: float, error: str, next_attempt_at: float) -> None:
        """A failed round: keep the mail, note why, and when to try again."""
        self._db.execute(
            "UPDATE report_outbox SET claimed_by = NULL, claimed_at = NULL,"
            " attempts = attempts + 1, last_error = ?, next_attempt_at = ?"
            " WHERE office = ? AND day = ? AND claimed_by = ?",
            (error[:500], next_attempt_at, self.office, day.isoformat(), self.owner),
        )
