"""What every command shares: the usage error, option types, the config, today in the office."""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import Callable
from datetime import date
from typing import TypeVar

from monitor.config import Config, load_config
from monitor.dates import parse_day
from monitor.durations import parse_duration

DEFAULT_CONFIG = "pantau.yaml"

T = TypeVar("T")


class UsageError(Exception):
    """A command-line value the user must correct."""


def _option(option: str, parse_value: Callable[[str], T]) -> Callable[[str], T]:
    """An argparse `type`: a bad value is one line naming `option` and exit 1.

    It raises UsageError, which argparse does not catch (it would print its usage block and
    exit 2), so `main` reports it like every other mistake.
    """

    def parse(text: str) -> T:
        try:
            return parse_value(text)
        except ValueError as exc:
            raise UsageError(f"{option}: {exc}") from None

    return parse


def day_option(option: str) -> Callable[[str], date]:
    """An argparse `type` for an office-local day (YYYY-MM-DD)."""
    return _option(option, parse_day)


def duration_option(option: str) -> Callable[[str], float]:
    """An argparse `type` for a duration (90s, 5m, 1h30m)."""
    return _option(option, parse_duration)


def config_of(args: argparse.Namespace) -> Config:
    """The config named by `-c/--config` (a mistake is a ConfigError that `main` prints)."""
    return load_config(args.config)


def today(config: Config) -> date:
    """Today in the office's zone."""
    from monitor.clock import default_clock

    return default_clock().now().astimezone(config.office.zone).date()


def span(args: argparse.Namespace, config: Config) -> tuple[date, date]:
    """--from/--to as office-local days; both default to today in the office's zone."""
    first = args.date_from or today(config)
    last = args.date_to or first
    if last < first:
        raise UsageError("--to must not be before --from")
    return first, last


async def serve_until_signal(start: Callable[[asyncio.Event], object]) -> None:
    """Run `start(stop_event)` with SIGTERM/SIGINT setting the event."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await start(stop)  # type: ignore[misc]
