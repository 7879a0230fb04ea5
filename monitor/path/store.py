"""Traces in the ledger's SQLite file (own table, own connection): baselines and evidence.

Its own connection rather than new Ledger methods; the table is one of the ledger file's
migrations (monitor/ledger_schema.py). WAL lets both write the same file. Kept like samples:
`prune(before)` drops old non-baseline traces.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Literal

from monitor.ledger_schema import migrate, open_store
from monitor.path.trace import Trace

TraceKind = Literal["baseline", "transition", "demand"]


class PathStore:
    """Short synchronous calls. The daemon stores traces from a worker thread (a lock held by
    another process may block an insert for `busy_timeout`), so every call takes `_guard`."""

    def __init__(self, path: str | Path, office: str) -> None:
        self.office = office
        self._guard = threading.Lock()
        self._db = open_store(path)
        migrate(self._db)  # the table is monitor/ledger_schema.py's

    def close(self) -> None:
        self._db.close()

    def add(self, target: str, kind: TraceKind, trace: Trace) -> None:
        with self._guard:
            self._db.execute(
                "INSERT INTO path_traces (office, target, at, kind, trace) VALUES (?, ?, ?, ?, ?)",
                (self.office, target, trace.at, kind, json.dumps(trace.as_dict())),
            )

    def baseline(self, target: str, before: float | None = None) -> Trace | None:
        """The last healthy trace of `target` (before a moment, when given)."""
        with self._guard:
            row = self._db.execute(
                "SELECT trace FROM path_traces WHERE office = ? AND target = ?"
                " AND kind = 'baseline' AND at < ? ORDER BY at DESC LIMIT 1",
                (self.office, target, before if before is not None else float("inf")),
            ).fetchone()
        return Trace.from_dict(json.loads(row[0])) if row else None

    def prune(self, before: float) -> None:
        """Drop traces older than `before`, keeping each target's latest baseline."""
        with self._guard:
            self._db.execute(
                "DELETE FROM path_traces WHERE office = ? AND at < ? AND id NOT IN ("
                " SELECT MAX(id) FROM path_traces WHERE office = ? AND kind = 'baseline'"
                " GROUP BY target)",
                (self.office, before, self.office),
            )
