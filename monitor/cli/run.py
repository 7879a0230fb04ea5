"""`pantau run`, `pantau check` and `pantau demo`: the daemon, its config, and the simulation."""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import functools
import gc
import logging
import sys

from monitor.cli.common import config_of, serve_until_signal
from monitor.config import Config

log = logging.getLogger("pantau")


def cmd_check(args: argparse.Namespace) -> int:
    config = config_of(args)
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


def release_free_heap() -> None:
    """Hand the C heap's free pages back to the OS (glibc's malloc_trim; elsewhere a no-op).

    Start-up (imports, config validation, the first probes) frees memory in the middle of the
    heap that glibc keeps mapped: 1.2-1.4 MB RSS of an idle daemon (measured 2026-12-01).
    """
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS)
        return
    trim(0)


async def serve(config: Config, stop: asyncio.Event) -> None:
    """The daemon until `stop` is set: `pantau run` once its config is loaded."""
    from monitor.daemon import Daemon

    async with Daemon(config):
        # Everything allocated so far (modules, config, the calendar, metric families) lives
        # as long as the daemon: out of the collector's sight, a full collection no longer
        # walks it, and at 5,000 targets stops stalling the loop for 45-80 ms (6-9 ms now).
        gc.freeze()
        release_free_heap()
        await stop.wait()
        log.info("stopping")


def cmd_run(args: argparse.Namespace) -> int:
    config = config_of(args)
    asyncio.run(serve_until_signal(functools.partial(serve, config)))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from monitor.demo import run_demo

    return asyncio.run(run_demo(args.duration, args.listen, args.db))
