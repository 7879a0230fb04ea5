"""The benchmark still runs: one tiny CPU row against blackbox_exporter, repeated twice
interleaved (figures are printed, never asserted; the real run is `python -m bench`, see
docs/performance.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.tools import require_root, require_tool

ROOT = Path(__file__).resolve().parent.parent


def test_bench_runs_a_tiny_cpu_row(tmp_path: Path) -> None:
    require_root("the bench puts its targets in a network namespace")
    require_tool("prometheus-blackbox-exporter")
    require_tool("taskset")
    out = tmp_path / "bench.json"
    args = ["--sections", "cpu", "--kinds", "tcp", "--rates", "20", "--interval", "1",
            "--window", "2", "--repeat", "2", "--out", str(out)]  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "bench", *args], cwd=ROOT, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    print(done.stdout)
    results = json.loads(out.read_text())
    (row,) = results["cpu"]
    assert row["pantau"]["achieved"] > 0 and row["blackbox"]["achieved"] > 0
    assert [set(run) for run in row["runs"]] == [{"pantau", "blackbox", "ratio"}] * 2
    assert len(row["ratio_range"]) == 2 and row["ratio_range"][0] <= row["ratio_range"][1]
    assert "CPU seconds per 1,000 probes" in done.stdout and "median of the runs" in done.stdout


def test_the_max_section_steps_through_the_rates_it_is_given(tmp_path: Path) -> None:
    require_root("the bench puts its targets in a network namespace")
    require_tool("taskset")
    out = tmp_path / "bench.json"
    args = ["--sections", "max", "--kinds", "tcp", "--max-rates", "10,20", "--max-window", "1",
            "--repeat", "1", "--no-blackbox", "--out", str(out)]  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "bench", *args], cwd=ROOT, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    (row,) = json.loads(out.read_text())["max"]
    (run,) = row["runs"]
    # The default TCP steps start at 1,000/s; these are the ones asked for (each kept up, or
    # the max section stops at the first that was not).
    offered = [step["offered"] for step in run["steps"]]
    assert offered in ([10.0], [10.0, 20.0]), offered


def test_the_scrape_profile_runs_in_process(tmp_path: Path) -> None:
    """`python -m bench.scrape` (issue 18): per family, the whole render, both gzips."""
    from bench.scrape import profile, report
    from monitor.series import FAMILIES

    other = tmp_path / "other_exposition.py"
    other.write_text((ROOT / "monitor" / "exposition.py").read_text())
    result = profile(40, 2, reference=True, other=other)
    assert [row["family"] for row in result["families"]] == [f.name for f in FAMILIES]
    assert sum(row["lines"] for row in result["families"]) < result["lines"]
    assert set(result["gzip"]) == {"zlib", "in use"}
    text = report(result)
    print(text)
    assert "whole render" in text and "prometheus_client" in text and str(other) in text


def test_the_scrape_lag_a_b_runs() -> None:
    """`python -m bench.scrape_lag` (issue 18): one tiny run, timers and scrapes on two cores."""
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs two cores: the server on one, the scraper on the other")
    args = ["--targets", "50", "--scrapes", "2", "--period", "0.1", "--settle", "0.1", "--runs",
            "1"]  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "bench.scrape_lag", *args], cwd=ROOT, capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    print(done.stdout)
    run = json.loads(done.stdout.splitlines()[0])
    assert run["renderer"] == "this" and run["during"] + run["outside"] > 0
    assert "scrape_median_ms" in done.stdout.splitlines()[-2]


def test_the_lag_section_matches_each_planned_probe_to_its_syn() -> None:
    """The wire figures of `--sections lag` (issue 18): a SYN per planned probe, on its port."""
    from bench.soak import _wire

    planned = [("a", 100.0), ("b", 100.4), ("a", 110.0), ("b", 110.4), ("a", 120.0)]
    syns = {18000: [99.999, 100.402, 110.003, 110.401], 18001: [119.0]}  # a's last: no SYN
    ports = {"a": 18000, "b": 18000}
    wire = _wire(planned, ports, syns, busy=[(110.0, 110.2)])
    assert wire["wire_matched"] == 4
    assert round(wire["wire_start_max_ms"], 3) == 3.0  # a at 110.0
    assert round(wire["wire_interval_max_ms"], 3) == 4.0  # a: 99.999 -> 110.003
    assert round(wire["wire_during_p99_ms"], 3) == 3.0 and wire["wire_outside_p99_ms"] < 3.0


def test_the_timing_section_can_take_each_probers_max_from_an_earlier_run(tmp_path: Path) -> None:
    from bench.__main__ import maxima_from

    earlier = tmp_path / "max.json"
    rows = [
        {"prober": "pantau", "kind": "http", "max_rate": 1956.5, "range": [1637, 1970]},
        {"prober": "blackbox", "kind": "http", "max_rate": 882.0, "range": [820, 997]},
    ]
    earlier.write_text(json.dumps({"date": "2026-12-01T20:09:36", "max": rows}))
    assert maxima_from(earlier) == {"pantau": {"http": 1956.5}, "blackbox": {"http": 882.0}}
    assert maxima_from(None) == {"pantau": {}, "blackbox": {}}


def test_the_timing_section_pairs_icmp_echoes_by_identifier() -> None:
    """At 70 % load many echoes to one address are in flight at once: start order would pair a
    probe with another's echo; the identifier the probe trace carries pairs it with its own."""
    from bench.wire import Wire, _echo

    wire = Wire()
    echoes: dict[tuple[str, int, int], object] = {}
    # Two probes started 0.1 ms apart; the second's echo left first and came back sooner.
    _echo(wire, echoes, 10.00020, ("icmp", 0, 7002), 0, "8")  # type: ignore[arg-type]
    _echo(wire, echoes, 10.00025, ("icmp", 0, 7001), 0, "8")  # type: ignore[arg-type]
    _echo(wire, echoes, 10.00030, ("icmp", 0, 7002), 0, "0")  # type: ignore[arg-type]
    _echo(wire, echoes, 10.00095, ("icmp", 0, 7001), 0, "0")  # type: ignore[arg-type]
    first = wire.match_echo(7001, started=10.0001)
    second = wire.match_echo(7002, started=10.0002)
    assert first is not None and first.connect is not None
    assert second is not None and second.connect is not None
    assert round(first.connect * 1e6) == 700 and round(second.connect * 1e6) == 100
    assert wire.match_echo(7001, started=10.0001) is None  # one probe, one echo
    assert wire.match_echo(7002, started=12.0) is None  # an identifier come round is not it


def test_the_lag_window_waits_for_the_first_wave_of_path_traces(tmp_path: Path) -> None:
    """`--sections lag` measures the steady state: every data-center target traced once, so
    the traces' lines are on the page (issue 18: at 5,000 targets they had made each scrape
    0.4 s longer, after the window the bench used to measure)."""
    import sqlite3

    from bench.soak import _wait_traced

    ledger = tmp_path / "pantau.db"
    with sqlite3.connect(ledger) as db:
        db.execute("CREATE TABLE path_traces (target TEXT)")
        db.executemany("INSERT INTO path_traces VALUES (?)", [("a",), ("a",), ("b",)])
    assert _wait_traced(ledger, 2, lambda: True, limit=1.0, then=0.0)
    assert not _wait_traced(ledger, 3, lambda: True, limit=0.3, then=0.0)  # a and b only
    assert not _wait_traced(tmp_path / "none.db", 1, lambda: True, limit=0.3, then=0.0)
    assert not _wait_traced(ledger, 2, lambda: False, limit=5.0, then=0.0)  # the daemon is gone


def test_steal_is_read_per_core_and_summed_over_the_window(tmp_path: Path) -> None:
    """bench/steal.py: the hypervisor's share of the prober's core, told from the daemon's own
    lateness; a kernel without the counter gives no figure rather than a zero."""
    from bench.lab import TICKS
    from bench.steal import StealMeter, steal_ticks

    text = "cpu  1 2 3 4 5 6 7 99 0 0\ncpu0 1 2 3 4 5 6 7 40 0 0\ncpu1 1 2 3 4 5 6 7 59 0 0\n"
    assert steal_ticks(text, 0) == 40 and steal_ticks(text, 1) == 59
    assert steal_ticks("cpu0 1 2 3 4 5 6 7\n", 0) is None  # before Linux 2.6.11: no steal
    assert steal_ticks(text, 2) is None
    stat = tmp_path / "stat"
    counts = iter([100, 100, 100 + 3 * TICKS // 100, 100 + 3 * TICKS // 100])

    class Fake(StealMeter):
        def _read(self) -> int | None:
            return next(counts, 100 + 3 * TICKS // 100)

    meter = Fake(0, every=0.02, stat=stat)
    meter.start()
    time.sleep(0.2)
    steal = meter.stop()
    assert steal is not None and steal.core == 0
    assert round(steal.steal_ms) == 30 and round(steal.worst_ms) == 30  # one interval took it
    assert steal.intervals_over_10ms == 1 and steal.seconds >= 0.2
    stat.write_text("cpu0 1 2 3 4 5 6 7\n")
    silent = StealMeter(0, every=0.02, stat=stat)
    silent.start()
    assert silent.stop() is None


def test_a_driver_the_host_starves_is_stopped_and_said(tmp_path: Path) -> None:
    """A driver not done in its time (the host took half its core) stops the run with a clear
    error the timing section counts, not a traceback that loses the section's other runs."""
    from bench.lab import Proc
    from bench.probers import Driver, DriverStalled

    driver = Driver.__new__(Driver)
    driver.out = tmp_path / "driver-out.json"
    driver.proc = Proc(["sleep", "30"], core=None)
    with pytest.raises(DriverStalled, match=r"not done 0\.2 s after it started"):
        driver.wait(0.2)
    assert not driver.proc.alive()  # stopped by its PID, not left behind
