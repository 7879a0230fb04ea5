"""blackbox_exporter's RSS under the memory section's load: N HTTP targets every 10 s."""

from __future__ import annotations

from pathlib import Path

from bench.probers import Blackbox, Driver, targets
from bench.soak import LAG_INTERVAL, rss_over


def blackbox_rss(workdir: Path, count: int, seconds: float) -> tuple[float, float]:
    """(RSS after two intervals, RSS after `seconds` more) of blackbox probing `count` HTTP
    targets every 10 s through `/probe`, as Prometheus would drive it; the soak's load."""
    blackbox = Blackbox(workdir)
    duration = 2 * LAG_INTERVAL + seconds + 1
    driver = Driver(workdir, blackbox, targets("http", count), LAG_INTERVAL, duration, 5.0)
    try:
        start, end = rss_over(blackbox.proc, seconds)
    finally:
        driver.stop()
        blackbox.stop()
    return start, end
