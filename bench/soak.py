"""Scheduling lag (planned vs actual probe start) and memory, from the real daemon's trace."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from bench.probers import Pantau, targets
from bench.timing import quantile

LAG_INTERVAL = 10.0


@dataclass
class Lag:
    targets: int
    interval: float
    probes: int
    skipped: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    rss_mb: float  # after the run
    cpu_share: float  # of one core


@dataclass
class Soak:
    targets: int
    seconds: float
    rss_start_mb: float
    rss_end_mb: float

    @property
    def growth_pct(self) -> float:
        return (self.rss_end_mb / self.rss_start_mb - 1) * 100


def lag(workdir: Path, count: int, cycles: int = 3) -> Lag:
    """`count` HTTP targets every 10 s, for `cycles` intervals after the first."""
    trace = workdir / "trace.txt"
    trace.unlink(missing_ok=True)
    daemon = Pantau(
        workdir, targets("http", count), LAG_INTERVAL, 5.0, env={"PANTAU_PROBE_TRACE": str(trace)}
    )
    try:
        time.sleep(LAG_INTERVAL)  # the first cycle: every target fired once
        measured_from = time.time()  # start-up (config, first transitions) is not steady state
        _, skipped0 = daemon.counters()
        cpu0, t0 = daemon.proc.cpu_seconds(), time.monotonic()
        time.sleep(LAG_INTERVAL * cycles)
        cpu1, t1 = daemon.proc.cpu_seconds(), time.monotonic()
        _, skipped1 = daemon.counters()
        rss = daemon.proc.rss_mb()
    finally:
        daemon.stop()
    lags = []
    for line in trace.read_text().splitlines():
        _name, planned, started, *_ = line.split()
        if float(planned) >= measured_from:
            lags.append(float(started) - float(planned))
    return Lag(
        count,
        LAG_INTERVAL,
        len(lags),
        skipped1 - skipped0,
        quantile(lags, 0.5) * 1000,
        quantile(lags, 0.99) * 1000,
        max(lags, default=float("nan")) * 1000,
        rss,
        (cpu1 - cpu0) / (t1 - t0),
    )


def idle_rss(workdir: Path) -> float:
    """RSS of the daemon with one target, once it has probed a few times."""
    daemon = Pantau(workdir, targets("tcp", 1), 1.0, 0.5)
    try:
        time.sleep(4)
        return daemon.proc.rss_mb()
    finally:
        daemon.stop()


def soak(workdir: Path, count: int, seconds: float) -> Soak:
    """RSS after the first two intervals and at the end of `seconds` of steady probing."""
    daemon = Pantau(workdir, targets("http", count), LAG_INTERVAL, 5.0)
    try:
        time.sleep(2 * LAG_INTERVAL)
        start = daemon.proc.rss_mb()
        time.sleep(seconds)
        end = daemon.proc.rss_mb()
    finally:
        daemon.stop()
    return Soak(count, seconds, start, end)
