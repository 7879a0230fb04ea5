"""CPU seconds per 1,000 probes at a fixed rate, and the highest rate one core sustains."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from bench.probers import Blackbox, Driver, Pantau, targets


@dataclass
class Load:
    prober: str
    kind: str
    offered: float  # probes/s asked for
    achieved: float  # probes/s done in the window
    cpu_per_1000: float  # CPU seconds per 1,000 probes
    core_share: float  # CPU seconds per wall second (1.0 = the whole core)
    skipped: float = 0.0  # Pantau: probes skipped in the window

    @property
    def kept_up(self) -> bool:
        return self.achieved >= 0.97 * self.offered and self.skipped == 0


def shape(rate: float, interval: float | None = None) -> tuple[int, float, float]:
    """(targets, interval, timeout) for a rate: 5 s interval, 1 s at high rates."""
    interval = interval or (5.0 if rate <= 500 else 1.0)
    return max(1, round(rate * interval)), interval, min(2.0, interval / 2)


def pantau_load(
    workdir: Path,
    kind: str,
    rate: float,
    warmup: float,
    window: float,
    interval: float | None = None,
) -> Load:
    count, interval, timeout = shape(rate, interval)
    daemon = Pantau(workdir, targets(kind, count), interval, timeout)
    try:
        time.sleep(warmup + interval)  # every target has fired once: steady state
        done0, skipped0 = daemon.counters()
        cpu0, t0 = daemon.proc.cpu_seconds(), time.monotonic()
        time.sleep(window)
        cpu1, t1 = daemon.proc.cpu_seconds(), time.monotonic()
        done1, skipped1 = daemon.counters()
    finally:
        daemon.stop()
    probes = max(done1 - done0, 1)
    return Load(
        "pantau",
        kind,
        rate,
        probes / (t1 - t0),
        (cpu1 - cpu0) / probes * 1000,
        (cpu1 - cpu0) / (t1 - t0),
        skipped1 - skipped0,
    )


def blackbox_load(
    workdir: Path,
    kind: str,
    rate: float,
    warmup: float,
    window: float,
    interval: float | None = None,
) -> Load:
    count, interval, timeout = shape(rate, interval)
    blackbox = Blackbox(workdir)
    driver = Driver(workdir, blackbox, targets(kind, count), interval, warmup + window + 1, timeout)
    try:
        time.sleep(warmup + 0.2)
        cpu0, t0, w0 = blackbox.proc.cpu_seconds(), time.monotonic(), time.time()
        time.sleep(window)
        cpu1, t1, w1 = blackbox.proc.cpu_seconds(), time.monotonic(), time.time()
        rows = driver.wait(timeout + 20)
    except subprocess.TimeoutExpired:
        rows = []  # answers still queued long after the load stopped: blackbox fell behind
    finally:
        driver.stop()
        blackbox.stop()
    probes = max(sum(1 for row in rows if w0 <= row[0] < w1 and row[1]), 1)  # succeeded
    return Load(
        "blackbox",
        kind,
        rate,
        probes / (t1 - t0),
        (cpu1 - cpu0) / probes * 1000,
        (cpu1 - cpu0) / (t1 - t0),
    )


def max_rate(
    workdir: Path, prober: str, kind: str, rates: list[float], window: float, deadline: float
) -> tuple[float, list[Load]]:
    """Step the offered rate up; the max is the last step where the prober kept up."""
    measure = pantau_load if prober == "pantau" else blackbox_load
    best, steps = 0.0, []
    for rate in rates:
        if time.monotonic() > deadline:
            break
        load = measure(workdir, kind, rate, 2.0, window)
        steps.append(load)
        if not load.kept_up:
            break
        best = load.achieved
    return best, steps
