"""The `pantau` command: one module per command group, helpers shared in `common`.

parser: the argument parser and `main` (the console script and `python -m monitor.cli`).
common: UsageError, the day/duration option types, config loading, today in the office.
logs: the log formats. run: run, check, demo. probe: `pantau probe URL`. views: calendar,
outages. report: report daily/range. trace: `pantau trace`.
"""

from __future__ import annotations

from monitor.cli.parser import build_parser, main

__all__ = ["build_parser", "main"]
