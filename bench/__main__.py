"""`python -m bench`: Pantau against blackbox_exporter on this machine; a table and a JSON file.

Needs root (a network namespace for the targets), taskset, and for the comparison and the
timing truth `prometheus-blackbox-exporter` and `tshark` (Debian). Every load is bounded in
count and time; everything started is stopped by PID and the namespace is removed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.cpu import blackbox_load, max_rate, pantau_load
from bench.lab import NS_ADDR, REPO, Namespace, Proc, python, wait_port
from bench.memory import blackbox_rss
from bench.overload import overload
from bench.probers import DriverStalled, blackbox_binary
from bench.repeat import median_of, spread, summary
from bench.report import render
from bench.soak import LAG_SETTLE, idle_rss, lag, soak
from bench.timing import blackbox_truth, pantau_truth
from bench.wire import tools

SECTIONS = ("cpu", "max", "overload", "timing", "lag", "memory")
MAX_STEPS = {
    "http": [500, 1000, 1500, 2000, 2500, 3000],
    "tcp": [1000, 2000, 3000, 4000, 5000, 6000],
    "icmp": [1000, 2000, 3000, 4000, 5000, 6000],
}


def _floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x]


def maxima_from(path: Path | None) -> dict[str, dict[str, float]]:
    """{prober: {kind: max/s}} from an earlier run's results file (its max section), or empty."""
    maxima: dict[str, dict[str, float]] = {"pantau": {}, "blackbox": {}}
    if path is not None:
        for row in json.loads(path.read_text()).get("max", []):
            maxima[row["prober"]][row["kind"]] = float(row["max_rate"])
    return maxima


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--sections",
        default=",".join(SECTIONS),
        help=f"comma-separated, from {', '.join(SECTIONS)}",
    )
    parser.add_argument("--kinds", default="http,tcp,icmp")
    parser.add_argument("--rates", type=_floats, default=[50, 200, 500], help="probes/s")
    parser.add_argument(
        "--interval",
        type=float,
        default=None,
        help="probe interval of the CPU rows (default 5 s; 1 s above 500/s)",
    )
    parser.add_argument("--window", type=float, default=15.0, help="seconds measured per row")
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs of each comparison, interleaved (Pantau, blackbox, Pantau, ...); median "
        "and range reported",
    )
    parser.add_argument("--max-window", type=float, default=6.0, help="seconds per max-rate step")
    parser.add_argument(
        "--max-rates",
        type=_floats,
        default=None,
        help="probes/s of the max section's steps, for every kind (default per kind: "
        "HTTP 500-3000 by 500, TCP and ICMP 1000-6000 by 1000); finer steps bound a max closer",
    )
    parser.add_argument(
        "--overload-rate",
        type=float,
        default=None,
        help="HTTP probes/s of the overload section (default 150%% of Pantau's measured max, "
        "else 3750)",
    )
    parser.add_argument("--overload-seconds", type=float, default=20.0)
    parser.add_argument("--lag-targets", type=_floats, default=[1000, 5000])
    parser.add_argument(
        "--lag-settle",
        type=float,
        default=LAG_SETTLE,
        help="seconds from the daemon's start to the lag window, at least (default "
        "%(default)s); the window also waits for the daemon's first wave of path traces",
    )
    parser.add_argument(
        "--lag-untraced",
        action="store_true",
        help="start the lag window without waiting for the first wave of path traces (the "
        "window of issue 18's first measurements: the page without the traces' lines)",
    )
    parser.add_argument(
        "--soak",
        type=float,
        default=60.0,
        help="soak seconds (the issue's full soak: --soak 1800, run by hand)",
    )
    parser.add_argument("--soak-targets", type=int, default=1000)
    parser.add_argument(
        "--maxima-from",
        type=Path,
        default=None,
        help="a results file whose max section gives each prober's max (the timing section's "
        "70%% load) when this run measures none",
    )
    parser.add_argument("--light-rate", type=float, default=50.0)
    parser.add_argument(
        "--timing-kinds", default="tcp,http,icmp,dns", help="kinds of the timing section"
    )
    parser.add_argument(
        "--timing-loads",
        default="light,70%",
        help="loads of the timing section: light (--light-rate), 70%% (of each prober's max)",
    )
    parser.add_argument("--deadline", type=float, default=3600.0, help="stop starting new rows")
    parser.add_argument("--no-blackbox", action="store_true", help="measure Pantau alone")
    parser.add_argument("--out", type=Path, default=None, help="JSON (default bench/results/)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if os.geteuid() != 0:
        print("bench: needs root (it creates a network namespace for the targets)")
        return 2
    sections = set(args.sections.split(","))
    kinds = args.kinds.split(",")
    blackbox = not args.no_blackbox and blackbox_binary() is not None
    if not args.no_blackbox and not blackbox:
        print(
            "bench: blackbox_exporter missing (apt-get install prometheus-blackbox-exporter); "
            "measuring Pantau alone"
        )
    deadline = time.monotonic() + args.deadline
    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
    }
    with Namespace() as ns, tempfile.TemporaryDirectory(prefix="pantau-bench-") as tmp:
        work = Path(tmp)
        servers = [
            Proc(
                [
                    python(),
                    "-m",
                    "bench.server",
                    "--http",
                    "18000-18199",
                    "--tcp",
                    "19000-19199",
                    "--lifetime",
                    str(args.deadline + 600),
                ],
                core=1,
                prefix=ns.prefix(),
                env={"PYTHONPATH": str(REPO)},
            ),
            Proc(
                [
                    python(),
                    "-m",
                    "bench.server",
                    "--http",
                    "20000-20199",
                    "--dns",
                    "21000-21199",
                    "--delay",
                    "0.005",
                    "--lifetime",
                    str(args.deadline + 600),
                ],
                core=1,
                prefix=ns.prefix(),
                env={"PYTHONPATH": str(REPO)},
            ),
        ]
        try:
            wait_port(NS_ADDR, 18000, servers[0])
            wait_port(NS_ADDR, 20000, servers[1])
            run_sections(args, sections, kinds, blackbox, work, ns, deadline, results)
        finally:
            out = args.out or REPO / "bench" / "results" / f"bench-{results['date'][:19]}.json"
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(results, indent=2) + "\n")  # what was measured, even if cut
            for server in servers:
                server.stop()
    print(render(results))
    print(f"\nwritten: {out}")
    return 0


def run_sections(
    args: argparse.Namespace,
    sections: set[str],
    kinds: list[str],
    blackbox: bool,
    work: Path,
    ns: Namespace,
    deadline: float,
    results: dict[str, Any],
) -> None:
    def late() -> bool:
        return time.monotonic() > deadline

    if "cpu" in sections:
        rows = results["cpu"] = []
        for kind in kinds:
            for rate in args.rates:
                if late():
                    break
                runs: list[dict[str, Any]] = []
                for _ in range(args.repeat):
                    run = {
                        "pantau": asdict(
                            pantau_load(work, kind, rate, 2.0, args.window, args.interval)
                        )
                    }
                    if blackbox:
                        run["blackbox"] = asdict(
                            blackbox_load(work, kind, rate, 2.0, args.window, args.interval)
                        )
                        run["ratio"] = (
                            run["pantau"]["cpu_per_1000"] / run["blackbox"]["cpu_per_1000"]
                        )
                    runs.append(run)
                row = cpu_row(kind, rate, runs)
                rows.append(row)
                print(progress(row), flush=True)
    maxima = maxima_from(args.maxima_from)
    if "max" in sections:
        rows = results["max"] = []
        for kind in kinds:
            found: dict[str, list[dict[str, Any]]] = {"pantau": [], "blackbox": []}
            for _ in range(args.repeat):
                for prober in ("pantau", "blackbox") if blackbox else ("pantau",):
                    if late():
                        break
                    best, steps = max_rate(
                        work,
                        prober,
                        kind,
                        args.max_rates or MAX_STEPS[kind],
                        args.max_window,
                        deadline,
                    )
                    found[prober].append({"max_rate": best, "steps": [asdict(s) for s in steps]})
                    print(f"max {prober} {kind}: {best:.0f}/s", flush=True)
            for prober, runs in found.items():
                if runs:
                    values = [run["max_rate"] for run in runs]
                    maxima[prober][kind] = median_of(values)
                    rows.append(
                        {
                            "prober": prober,
                            "kind": kind,
                            "max_rate": median_of(values),
                            "range": spread(values),
                            "runs": runs,
                        }
                    )
    if "overload" in sections:
        rows = results["overload"] = []
        measured = maxima["pantau"].get("http") or 2500  # 0: no step kept up (noise)
        rate = args.overload_rate or 1.5 * measured
        for _ in range(args.repeat):
            if late():
                break
            over = overload(work, "http", rate, args.overload_seconds)
            rows.append(asdict(over))
            print(
                f"overload http {rate:.0f}/s: {over.timeouts} timeouts, {over.timeouts_over} "
                f"past the deadline + 10 ms (worst {over.worst_timeout_ms:.1f} ms), "
                f"{over.skipped:.0f} skipped, {over.skip_log_lines} log lines",
                flush=True,
            )
    if "timing" in sections and tools() is not None:
        rows = results["timing"] = []
        for kind in args.timing_kinds.split(","):
            for load in args.timing_loads.split(","):
                found = {"pantau": [], "blackbox": []}
                stalled = {"pantau": 0, "blackbox": 0}
                for _ in range(args.repeat):
                    for prober in ("pantau", "blackbox") if blackbox else ("pantau",):
                        if late():
                            break
                        heavy = 0.7 * maxima[prober].get(kind, MAX_STEPS.get(kind, [0, 1000])[1])
                        rate = args.light_rate if load == "light" else heavy
                        measure = pantau_truth if prober == "pantau" else blackbox_truth
                        try:
                            truth = measure(work, ns, kind, load, rate, min(args.window, 10.0))
                        except DriverStalled as exc:
                            stalled[prober] += 1
                            print(f"timing {prober} {kind} {load}: {exc}: not counted", flush=True)
                            continue
                        found[prober].append(asdict(truth))
                        print(
                            f"timing {prober} {kind} {load} {rate:.0f}/s: p50 "
                            f"{truth.p50_ms:.3f} ms p99 {truth.p99_ms:.3f} ms",
                            flush=True,
                        )
                for prober, runs in found.items():
                    if runs:
                        row = summary(runs)
                        row["p99_range"] = spread([run["p99_ms"] for run in runs])
                        row["runs"] = runs
                        row["stalled_runs"] = stalled[prober]
                        rows.append(row)
    elif "timing" in sections:
        print("bench: tshark/dumpcap missing (apt-get install tshark); no timing truth")
    if "lag" in sections:
        rows = results["lag"] = []
        for count in args.lag_targets:
            if late():
                break
            interface = ns.host_if if tools() else None
            result = lag(
                work,
                int(count),
                interface=interface,
                settle=args.lag_settle,
                traced_first=not args.lag_untraced,
            )
            rows.append(asdict(result))
            print(
                f"lag {count:.0f} targets: p99 {result.p99_ms:.1f} ms, "
                f"{result.scrapes_in_window} scrapes in the window (slowest "
                f"{result.scrape_max_s:.2f} s); p99 {result.during_p99_ms:.1f} ms for the "
                f"{result.during_scrape} probes due during a scrape, "
                f"{result.outside_p99_ms:.1f} ms outside"
                + (
                    f"; wire: start p99 {result.wire_start_p99_ms:.1f} ms, interval error p99 "
                    f"{result.wire_interval_p99_ms:.1f} ms ({result.wire_matched} SYNs matched)"
                    if result.wire_start_p99_ms is not None
                    else ""
                ),
                flush=True,
            )
    if "memory" in sections and not late():
        runs = []
        for _ in range(args.repeat):  # idle, soak, idle, soak, ...: a noisy minute hits both
            if late():
                break
            idle = idle_rss(work)
            soaked = soak(work, args.soak_targets, args.soak)
            run: dict[str, Any] = {
                "idle_mb": idle,
                "soak": {**asdict(soaked), "growth_pct": soaked.growth_pct},
            }
            text = (
                f"memory idle {idle:.1f} MB, {args.soak_targets} targets {soaked.rss_start_mb:.1f}"
                f" -> {soaked.rss_end_mb:.1f} MB ({soaked.growth_pct:+.1f}%)"
            )
            if blackbox:
                start, end = blackbox_rss(work, args.soak_targets, args.soak)
                run["blackbox"] = {"rss_start_mb": start, "rss_end_mb": end}
                text += f"; blackbox {start:.1f} -> {end:.1f} MB"
            runs.append(run)
            print(text, flush=True)
        if runs:
            results["memory"] = memory_row(runs)


def memory_row(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Idle and soak RSS: the medians (the keys of one run), their ranges, every run."""
    soaks = [run["soak"] for run in runs]
    row: dict[str, Any] = {
        "idle_mb": median_of([run["idle_mb"] for run in runs]),
        "idle_range": spread([run["idle_mb"] for run in runs]),
        "soak": summary(soaks),
        "soak_start_range": spread([s["rss_start_mb"] for s in soaks]),
        "soak_end_range": spread([s["rss_end_mb"] for s in soaks]),
        "runs": runs,
    }
    if "blackbox" in runs[0]:
        row["blackbox"] = summary([run["blackbox"] for run in runs])
        row["blackbox_end_range"] = spread([run["blackbox"]["rss_end_mb"] for run in runs])
    return row


def cpu_row(kind: str, rate: float, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One CPU comparison: medians (the `pantau`/`blackbox`/`ratio` keys), ranges, every run."""
    row: dict[str, Any] = {"kind": kind, "rate": rate, "runs": runs}
    for prober in ("pantau", "blackbox"):
        if prober in runs[0]:
            row[prober] = summary([run[prober] for run in runs])
            row[f"{prober}_range"] = spread([run[prober]["cpu_per_1000"] for run in runs])
    if "ratio" in runs[0]:
        row["ratio"] = median_of([run["ratio"] for run in runs])
        row["ratio_range"] = spread([run["ratio"] for run in runs])
    return row


def progress(row: dict[str, Any]) -> str:
    text = f"cpu {row['kind']} {row['rate']:.0f}/s: pantau {row['pantau']['cpu_per_1000']:.3f}"
    if "blackbox" in row:
        text += f" blackbox {row['blackbox']['cpu_per_1000']:.3f} ratio {row['ratio']:.2f}"
    return text


def machine() -> str:
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    distro = ""
    if Path("/etc/debian_version").exists():
        distro = f"Debian {Path('/etc/debian_version').read_text().strip()}"
    return (
        f"{os.cpu_count()} vCPU {model}, {distro}, Linux {platform.release()}, "
        f"Python {platform.python_version()}"
    )


if __name__ == "__main__":
    raise SystemExit(main())
