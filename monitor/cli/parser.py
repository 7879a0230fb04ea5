"""The `pantau` argument parser and `main`. A user's mistake gets a message and exit 1, never a
traceback."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from monitor import __version__
from monitor.cli.common import DEFAULT_CONFIG, UsageError, day_option, duration_option
from monitor.cli.logs import setup_logging
from monitor.cli.probe import cmd_probe
from monitor.cli.report import add_report_commands
from monitor.cli.run import cmd_check, cmd_demo, cmd_run
from monitor.cli.trace import add_trace_command
from monitor.cli.views import cmd_calendar, cmd_outages
from monitor.config import ConfigError


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
    add_report_commands(sub, with_config, span)
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
