"""The center's schedule file: fetched with its ETag, kept in the ledger's SQLite file.

Kept so the windows still apply while the WAN is down (which is when they matter). A file that
cannot be fetched, parsed or validated is logged in one line and ignored: the last good copy
stays in force, and the daemon never stops over it.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from monitor.ledger_schema import migrate, open_store
from monitor.maintenance.config import MaintenanceConfig, Schedule
from monitor.maintenance.plan import Planned, windows_between

if TYPE_CHECKING:
    import aiohttp

    from monitor.config import Config

log = logging.getLogger("pantau.maintenance")
MAX_BYTES = 1 << 20
"""A schedule is a few kilobytes; anything above a megabyte is not one."""


class CentralStore:
    """The last good central schedule of one office, in the ledger file (own connection)."""

    def __init__(self, path: str | Path, office: str, create: bool = True) -> None:
        """`create=False`: a reader (a view, the CLI) never writes the schema."""
        self.office = office
        self._db: sqlite3.Connection | None = None
        if str(path) != ":memory:" and Path(path).exists():
            self._db = open_store(path)
            if create:
                migrate(self._db)  # the table is monitor/ledger_schema.py's

    def load(self) -> tuple[str | None, str | None, Schedule | None]:
        """(url, etag, schedule) of the last good copy, or Nones."""
        if self._db is None:
            return None, None, None
        try:
            row = self._db.execute(
                "SELECT url, etag, body FROM maintenance_schedule WHERE office = ?", (self.office,)
            ).fetchone()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return None, None, None  # no daemon ever fetched the central file here
            raise
        if row is None:
            return None, None, None
        try:
            return row[0], row[1], Schedule.model_validate(json.loads(row[2]))
        except (ValueError, ValidationError):
            return row[0], None, None

    def save(self, url: str, etag: str | None, schedule: Schedule, at: float) -> None:
        if self._db is None:
            return
        body = schedule.model_dump_json()
        self._db.execute(
            "INSERT INTO maintenance_schedule (office, url, etag, body, fetched_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (office) DO UPDATE SET url = excluded.url,"
            " etag = excluded.etag, body = excluded.body, fetched_at = excluded.fetched_at",
            (self.office, url, etag, body, at),
        )

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def parse_schedule(body: bytes) -> Schedule:
    """A central schedule from YAML or JSON; ValueError with one line saying what is wrong."""
    import yaml  # here: only offices with a central schedule fetch one

    try:
        data = yaml.safe_load(body.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ValueError(f"not YAML or JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise ValueError("must be a mapping with windows: and/or weekly:")
    try:
        return Schedule.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ValueError(f"{where}: {first['msg']}") from None


async def refresh(
    session: aiohttp.ClientSession, settings: MaintenanceConfig, store: CentralStore, now: float
) -> Schedule | None:
    """Fetch the central schedule (If-None-Match); the good copy now in force, or None."""
    import aiohttp  # here, not at the top: only an office with maintenance.url fetches

    assert settings.url is not None
    url_seen, etag, current = store.load()
    headers = {"If-None-Match": etag} if etag and url_seen == settings.url else {}
    try:
        timeout = aiohttp.ClientTimeout(total=settings.timeout)
        async with session.get(settings.url, headers=headers, timeout=timeout) as response:
            if response.status == 304 and current is not None:
                return current
            if response.status != 200:
                raise ValueError(f"HTTP status {response.status}")
            body = await response.content.read(MAX_BYTES + 1)
            if len(body) > MAX_BYTES:
                raise ValueError(f"larger than {MAX_BYTES} bytes")
            schedule = parse_schedule(body)
            store.save(settings.url, response.headers.get("ETag"), schedule, now)
            return schedule
    except (aiohttp.ClientError, TimeoutError, OSError, ValueError, sqlite3.Error) as exc:
        log.warning(
            "maintenance.url: the central schedule %s was not used (%s); the last good copy stays",
            settings.url, str(exc) or type(exc).__name__,
        )  # fmt: skip
        return current


def schedules(config: Config, store: CentralStore | None) -> list[tuple[str, Schedule]]:
    """The config's windows and the stored central ones."""
    found: list[tuple[str, Schedule]] = [("config", config.maintenance)]
    if store is not None and config.maintenance.url is not None:
        _, _, central = store.load()
        if central is not None:
            found.append(("central", central))
    return found


def planned_between(
    config: Config, ledger_path: str | Path, start: float, end: float
) -> list[Planned]:
    """Every window (config and central copy in the ledger) overlapping [start, end)."""
    office = config.office.office_id
    store = CentralStore(ledger_path, office, create=False) if config.maintenance.url else None
    try:
        return windows_between(schedules(config, store), config.office.zone, start, end)
    finally:
        if store is not None:
            store.close()


def spans(windows: Iterable[Planned]) -> list[tuple[float, float, str]]:
    """What accounting reads: (start, end, announced_by)."""
    return [w.span for w in windows]
