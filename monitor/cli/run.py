"""`pantau run`, `pantau check` and `pantau demo`: the daemon, its config, and the simulation."""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import functools
import gc
import logging
import sys
from typing import Any

from monitor.cli.common import config_of, serve_until_signal
from monitor.cli.isolated import load_isolated
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


def _glibc(name: str) -> Any:
    """glibc's function `name` from this process, or None where the C library is another
    (musl, macOS): the heap tuning below is glibc's own and a no-op elsewhere."""
    try:
        return getattr(ctypes.CDLL(None), name)
    except (OSError, AttributeError):
        return None


def release_free_heap() -> None:
    """Hand the C heap's free pages back to the OS (glibc's malloc_trim; elsewhere a no-op).

    Start-up (imports, config validation, the first probes) frees memory in the middle of the
    heap that glibc keeps mapped: 1.2-1.4 MB RSS of an idle daemon (measured 2026-12-01).
    """
    trim = _glibc("malloc_trim")
    if trim is not None:
        trim(0)


M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter (malloc.h)
MMAP_THRESHOLD = 128 * 1024  # glibc's own starting value, kept from here on


def pin_mmap_threshold() -> bool:
    """Keep glibc serving blocks of 128 KiB and more from mmap for the whole run, so each one
    goes back to the OS when freed (glibc; elsewhere a no-op, False).

    glibc starts there, but raises the threshold to the size of each mmap'd block freed (up to
    32 MB): after the first scrape's gzip state and page chunks (~0.4 MB and ~0.1-0.3 MB each),
    such blocks come from the heap, and the heap keeps the pages they freed. At 1,000 targets
    that was ~0.7 MB RSS, grown scrape by scrape (measured 2026-12-02). Setting the parameter
    also turns the raising off; the cost is an mmap and munmap per such block, a few per scrape.
    """
    mallopt = _glibc("mallopt")
    return mallopt is not None and bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))


def warm_up_seconds(config: Config) -> float:
    """Time for one full round: every target has started (within its interval) and ended."""
    rounds = (config.interval_of(t) + config.timeout_of(t) for t in config.targets)
    return max(rounds, default=0.0) + 1.0


def freeze_warm_state() -> None:
    """Freeze what the first round of probes made and keeps: each target's histogram, cached
    request and parsed URL. At 5,000 HTTP targets that is ~24,000 of the ~38,000 objects
    left in the collector's oldest generation, which every full collection walks (33-51 ms,
    one every 11-20 s, measured with `gc.callbacks` in the bench's lag section).

    No `gc.collect()` first: at 5,000 targets it held the loop for 63-67 ms, starting probes
    late. What cyclic garbage exists at this instant stays frozen: a one-off of a few objects
    (full collections here found 0-10 at a time once the probes' transports stopped forming
    cycles, transport_cycle.py)."""
    gc.freeze()
    log.debug("froze the first round's state: %d objects", gc.get_freeze_count())


async def serve(config: Config, stop: asyncio.Event) -> None:
    """The daemon until `stop` is set: `pantau run` once its config is loaded."""
    from monitor.daemon import Daemon

    async with Daemon(config):
        # Everything allocated so far (modules, config, the calendar, metric families) lives
        # as long as the daemon: out of the collector's sight, a full collection no longer
        # walks it, and at 5,000 targets stops stalling the loop for 45-80 ms (6-9 ms now).
        # Frozen objects are still freed when their last reference goes; only a cycle formed
        # among them later would stay (the HTTP probes' connections no longer form one,
        # transport_cycle.py; full collections at 5,000 targets found 0-10 objects at a time).
        gc.freeze()
        release_free_heap()
        warm = asyncio.get_running_loop().call_later(warm_up_seconds(config), freeze_warm_state)
        try:
            await stop.wait()
        finally:
            warm.cancel()
        log.info("stopping")


def cmd_run(args: argparse.Namespace) -> int:
    pin_mmap_threshold()  # first: the config's load may free a large block already
    # Validated in a short-lived child: the holidays package and the YAML parser's garbage
    # stay there (monitor/cli/isolated.py).
    config = load_isolated(args.config)
    asyncio.run(serve_until_signal(functools.partial(serve, config)))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from monitor.demo import run_demo

    return asyncio.run(run_demo(args.duration, args.listen, args.db))
