"""The ledger file's schema, owned in one place: ordered migrations and `PRAGMA user_version`.

One SQLite file holds the ledger (episodes, gaps, heartbeat, samples), the report outbox, the
path traces, the degraded episodes and the central maintenance schedule; each store opens it
with `migrate(db)` first, so whichever comes first brings the file up to date and the others
find nothing to do (a read-only view of issue 16 skips it). A migration runs once, in its own
`BEGIN IMMEDIATE` transaction that also sets `user_version` to its number: a crash mid-way
leaves the file at the version before, and two processes opening it at once migrate it once.

To change the schema, append a migration (never edit one that has shipped) and add its step to
tests/test_ledger_schema.py. Files written before this module existed have `user_version` 0; the
first migrations are written so that they also fit those files (IF NOT EXISTS, checked ALTERs).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

CACHE_KIB = 256
"""SQLite's page cache per connection to the file (`PRAGMA cache_size=-CACHE_KIB`), every store.

The default is 2 MB per connection, filled as the file grows: the ledger's reader and writer
at 1,000 targets took +4 MB RSS within minutes, a small office the same within days. Writers
append; the readers' scans outgrow any cache, and the OS keeps the file's pages anyway. 256 KiB
(64 pages) holds the upper pages of the indexes. At 512 KiB the daemon's three connections
(writer, reader, path traces) held 1.0 MB of SQLite memory at 1,000 targets after 2.5 minutes
(`sqlite3_memory_used`, 2026-12-02), a fifth of what is left of issue 18's per-target budget."""


def open_store(path: str | Path) -> sqlite3.Connection:
    """A connection to the ledger file as every store opens it: autocommit (each store runs its
    own transactions), usable from the writer thread, waiting up to 5 s for another's lock, and
    the page cache capped at CACHE_KIB. Stores add their own journal and sync pragmas."""
    db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA busy_timeout=5000")
    db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    return db


class SchemaError(Exception):
    """The file cannot be used by this Pantau (written by a newer one)."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    what: str
    apply: Callable[[sqlite3.Connection], None]


def _script(*statements: str) -> Callable[[sqlite3.Connection], None]:
    def apply(db: sqlite3.Connection) -> None:
        for statement in statements:
            db.execute(statement)

    return apply


_LEDGER = _script(
    """CREATE TABLE IF NOT EXISTS episodes (
    id INTEGER PRIMARY KEY,
    office TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('outage', 'slow')),
    started_at REAL NOT NULL,
    ended_at REAL,
    domains TEXT NOT NULL,          -- JSON [[unix_time, domain], ...] in order
    evidence TEXT NOT NULL,         -- JSON {first_hop, targets: {name: {role, reason, ...}}}
    updated_at REAL NOT NULL        -- last time the daemon saw this episode still open
)""",
    "CREATE INDEX IF NOT EXISTS episodes_time ON episodes (office, started_at)",
    """CREATE TABLE IF NOT EXISTS gaps (
    id INTEGER PRIMARY KEY,
    office TEXT NOT NULL,
    started_at REAL NOT NULL,
    ended_at REAL NOT NULL,
    reason TEXT NOT NULL
)""",
    "CREATE INDEX IF NOT EXISTS gaps_time ON gaps (office, started_at)",
    """CREATE TABLE IF NOT EXISTS heartbeat (
    office TEXT PRIMARY KEY,
    first_seen REAL NOT NULL,       -- when this office was first monitored: before is unmonitored
    last_seen REAL NOT NULL         -- last moment the link state was known
)""",
    """CREATE TABLE IF NOT EXISTS samples (
    office TEXT NOT NULL,
    at REAL NOT NULL,
    target TEXT NOT NULL,
    role TEXT NOT NULL,
    ok INTEGER NOT NULL,
    latency REAL NOT NULL,
    reason TEXT
)""",
    "CREATE INDEX IF NOT EXISTS samples_time ON samples (office, at)",
)


def _heartbeat_first_seen(db: sqlite3.Connection) -> None:
    """Before 0.1.0 the first heartbeat was not kept: the earliest known one stands in."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(heartbeat)")}
    if "first_seen" not in columns:
        db.execute("ALTER TABLE heartbeat ADD COLUMN first_seen REAL")
        db.execute("UPDATE heartbeat SET first_seen = last_seen")


OUTBOX_TABLE = """CREATE TABLE IF NOT EXISTS report_outbox (
    office TEXT NOT NULL,
    day TEXT NOT NULL,                    -- local date of the report, YYYY-MM-DD
    status TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'skipped', 'failed')),
    message_id TEXT,
    sender TEXT,
    recipients TEXT,                      -- JSON list
    message BLOB,                         -- exact bytes to send, frozen when queued
    queued_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,  -- sending rounds that failed
    next_attempt_at REAL NOT NULL DEFAULT 0,
    claimed_by TEXT,                      -- host:pid:token of the process sending it now
    claimed_at REAL,
    last_error TEXT,
    sent_at REAL,
    PRIMARY KEY (office, day)
)"""


def _outbox(db: sqlite3.Connection) -> None:
    """The daily reports waiting to be sent (monitor/report/outbox.py)."""
    db.execute(OUTBOX_TABLE)


def _outbox_failed(db: sqlite3.Connection) -> None:
    """Before 'failed' (a permanent SMTP rejection) existed, the CHECK did not allow it."""
    (sql,) = db.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'report_outbox'"
    ).fetchone()
    if "'failed'" in sql:
        return
    db.execute("ALTER TABLE report_outbox RENAME TO report_outbox_before_failed")
    db.execute(OUTBOX_TABLE)
    db.execute("INSERT INTO report_outbox SELECT * FROM report_outbox_before_failed")
    db.execute("DROP TABLE report_outbox_before_failed")


_PATH_TRACES = _script(
    """CREATE TABLE IF NOT EXISTS path_traces (
    id INTEGER PRIMARY KEY,
    office TEXT NOT NULL,
    target TEXT NOT NULL,
    at REAL NOT NULL,
    kind TEXT NOT NULL,             -- baseline (a healthy path), transition, demand
    trace TEXT NOT NULL             -- JSON, monitor.path.trace.Trace.as_dict()
)""",
    "CREATE INDEX IF NOT EXISTS path_traces_target ON path_traces (office, target, kind, at)",
)

_DEGRADED = _script(
    """CREATE TABLE IF NOT EXISTS degraded (
    id INTEGER PRIMARY KEY,
    office TEXT NOT NULL,
    uplink TEXT NOT NULL,           -- the uplink that is down (the service runs on another)
    domain TEXT,                    -- who is blamed for that uplink (isp, local, ...)
    started_at REAL NOT NULL,
    ended_at REAL,
    updated_at REAL NOT NULL
)""",
    """CREATE INDEX IF NOT EXISTS degraded_time ON degraded (office, started_at)""",
)

_MAINTENANCE_SCHEDULE = _script(
    """CREATE TABLE IF NOT EXISTS maintenance_schedule (
    office TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    etag TEXT,
    body TEXT NOT NULL,             -- the validated schedule as JSON
    fetched_at REAL NOT NULL
)""",
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "the ledger: episodes, gaps, heartbeat, samples", _LEDGER),
    Migration(2, "heartbeat.first_seen", _heartbeat_first_seen),
    Migration(3, "the report outbox", _outbox),
    Migration(4, "the outbox's 'failed' status", _outbox_failed),
    Migration(5, "path traces (issue 14)", _PATH_TRACES),
    Migration(6, "degraded episodes: up on a backup uplink (issue 16)", _DEGRADED),
    Migration(7, "the central maintenance schedule (issue 16)", _MAINTENANCE_SCHEDULE),
)
VERSION = MIGRATIONS[-1].version


def version_of(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: sqlite3.Connection) -> int:
    """Apply, in order, every migration the file has not had; returns how many ran.

    `db` is in autocommit mode (isolation_level=None), as every connection to the ledger is.
    """
    if version_of(db) == VERSION:
        return 0  # the common case: one read of the header, no lock
    ran = 0
    for migration in MIGRATIONS:
        db.execute("BEGIN IMMEDIATE")
        try:
            current = version_of(db)  # re-read under the write lock: another may have done it
            if current > VERSION:
                raise SchemaError(
                    f"storage.path: the ledger has schema version {current}, written by a newer "
                    f"Pantau (this one knows up to {VERSION}); run that version, or point "
                    "storage.path at a new file"
                )
            if current < migration.version:
                migration.apply(db)
                db.execute(f"PRAGMA user_version = {migration.version}")
                ran += 1
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    return ran
