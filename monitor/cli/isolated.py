"""`pantau run`'s config, read and validated in a short-lived child process.

What validating leaves behind stays with the child: the `holidays` package (imported by the
config's holiday checks and by the holiday tables, ~4.3 MB of RSS the daemon would carry for
its whole life) and the YAML parser's garbage (at 1,000 targets ~3 MB of pymalloc arenas kept
alive by the few values that survive among the freed nodes). The child is a fork of `pantau
run` before anything else has started: it validates, computes the holiday tables of last year,
this year and next year, and hands both back pickled; the daemon unpickles a config equal to
the one it would have built (pickling does not run validators again) and seeds the tables.

A config mistake is the same ConfigError, with the same lines, as an in-process load. If the
child fails in any other way (no fork on this platform, a bug, killed), the config is loaded
in-process as before: nothing is lost but the memory.
"""

from __future__ import annotations

import logging
import os
import pickle
from datetime import datetime
from pathlib import Path
from typing import Any

from monitor.calendar.holiday_source import TableKey, seed, tables
from monitor.config import Config, ConfigError, load_config

log = logging.getLogger("pantau")


def load_isolated(path: str | Path) -> Config:
    """The validated config of `path` (ConfigError as `load_config`), holiday tables seeded."""
    if not hasattr(os, "fork"):
        return load_config(path)
    read, write = os.pipe()
    try:
        pid = os.fork()
    except OSError as exc:  # at the process limit, say: the daemon can still start
        os.close(read)
        os.close(write)
        log.debug("config: cannot fork to validate (%s); loading in this process", exc)
        return load_config(path)
    if pid == 0:  # the child: never returns
        os.close(read)
        _child(path, write)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    try:
        kind, *rest = pickle.loads(data)
    except Exception:  # the child died before it could answer
        kind, rest = "failed", []
    if kind == "config":
        config, computed = rest
        seed(computed)
        return config  # type: ignore[no-any-return]
    if kind == "error":
        source, problems = rest
        raise ConfigError(source, problems)
    log.debug("config: the validating child failed (%s); loading in this process", rest)
    return load_config(path)


def _child(path: str | Path, write: int) -> None:
    answer: tuple[Any, ...]
    try:
        config = load_config(path)
        answer = ("config", config, tables(holiday_keys(config)))
    except ConfigError as exc:
        answer = ("error", exc.source, exc.problems)
    except BaseException as exc:  # anything else: the parent loads it itself and shows it
        answer = ("failed", repr(exc))
    try:
        with os.fdopen(write, "wb") as pipe:
            pipe.write(pickle.dumps(answer))
    finally:
        os._exit(0)  # no atexit, no finalizers: they belong to the parent


def holiday_keys(config: Config, now: datetime | None = None) -> list[TableKey]:
    """The holiday tables the daemon reads in its first year: last year's (yesterday's report
    on 1 January, the month recap), this year's and next year's."""
    settings = config.service_hours.holidays
    if settings is None:
        return []
    year = (now or datetime.now(config.office.zone)).year
    return [
        (settings.country, settings.cuti_bersama, settings.language, y)
        for y in (year - 1, year, year + 1)
    ]
