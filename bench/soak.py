"""Scheduling lag (planned vs actual probe start) and memory, from the real daemon's trace."""

from __future__ import annotations

import bisect
import contextlib
import gzip
import itertools
import os
import sqlite3
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.probers import PROBER_CORE, Pantau, targets
from bench.steal import StealMeter
from bench.timing import quantile
from bench.wire import SYN_ONLY, Capture, syns

LAG_INTERVAL = 10.0
# The lag window starts this long after the daemon: past its start-up (config, 5,000 first
# probes, a first scrape that renders every target while they start: 4.0-6.2 s in six runs) and its
# warm-up freeze (monitor/cli/run.py: one interval plus the 5 s timeout plus 1 s after start).
# One interval, as before issue 18's last round, let the first scrape's tail and the full
# collections before the freeze count as probes made late by a scrape.
LAG_SETTLE = 25.0
SCRAPE_INTERVAL = 15.0  # Prometheus's default scrape_interval
SCRAPE_OFFSET = 5.0  # first scrape after start; then every SCRAPE_INTERVAL, as Prometheus does
# What Prometheus 2.x sends (scrape.go, scrapeAcceptHeader): it prefers OpenMetrics.
PROMETHEUS_ACCEPT = (
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
    "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
)
SCRAPER_CORE = 1  # beside the targets, never on the prober's core 0
# 25 targets share a server port, 0.4 s apart; a probe starts at most 0.1 s late (later, the
# scheduler skips it) plus its connect.
MATCH_WINDOW = 0.3


@dataclass
class Scrape:
    at: float  # seconds after the daemon listened
    seconds: float  # request sent -> whole body read, as Prometheus's scrape_duration_seconds
    wire_bytes: int  # gzip-compressed body
    text_bytes: int
    content_type: str
    skipped: float  # pantau_probes_skipped_total summed over targets, in this scrape
    wall: float = 0.0  # time.time() when the request was sent (the trace's clock)


@dataclass
class Lag:
    targets: int
    interval: float
    probes: int
    skipped: float  # between the scrape before the window and the one after it
    p50_ms: float
    p99_ms: float
    max_ms: float
    rss_mb: float  # after the run
    cpu_share: float  # of one core
    scrapes_in_window: int  # Prometheus-like scrapes started in the measured window
    scrape_max_s: float
    scrape_mb: float  # uncompressed text of the last scrape
    scrapes: list[dict[str, Any]]
    # Issue 18: are probes late because of a scrape? Probes planned while a scrape was being
    # answered (request sent -> body read) against the others, same run.
    during_scrape: int = 0
    during_p99_ms: float = float("nan")
    during_max_ms: float = float("nan")
    outside_p99_ms: float = float("nan")
    outside_max_ms: float = float("nan")
    # The wire (issue 18): each probe's SYN as the kernel stamped it on the veth (dumpcap), so
    # what the daemon cannot see about itself: start error = SYN - planned; interval error =
    # a target's SYN-to-SYN time - the planned time between them (one interval unless a probe
    # was skipped). None: no capture (tshark missing).
    wire_matched: int = 0
    wire_start_p50_ms: float | None = None
    wire_start_p99_ms: float | None = None
    wire_start_max_ms: float | None = None
    wire_interval_p99_ms: float | None = None  # of |error|
    wire_interval_max_ms: float | None = None
    wire_during_p99_ms: float | None = None  # start error of the probes due during a scrape
    wire_outside_p99_ms: float | None = None
    # What the hypervisor took from the prober's core in the window (bench/steal.py): a host
    # stall, told from the daemon's own lateness. None: the kernel reports no steal.
    steal_ms: float | None = None
    steal_worst_ms: float | None = None  # in the worst second
    steal_window_s: float | None = None


@dataclass
class Soak:
    targets: int
    seconds: float
    rss_start_mb: float
    rss_end_mb: float
    scrapes: int  # of /metrics during the soak, every 15 s

    @property
    def growth_pct(self) -> float:
        return (self.rss_end_mb / self.rss_start_mb - 1) * 100


class Scraper(threading.Thread):
    """Scrapes /metrics every 15 s with Prometheus 2.x's Accept and Accept-Encoding headers.

    The lag a daemon shows while nobody reads its /metrics is not the lag it has in service:
    every Prometheus scrape makes it render its whole exposition (megabytes at thousands of
    targets). Runs on core 1, so decompressing and scanning that here never takes CPU from the
    prober on core 0.
    """

    def __init__(self, daemon: Pantau) -> None:
        super().__init__(daemon=True)
        self.url = f"http://127.0.0.1:{daemon.port}/metrics"
        self.scrapes: list[Scrape] = []
        self._done = threading.Event()
        self.t0 = time.monotonic()

    def run(self) -> None:
        os.sched_setaffinity(threading.get_native_id(), {SCRAPER_CORE})
        due = self.t0 + SCRAPE_OFFSET
        while not self._done.wait(max(0.0, due - time.monotonic())):
            self.scrapes.append(self.scrape())
            due += SCRAPE_INTERVAL

    def scrape(self) -> Scrape:
        request = urllib.request.Request(
            self.url, headers={"Accept": PROMETHEUS_ACCEPT, "Accept-Encoding": "gzip"}
        )
        at, wall = time.monotonic(), time.time()
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
            done = time.monotonic()
            content_type = response.headers.get("Content-Type", "")
            gzipped = response.headers.get("Content-Encoding") == "gzip"
        text = gzip.decompress(body) if gzipped else body
        skipped = 0.0
        for line in text.decode().splitlines():
            if line.startswith("pantau_probes_skipped_total{"):
                skipped += float(line.rsplit(" ", 1)[1])
        return Scrape(at - self.t0, done - at, len(body), len(text), content_type, skipped, wall)

    def stop(self) -> None:
        self._done.set()
        self.join(60)


def lag(
    workdir: Path,
    count: int,
    cycles: int = 3,
    interface: str | None = None,
    settle: float = LAG_SETTLE,
    traced_first: bool = True,
) -> Lag:
    """`count` HTTP targets every 10 s, for `cycles` intervals after the first, scraped; with
    `interface` (the veth to the targets) the probes' SYNs are captured there too. The window
    begins `settle` s after the daemon and, with `traced_first`, once the daemon's first wave
    of path traces is over (the targets are data-center targets, each traced once from 60 s
    in, two at a time: ~110 s at 5,000 targets on the project's VM): the steady state, with
    the traces' lines on every page, as in service."""
    trace = workdir / "trace.txt"
    trace.unlink(missing_ok=True)
    items = targets("http", count)
    capture = None
    if interface is not None:
        capture = Capture(interface, workdir / "syn.pcapng", SYN_ONLY)
    daemon = Pantau(workdir, items, LAG_INTERVAL, 5.0, env={"PANTAU_PROBE_TRACE": str(trace)})
    scraper = Scraper(daemon)
    scraper.start()
    try:
        time.sleep(settle)  # start-up and the first cycle: not the steady state
        if traced_first:
            _wait_traced(workdir / "pantau.db", count, daemon.proc.alive)
        measured_from = time.time()  # start-up (config, first transitions) is not steady state
        window_start = time.monotonic() - scraper.t0
        cpu0, t0 = daemon.proc.cpu_seconds(), time.monotonic()
        meter = StealMeter(PROBER_CORE)
        meter.start()
        time.sleep(LAG_INTERVAL * cycles)
        cpu1, t1 = daemon.proc.cpu_seconds(), time.monotonic()
        steal = meter.stop()
        measured_until = time.time()
        window_end = time.monotonic() - scraper.t0
        scraper.stop()
        last = scraper.scrape()  # the skipped count after the window
        rss = daemon.proc.rss_mb()
    finally:
        scraper.stop()
        daemon.stop()
        if capture is not None:
            capture.proc.stop()
    port_of = {t.name: int(t.address.split(":")[2].split("/")[0]) for t in items}
    on_wire = syns(capture.path) if capture is not None else None
    planned_probes: list[tuple[str, float]] = []
    lags: list[float] = []
    during: list[float] = []
    outside: list[float] = []
    busy = sorted((s.wall, s.wall + s.seconds) for s in scraper.scrapes)
    for line in trace.read_text().splitlines():
        _name, planned, started, *_ = line.split()
        if measured_from <= float(planned) < measured_until:
            planned_probes.append((_name, float(planned)))
            late = float(started) - float(planned)
            lags.append(late)
            (during if _inside(float(planned), busy) else outside).append(late)
    before = [s for s in scraper.scrapes if s.at < window_start]
    inside = [s for s in scraper.scrapes if window_start <= s.at < window_end]
    scrapes = [*scraper.scrapes, last]
    wire = _wire(planned_probes, port_of, on_wire, busy) if on_wire is not None else {}
    return Lag(
        count,
        LAG_INTERVAL,
        len(lags),
        last.skipped - (before[-1].skipped if before else 0.0),
        quantile(lags, 0.5) * 1000,
        quantile(lags, 0.99) * 1000,
        max(lags, default=float("nan")) * 1000,
        rss,
        (cpu1 - cpu0) / (t1 - t0),
        len(inside),
        max((s.seconds for s in inside), default=float("nan")),
        last.text_bytes / 1e6,
        [asdict(s) for s in scrapes],
        len(during),
        quantile(during, 0.99) * 1000,
        max(during, default=float("nan")) * 1000,
        quantile(outside, 0.99) * 1000,
        max(outside, default=float("nan")) * 1000,
        **wire,
        steal_ms=steal.steal_ms if steal else None,
        steal_worst_ms=steal.worst_ms if steal else None,
        steal_window_s=steal.seconds if steal else None,
    )


TRACE_WAVE_LIMIT = 400.0  # seconds; a daemon that cannot trace (no raw sockets) never ends it


def _wait_traced(
    ledger: Path,
    count: int,
    alive: Callable[[], bool],
    limit: float = TRACE_WAVE_LIMIT,
    then: float = LAG_INTERVAL,
) -> bool:
    """Until `count` targets have a trace in the ledger file (its `path_traces` rows, read-only
    beside the daemon's writer), then `then` s more for the last ones' lines; False if the
    daemon did not get there within `limit` s (or stopped)."""
    until = time.monotonic() + limit
    while time.monotonic() < until and alive():
        try:
            with contextlib.closing(sqlite3.connect(f"file:{ledger}?mode=ro", uri=True)) as db:
                (traced,) = db.execute("SELECT COUNT(DISTINCT target) FROM path_traces").fetchone()
        except sqlite3.Error:
            traced = 0  # not created yet, or locked for a moment
        if traced >= count:
            time.sleep(then)
            return True
        time.sleep(min(2.0, limit / 10))
    print(f"bench: the daemon traced fewer than {count} targets in {limit:.0f} s", flush=True)
    return False


def _wire(
    planned: list[tuple[str, float]],
    port_of: dict[str, int],
    by_port: dict[int, list[float]],
    busy: list[tuple[float, float]],
) -> dict[str, Any]:
    """Each planned probe's SYN: the first on its target's port from 5 ms before the plan (the
    clocks' slack), within MATCH_WINDOW (a probe whose SYN was not captured must not take the
    next target's on that port)."""
    starts: list[float] = []
    during: list[float] = []
    outside: list[float] = []
    sent: dict[str, list[tuple[float, float]]] = {}
    used: set[tuple[int, int]] = set()
    for name, at in sorted(planned, key=lambda p: p[1]):
        port = port_of[name]
        times = by_port.get(port, [])
        i = bisect.bisect_left(times, at - 0.005)
        while i < len(times) and (port, i) in used:
            i += 1
        if i >= len(times) or times[i] - at >= MATCH_WINDOW:
            continue
        used.add((port, i))
        error = times[i] - at
        starts.append(error)
        (during if _inside(at, busy) else outside).append(error)
        sent.setdefault(name, []).append((at, times[i]))
    # Against the plan's own spacing: a skipped probe between two is not a 10 s error.
    intervals = [
        abs((b_syn - a_syn) - (b_plan - a_plan))
        for pairs in sent.values()
        for (a_plan, a_syn), (b_plan, b_syn) in itertools.pairwise(pairs)
    ]
    return {
        "wire_matched": len(starts),
        "wire_start_p50_ms": quantile(starts, 0.5) * 1000,
        "wire_start_p99_ms": quantile(starts, 0.99) * 1000,
        "wire_start_max_ms": max(starts, default=float("nan")) * 1000,
        "wire_interval_p99_ms": quantile(intervals, 0.99) * 1000,
        "wire_interval_max_ms": max(intervals, default=float("nan")) * 1000,
        "wire_during_p99_ms": quantile(during, 0.99) * 1000,
        "wire_outside_p99_ms": quantile(outside, 0.99) * 1000,
    }


def _inside(at: float, spans: list[tuple[float, float]]) -> bool:
    """Whether `at` falls in one of the (start, end) spans (a handful: one per scrape)."""
    return any(start <= at <= end for start, end in spans)


def idle_rss(workdir: Path) -> float:
    """RSS of the daemon with one target, once it has probed a few times."""
    daemon = Pantau(workdir, targets("tcp", 1), 1.0, 0.5)
    try:
        time.sleep(4)
        return daemon.proc.rss_mb()
    finally:
        daemon.stop()


def soak(workdir: Path, count: int, seconds: float) -> Soak:
    """RSS after the first two intervals and at the end of `seconds` of steady probing, scraped
    every 15 s as in service (a render's buffers are part of the footprint)."""
    daemon = Pantau(workdir, targets("http", count), LAG_INTERVAL, 5.0)
    scraper = Scraper(daemon)
    scraper.start()
    try:
        start, end = rss_over(daemon.proc, seconds)
    finally:
        scraper.stop()
        daemon.stop()
    return Soak(count, seconds, start, end, len(scraper.scrapes))


def rss_over(proc: Any, seconds: float) -> tuple[float, float]:
    """(RSS after the first two intervals, RSS after `seconds` more) of a running prober."""
    time.sleep(2 * LAG_INTERVAL)
    start = proc.rss_mb()
    time.sleep(seconds)
    return start, proc.rss_mb()
