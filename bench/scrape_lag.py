"""Do scrapes make probes late? `python -m bench.scrape_lag` (issue 18), in-process, no root.

The daemon's real /metrics handler (`monitor.web`) serves `Metrics` filled with N HTTP targets
(bench.scrape's state; each target also traced once, as the daemon's data-center targets are
after its first minute; `--untraced`: not) on 127.0.0.1, pinned to core 0; beside it on the
same loop a chain of timers at RATE/s, each doing BURN ms of CPU, stands in for the probes (at
5,000 targets every 10 s: 500/s) and records a result for the next target, round robin. A
scraper process on core 1 asks for /metrics as Prometheus 2.x does (its Accept header, gzip)
every PERIOD s. Per run: how late the timers fired, for those due while a scrape was being
answered and for the others, and how long the scrapes took. With `--other PATH` (an
exposition.py, e.g. main's) each run is repeated with that renderer, interleaved, so both see
the same neighbours. A timer that finds the loop behind is not made up for: the next one is
due one period after it ran, as a probe's next run would be.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import itertools
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.scrape import filled
from bench.soak import PROMETHEUS_ACCEPT

SERVER_CORE, SCRAPER_CORE = 0, 1


def _scrape(url: str, scrapes: int, period: float, settle: float, out: Any) -> None:
    os.sched_setaffinity(0, {SCRAPER_CORE})
    time.sleep(settle)  # the timers settle first
    spans = []
    for _ in range(scrapes):
        request = urllib.request.Request(
            url, headers={"Accept": PROMETHEUS_ACCEPT, "Accept-Encoding": "gzip"}
        )
        start = time.monotonic()
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
        spans.append((start, time.monotonic()))
        time.sleep(period)
    out.put(spans)


async def _serve(args: argparse.Namespace) -> dict[str, Any]:
    from monitor import web
    from monitor.httpserver import Server

    if args.renderer:  # another exposition.py's page, through the same handler
        spec = importlib.util.spec_from_file_location("other_exposition", args.renderer)
        assert spec is not None and spec.loader is not None
        other = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(other)
        web.chunks = other.chunks  # type: ignore[attr-defined]
        web.gzip_compressor = other.gzip_compressor  # type: ignore[attr-defined]
    os.sched_setaffinity(0, {SERVER_CORE})
    metrics = filled(args.targets, traced=not args.untraced)
    server = Server(web.make_routes(metrics, dict, lambda: None, lambda first, last: {}))
    loop = asyncio.get_running_loop()
    listener = await loop.create_server(server.protocol, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    lates: list[tuple[float, float]] = []  # (due, late), loop time = time.monotonic()
    step, burn = 1.0 / args.rate, args.burn_ms / 1000
    names = list(metrics.series.targets)
    turn = itertools.count()

    def tick(due: float) -> None:
        now = loop.time()
        lates.append((due, now - due))
        # A probe's result for the next target, round robin: what a scrape has to render anew.
        metrics.series.get(names[next(turn) % len(names)]).observe(0.0012)
        until = time.perf_counter() + burn
        while time.perf_counter() < until:
            pass
        following = max(due + step, loop.time() + step)
        loop.call_at(following, tick, following)

    loop.call_at(loop.time() + step, tick, loop.time() + step)
    queue: Any = multiprocessing.get_context("fork").Queue()
    scraper = multiprocessing.get_context("fork").Process(
        target=_scrape,
        args=(f"http://127.0.0.1:{port}/metrics", args.scrapes, args.period, args.settle, queue),
    )
    scraper.start()
    bound = args.scrapes * (args.period + 30) + 10  # each scrape times out after 30 s
    await loop.run_in_executor(None, scraper.join, bound)
    spans = queue.get(timeout=5)
    listener.close()
    await server.close()
    during = [late for due, late in lates if any(a <= due <= b for a, b in spans)]
    outside = [late for due, late in lates if not any(a <= due <= b for a, b in spans)]
    seconds = [b - a for a, b in spans]
    return {
        "renderer": str(args.renderer or "this"),
        "scrape_median_ms": statistics.median(seconds) * 1000,
        "scrape_max_ms": max(seconds) * 1000,
        "during": len(during),
        "during_p99_ms": _p99(during),
        "during_max_ms": max(during, default=float("nan")) * 1000,
        "outside": len(outside),
        "outside_p99_ms": _p99(outside),
        "outside_max_ms": max(outside, default=float("nan")) * 1000,
    }


def _p99(values: list[float]) -> float:
    if not values:
        return float("nan")
    return sorted(values)[min(len(values) - 1, int(0.99 * len(values)))] * 1000


def _one_run(args: argparse.Namespace, renderer: Path | None) -> dict[str, Any]:
    """One run in a fresh process (its own loop, heap and caches)."""
    cmd = [sys.executable, "-m", "bench.scrape_lag", "--child", *_flags(args)]
    if renderer is not None:
        cmd += ["--renderer", str(renderer)]
    done = subprocess.run(
        cmd, capture_output=True, text=True, timeout=args.scrapes * (args.period + 30) + 120
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _flags(args: argparse.Namespace) -> list[str]:
    return [
        f"--targets={args.targets}", f"--rate={args.rate}", f"--burn-ms={args.burn_ms}",
        f"--scrapes={args.scrapes}", f"--period={args.period}", f"--settle={args.settle}",
        *(["--untraced"] if args.untraced else []),
    ]  # fmt: skip


KEYS = ("scrape_median_ms", "scrape_max_ms", "during_p99_ms", "during_max_ms", "outside_p99_ms")


def report(runs: list[dict[str, Any]]) -> str:
    lines = ["renderer   " + " ".join(f"{key:>22}" for key in KEYS) + "   (median (range) of runs)"]
    for renderer in dict.fromkeys(run["renderer"] for run in runs):
        mine = [run for run in runs if run["renderer"] == renderer]
        cells = []
        for key in KEYS:
            values = [run[key] for run in mine]
            cells.append(f"{statistics.median(values):8.1f} ({min(values):.1f}-{max(values):.1f})")
        lines.append(f"{Path(renderer).name:10} " + " ".join(f"{c:>22}" for c in cells))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scrape_lag", description=__doc__)
    parser.add_argument("--targets", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=500.0, help="timers per second")
    parser.add_argument("--burn-ms", type=float, default=0.5, help="CPU per timer")
    parser.add_argument("--scrapes", type=int, default=8, help="per run")
    parser.add_argument("--period", type=float, default=1.0, help="seconds between scrapes")
    parser.add_argument("--settle", type=float, default=1.0, help="seconds before the first")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--untraced",
        action="store_true",
        help="no path metrics (the daemon's first minute, before it traces its targets)",
    )
    parser.add_argument("--other", type=Path, default=None, help="another exposition.py (A/B)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--renderer", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(asyncio.run(_serve(args))))
        return 0
    runs = []
    for _ in range(args.runs):
        for renderer in (None, args.other) if args.other else (None,):
            runs.append(_one_run(args, renderer))
            print(json.dumps(runs[-1]), flush=True)
    print(report(runs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
