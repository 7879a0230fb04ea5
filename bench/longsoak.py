"""A long soak: N HTTP targets every 10 s, scraped every 15 s, RSS sampled every minute.

`python -m bench.longsoak --minutes 120 --out soak.json` (as root). Two readings (start, end)
cannot tell a leak from allocator fragmentation that levels off; a series can. Each sample
carries VmRSS and its anonymous and file parts from /proc/<pid>/status, the thread count and
the scrapes so far; the JSON file is rewritten after every sample, so a soak cut short still
leaves what it measured. The slope (least squares, MB per hour) is given over the whole series
after the warm-up and over each half: flat memory has a second-half slope near zero.

Its namespace and servers are its own: set PANTAU_BENCH_NET (e.g. `10.77.18`) to give it a /30
apart from a `python -m bench` run at the same time.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.lab import NS_ADDR, REPO, Namespace, Proc, python, wait_port
from bench.probers import Pantau, targets
from bench.soak import LAG_INTERVAL, Scraper

WARMUP = 2 * LAG_INTERVAL  # every target probed twice: the steady state starts here


@dataclass
class Sample:
    at: float  # seconds since the daemon listened
    rss_mb: float
    anon_mb: float
    file_mb: float
    threads: int
    scrapes: int
    skipped: float  # pantau_probes_skipped_total at the last scrape
    # The daemon's peak RSS so far (VmHWM): catches a scrape's peak between two samples.
    # NaN in results files written before it was read.
    hwm_mb: float = float("nan")


def status(pid: int) -> dict[str, int]:
    """The kB and count fields of /proc/<pid>/status that a sample keeps."""
    out: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "Threads"):
            out[key] = int(value.split()[0])
    return out


def sample(daemon: Pantau, scraper: Scraper, t0: float) -> Sample:
    fields = status(daemon.proc.pid)
    last = scraper.scrapes[-1].skipped if scraper.scrapes else 0.0
    return Sample(
        time.monotonic() - t0,
        fields["VmRSS"] / 1000,
        fields["RssAnon"] / 1000,
        fields["RssFile"] / 1000,
        fields["Threads"],
        len(scraper.scrapes),
        last,
        hwm_mb=fields["VmHWM"] / 1000,
    )


def slope_mb_per_hour(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB), in MB per hour; NaN under two points."""
    if len(points) < 2:
        return float("nan")
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_v = sum(v for _, v in points) / n
    var = sum((t - mean_t) ** 2 for t, _ in points)
    if var == 0:
        return float("nan")
    cov = sum((t - mean_t) * (v - mean_v) for t, v in points)
    return cov / var * 3600


def summarise(samples: list[Sample]) -> dict[str, Any]:
    """First/last/min/max RSS after the warm-up, growth and the slopes (whole, each half)."""
    steady = [s for s in samples if s.at >= WARMUP] or samples
    if not steady:
        return {}
    points = [(s.at, s.rss_mb) for s in steady]
    half = len(points) // 2
    first, last = steady[0].rss_mb, steady[-1].rss_mb
    return {
        "samples": len(steady),
        "minutes": (steady[-1].at - steady[0].at) / 60,
        "rss_first_mb": first,
        "rss_last_mb": last,
        "rss_min_mb": min(v for _, v in points),
        "rss_max_mb": max(v for _, v in points),
        "peak_mb": samples[-1].hwm_mb,  # VmHWM at the end: the highest RSS of the whole run
        "growth_pct": (last / first - 1) * 100,
        "slope_mb_per_hour": slope_mb_per_hour(points),
        "slope_first_half_mb_per_hour": slope_mb_per_hour(points[:half]),
        "slope_second_half_mb_per_hour": slope_mb_per_hour(points[half:]),
    }


def line(s: Sample) -> str:
    return (
        f"{s.at / 60:7.1f} min  RSS {s.rss_mb:6.1f} MB  peak {s.hwm_mb:6.1f}  "
        f"(anon {s.anon_mb:5.1f}, file "
        f"{s.file_mb:5.1f})  threads {s.threads:2d}  scrapes {s.scrapes:4d}  "
        f"skipped {s.skipped:.0f}"
    )


def render(results: dict[str, Any]) -> str:
    """The series as a table, then the summary."""
    rows = [line(Sample(**s)) for s in results["series"]]
    summ = results.get("summary") or {}
    if summ:
        rows.append(
            f"{results['targets']} HTTP targets, {summ['minutes']:.0f} min after the warm-up: "
            f"RSS {summ['rss_first_mb']:.1f} -> {summ['rss_last_mb']:.1f} MB "
            f"({summ['growth_pct']:+.1f}%), min {summ['rss_min_mb']:.1f} max "
            f"{summ['rss_max_mb']:.1f}, peak {summ.get('peak_mb', float('nan')):.1f}; "
            f"slope {summ['slope_mb_per_hour']:+.2f} MB/h "
            f"(first half {summ['slope_first_half_mb_per_hour']:+.2f}, second half "
            f"{summ['slope_second_half_mb_per_hour']:+.2f})"
        )
    return "\n".join(rows)


def write(out: Path, results: dict[str, Any]) -> None:
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(json.dumps(results, indent=2) + "\n")
    tmp.replace(out)


def run(
    count: int, seconds: float, every: float, out: Path, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """The soak; returns (and keeps writing to `out`) the series and its summary."""
    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "targets": count,
        "interval_s": LAG_INTERVAL,
        "sample_every_s": every,
        "planned_s": seconds,
        "env": env or {},
        "series": [],
    }
    stop = {"now": False}

    def on_term(_sig: int, _frame: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, on_term)
    with Namespace() as ns, tempfile.TemporaryDirectory(prefix="pantau-soak-") as tmp:
        server = Proc(
            [python(), "-m", "bench.server", "--http", "18000-18199",
             "--lifetime", str(seconds + 600)],
            core=1, prefix=ns.prefix(), env={"PYTHONPATH": str(REPO)},
        )  # fmt: skip
        try:
            wait_port(NS_ADDR, 18000, server)
            daemon = Pantau(Path(tmp), targets("http", count), LAG_INTERVAL, 5.0, env=env)
            scraper = Scraper(daemon)
            scraper.start()
            t0 = scraper.t0
            try:
                due = t0 + every
                while not stop["now"] and due <= t0 + seconds + 0.5:
                    while not stop["now"] and time.monotonic() < due:
                        time.sleep(min(1.0, max(0.0, due - time.monotonic())))
                    if stop["now"] or not daemon.proc.alive():
                        break
                    s = sample(daemon, scraper, t0)
                    results["series"].append(asdict(s))
                    results["summary"] = summarise([Sample(**x) for x in results["series"]])
                    write(out, results)
                    print(line(s), flush=True)
                    due += every
                results["daemon_alive_at_end"] = daemon.proc.alive()
            finally:
                scraper.stop()
                daemon.stop()
        finally:
            server.stop()
    results["ended"] = datetime.now(UTC).isoformat(timespec="seconds")
    write(out, results)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.longsoak", description=__doc__)
    parser.add_argument("--targets", type=int, default=1000)
    parser.add_argument("--minutes", type=float, default=120.0)
    parser.add_argument("--every", type=float, default=60.0, help="seconds between RSS samples")
    parser.add_argument("--out", type=Path, required=True, help="JSON, rewritten every sample")
    parser.add_argument(
        "--env", action="append", default=[], help="NAME=VALUE for the daemon (repeatable)"
    )
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("bench.longsoak: needs root (it creates a network namespace for the targets)")
        return 2
    env = dict(item.split("=", 1) for item in args.env)
    results = run(args.targets, args.minutes * 60, args.every, args.out, env)
    print(render(results))
    print(f"\nwritten: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
