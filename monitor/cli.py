"""The `pantau` command. A user's mistake gets a message and exit 1, never a traceback."""

from __future__ import annotations

import argparse
import asyncio
import functools
import gc
import json
import logging
import signal
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

from monitor import __version__
from monitor.config import Config, ConfigError, load_config
from monitor.dates import parse_day
from monitor.durations import parse_duration

log = logging.getLogger("pantau")
DEFAULT_CONFIG = "pantau.yaml"


class UsageError(Exception):
    """A command-line value the user must correct."""


# --- logging -------------------------------------------------------------------------------
class JsonFormatter(logging.Formatter):
    """One JSON object per line, for journald/Loki; extra `pantau_*` fields are kept."""

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        data.update({k[7:]: v for k, v in record.__dict__.items() if k.startswith("pantau_")})
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


def setup_logging(fmt: str, verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        formatter = logging.Formatter("%(asctime)sZ %(levelname)s %(message)s", "%H:%M:%S")
        formatter.converter = __import__("time").gmtime
        handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    # APScheduler logs every job run at INFO; only its warnings (skipped runs) matter here.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


# --- helpers -------------------------------------------------------------------------------
def day_option(option: str) -> Callable[[str], date]:
    """An argparse `type` for a day: a bad one is one line naming `option` and exit 1.

    It raises UsageError, which argparse does not catch (it would print its usage block and
    exit 2), so `main` reports it like every other mistake.
    """

    def parse(text: str) -> date:
        try:
            return parse_day(text)
        except ValueError as exc:
            raise UsageError(f"{option}: {exc}") from None

    return parse


def duration_option(option: str) -> Callable[[str], float]:
    """An argparse `type` for a duration: a bad one is one line naming `option` and exit 1."""

    def parse(text: str) -> float:
        try:
            return parse_duration(text)
        except ValueError as exc:
            raise UsageError(f"{option}: {exc}") from None

    return parse


def _config(args: argparse.Namespace) -> Config:
    return load_config(args.config)


def _today(config: Config) -> date:
    from monitor.clock import default_clock

    return default_clock().now().astimezone(config.office.zone).date()


def _span(args: argparse.Namespace, config: Config) -> tuple[date, date]:
    """--from/--to as office-local days; both default to today in the office's zone."""
    first = args.date_from or _today(config)
    last = args.date_to or first
    if last < first:
        raise UsageError("--to must not be before --from")
    return first, last


async def _serve_until_signal(start: Callable[[asyncio.Event], object]) -> None:
    """Run `start(stop_event)` with SIGTERM/SIGINT setting the event."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await start(stop)  # type: ignore[misc]


# --- commands ------------------------------------------------------------------------------
def cmd_check(args: argparse.Namespace) -> int:
    config = _config(args)
    kinds: dict[str, int] = {}
    for target in config.targets:
        kinds[target.kind] = kinds.get(target.kind, 0) + 1
    summary = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    print(
        f"{args.config}: OK — office {config.office.name!r} ({config.office.office_id}, "
        f"{config.office.timezone}), {len(config.targets)} targets ({summary}), "
        f"listen {config.listen}"
    )
    if config.web.config_file is not None:
        from monitor.webconfig import describe, load_web_config

        print(f"{config.web.config_file}: OK — {describe(load_web_config(config.web.config_file))}")
    from monitor.uplinks.bind import source_problems

    missing = source_problems(config)  # issue 16: a source this machine does not have
    for problem in missing:
        print(f"{args.config}: {problem}", file=sys.stderr)
    return 1 if missing else 0


async def serve(config: Config, stop: asyncio.Event) -> None:
    """The daemon until `stop` is set: `pantau run` once its config is loaded."""
    from monitor.daemon import Daemon

    async with Daemon(config):
        # Everything allocated so far (modules, config, the calendar, metric families) lives
        # as long as the daemon: out of the collector's sight, a full collection no longer
        # walks it, and at 5,000 targets stops stalling the loop for 45-80 ms (6-9 ms now).
        gc.freeze()
        await stop.wait()
        log.info("stopping")


def cmd_run(args: argparse.Namespace) -> int:
    config = _config(args)
    asyncio.run(_serve_until_signal(functools.partial(serve, config)))
    return 0


def cmd_probe(args: argparse.Namespace) -> int:
    from monitor.oneshot import probe_url

    return asyncio.run(probe_url(args.target, args.timeout, args.insecure, args.json))


def cmd_demo(args: argparse.Namespace) -> int:
    from monitor.demo import run_demo

    return asyncio.run(run_demo(args.duration, args.listen, args.db))


def cmd_calendar(args: argparse.Namespace) -> int:
    config = _config(args)
    from monitor.calendar import ServiceCalendar, render_calendar

    first, last = _span(args, config)
    calendar = ServiceCalendar(config.service_hours, config.office.zone)
    print(render_calendar(calendar, first, last, args.language), end="")
    return 0


def cmd_outages(args: argparse.Namespace) -> int:
    config = _config(args)
    from monitor.calendar import ServiceCalendar
    from monitor.clock import default_clock
    from monitor.ledger import Ledger
    from monitor.outages import day_bounds, outage_rows, render

    first, last = _span(args, config)
    if not Path(config.storage.path).exists():
        raise UsageError(
            f"storage.path: no ledger at {config.storage.path} yet; run `pantau run` first"
        )
    ledger = Ledger(config.storage.path, config.office.office_id)
    try:
        calendar = ServiceCalendar(config.service_hours, config.office.zone)
        start, end = day_bounds(first, last, config)
        data = outage_rows(ledger, calendar, config, start, end, default_clock().wall())
    finally:
        ledger.close()
    print(render(data, args.format), end="")
    return 0


# --- parser --------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pantau",
        description="Watch the link from the office to the central data center, and say who "
        "is at fault when it fails.",
    )
    parser.add_argument("--version", action="version", version=f"pantau {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--log-format", choices=("text", "json"), default="text", help="log line format"
    )
    common.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    with_config = argparse.ArgumentParser(add_help=False, parents=[common])
    with_config.add_argument(
        "-c", "--config", default=DEFAULT_CONFIG, help=f"YAML config (default {DEFAULT_CONFIG})"
    )
    span = argparse.ArgumentParser(add_help=False)
    span.add_argument(
        "--from", dest="date_from", type=day_option("--from"), help="first day, YYYY-MM-DD"
    )
    span.add_argument("--to", dest="date_to", type=day_option("--to"), help="last day (inclusive)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("run", parents=[with_config], help="run the monitor daemon")
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("check", parents=[with_config], help="validate a config file")
    p.set_defaults(func=cmd_check)
    p = sub.add_parser(
        "probe",
        parents=[common],
        help="probe one target once and print the result",
        description="Targets: https://host/path, http://host/path, tcp://host:port, "
        "icmp://host, dns://server[:port]/name[?type=AAAA]. Exit 0 on success, 1 on failure.",
    )
    p.add_argument("target")
    p.add_argument(
        "--timeout", type=duration_option("--timeout"), default=5.0, help="e.g. 5s (default)"
    )
    p.add_argument("--insecure", action="store_true", help="do not verify TLS certificates")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_probe)
    p = sub.add_parser(
        "demo",
        parents=[common],
        help="run Pantau against a simulated office network on 127.0.0.1",
    )
    p.add_argument(
        "--duration", type=duration_option("--duration"), default=None, help="stop after e.g. 60s"
    )
    p.add_argument("--listen", default="127.0.0.1:9470", help="metrics address")
    p.add_argument("--db", default=None, help="ledger file (default: a temporary file)")
    p.set_defaults(func=cmd_demo)
    p = sub.add_parser(
        "calendar", parents=[with_config, span], help="print the office's service days and hours"
    )
    p.add_argument("--language", choices=("id", "en"), default="id")
    p.set_defaults(func=cmd_calendar)
    p = sub.add_parser(
        "outages", parents=[with_config, span], help="print the outage ledger for a date range"
    )
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.set_defaults(func=cmd_outages)
    from monitor.report.cli import add_report_commands  # imports this module: not at the top

    add_report_commands(sub, with_config, span)
    from monitor.path.cli import add_trace_command  # issue 14

    add_trace_command(sub, with_config)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:  # from a `type=` such as day_option: one line, not a usage block
        print(f"pantau: {exc}", file=sys.stderr)
        return 1
    setup_logging(args.log_format, args.verbose)
    from monitor.daemon import StartupError

    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except (StartupError, UsageError) as exc:
        print(f"pantau: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    # `python -m monitor.cli` runs this file as __main__; monitor.report.cli imports it again as
    # monitor.cli, whose UsageError is another class. Run that module's main so one class is
    # raised and caught (a `report` date mistake was a traceback, not one line).
    from monitor.cli import main as _main

    sys.exit(_main())
