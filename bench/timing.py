"""Timing truth: each prober's reported TCP connect / HTTP TTFB / ICMP RTT / DNS round trip
against the wire's own times."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bench.cpu import shape
from bench.lab import Namespace
from bench.probers import Blackbox, Driver, Pantau, Target, targets
from bench.wire import Capture, Wire


@dataclass
class Truth:
    prober: str
    kind: str
    load: str  # "light" or "70%"
    rate: float
    matched: int  # probes matched to a connection on the wire
    p50_ms: float  # |reported - wire|, milliseconds
    p99_ms: float
    bias_ms: float  # median of reported - wire (signed)


def port_of(target: Target) -> int:
    """The server port its packets are filed under on the wire (ICMP: 0, see bench/wire.py)."""
    if target.kind == "http":
        return int(urlsplit(target.address).port or 80)
    if target.kind == "icmp":
        return 0
    return int(target.address.rsplit(":", 1)[1])


def quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _truth(prober: str, kind: str, load: str, rate: float, errors: list[float]) -> Truth:
    return Truth(
        prober,
        kind,
        load,
        rate,
        len(errors),
        quantile([abs(e) for e in errors], 0.5) * 1000,
        quantile([abs(e) for e in errors], 0.99) * 1000,
        quantile(errors, 0.5) * 1000,
    )


def _wire_value(wire: Wire, kind: str, port: int, started: float) -> float | None:
    conn = wire.match(port, started)
    if conn is None:
        return None
    return conn.ttfb if kind == "http" else conn.connect  # connect: request -> reply


def pantau_truth(
    workdir: Path, ns: Namespace, kind: str, load: str, rate: float, window: float
) -> Truth:
    count, interval, timeout = shape(rate)
    items = targets(kind, count, slow=True)
    trace = workdir / "trace.txt"
    trace.unlink(missing_ok=True)
    capture = Capture(ns.host_if, workdir / "wire.pcapng")
    try:
        daemon = Pantau(workdir, items, interval, timeout, env={"PANTAU_PROBE_TRACE": str(trace)})
        try:
            time.sleep(window + 2)
        finally:
            daemon.stop()
    finally:
        wire = capture.stop()
    ports = {t.name: port_of(t) for t in items}
    errors = []
    for line in trace.read_text().splitlines():
        name, _planned, started, latency, connect, ttfb, result, echo_id = line.split()
        if result != "success":
            continue
        # ICMP (one echo) and DNS report their round trip as the probe's latency.
        reported = float({"tcp": connect, "http": ttfb}.get(kind, latency))
        if kind == "icmp":  # paired by the echo's identifier, which the trace carries
            conn = wire.match_echo(int(echo_id), float(started))
            actual = None if conn is None else conn.connect
        else:
            actual = _wire_value(wire, kind, ports[name], float(started))
        if actual is not None:
            errors.append(reported - actual)
    return _truth("pantau", kind, load, rate, errors)


def blackbox_truth(
    workdir: Path, ns: Namespace, kind: str, load: str, rate: float, window: float
) -> Truth:
    count, interval, timeout = shape(rate)
    items = targets(kind, count, slow=True)
    capture = Capture(ns.host_if, workdir / "wire.pcapng")
    try:
        blackbox = Blackbox(workdir)
        try:
            driver = Driver(workdir, blackbox, items, interval, window + 1, timeout)
            rows = driver.wait(window + timeout + 15)
        finally:
            blackbox.stop()
    finally:
        wire = capture.stop()
    errors = []
    for _done, ok, started, reported, index in rows:
        if not ok:
            continue
        actual = _wire_value(wire, kind, port_of(items[int(index)]), started)
        if actual is not None:
            errors.append(reported - actual)
    return _truth("blackbox", kind, load, rate, errors)
