"""Overload: Pantau driven past its maximum rate; are its deadlines still its deadlines?

The daemon probes HTTP targets at `rate` (1 s interval, 900 ms timeout, as in issue 18's
report) with its probe trace on. From the trace: how many probes reported a timeout, how many
of those reported more than the deadline + 10 ms (must be none), and how late the loop started
probes; from /metrics the skipped runs; from its log how many WARNING lines the skips made
(issue 18: at most one per target per minute).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from bench.probers import Pantau, targets
from bench.timing import quantile

TIMEOUT = 0.9
OVER_BY = 0.010  # a reported timeout may exceed its deadline by at most this


@dataclass
class Overload:
    kind: str
    rate: float  # offered probes/s
    seconds: float  # the run, warm-up included
    probes: int  # probes that ran (traced)
    success: int
    timeouts: int
    timeouts_over: int  # timeouts reported more than deadline + 10 ms
    worst_timeout_ms: float  # the longest reported timeout
    start_lag_p99_ms: float  # planned -> actual start of the probes that ran
    skipped: float  # pantau_probes_skipped_total at the end
    skip_log_lines: int  # WARNING lines about skips in the daemon's log
    core_share: float
    log_sample: list[str]  # the first and the last skip lines


def overload(workdir: Path, kind: str, rate: float, seconds: float) -> Overload:
    trace = workdir / "overload-trace.txt"
    trace.unlink(missing_ok=True)
    count, interval = max(1, round(rate)), 1.0
    daemon = Pantau(
        workdir, targets(kind, count), interval, TIMEOUT, env={"PANTAU_PROBE_TRACE": str(trace)}
    )
    try:
        cpu0, t0 = daemon.proc.cpu_seconds(), time.monotonic()
        time.sleep(seconds)
        cpu1, t1 = daemon.proc.cpu_seconds(), time.monotonic()
        _done, skipped = daemon.counters()
    finally:
        daemon.stop()
    rows = [line.split() for line in trace.read_text().splitlines() if line.count(" ") >= 6]
    timeouts = [float(r[3]) for r in rows if r[6] == "timeout"]
    lags = [(float(r[2]) - float(r[1])) * 1000 for r in rows]
    log = (workdir / "pantau.log").read_text(errors="replace")
    skip_lines = [line for line in log.splitlines() if "WARNING" in line and "skipped" in line]
    lines = len(skip_lines)
    return Overload(
        kind=kind,
        rate=rate,
        seconds=t1 - t0,
        probes=len(rows),
        success=sum(1 for r in rows if r[6] == "success"),
        timeouts=len(timeouts),
        timeouts_over=sum(1 for t in timeouts if t > TIMEOUT + OVER_BY),
        worst_timeout_ms=max(timeouts, default=float("nan")) * 1000,
        start_lag_p99_ms=quantile(lags, 0.99),
        skipped=skipped,
        skip_log_lines=lines,
        core_share=(cpu1 - cpu0) / (t1 - t0),
        log_sample=skip_lines[:2] + skip_lines[-2:],
    )
