"""The bench's results as a plain-text table (the JSON file holds every figure)."""

from __future__ import annotations

from typing import Any


def _f(value: float | None, fmt: str = ".3f") -> str:
    return "-" if value is None or value != value else format(value, fmt)


def _range(values: list[float] | None, fmt: str = ".3f") -> str:
    """`lo-hi` of a row's runs; `-` for a row without repetitions."""
    if not values:
        return "-"
    return f"{_f(values[0], fmt)}-{_f(values[1], fmt)}"


def render(results: dict[str, Any]) -> str:
    lines = [f"Pantau vs blackbox_exporter — {results['date']} — {results['machine']}", ""]
    if results.get("cpu"):
        lines += [
            "CPU seconds per 1,000 probes (prober pinned to one core): median of the runs "
            "(interleaved Pantau, blackbox, ...) and their range",
            f"{'kind':5} {'rate/s':>7} {'runs':>4} {'pantau':>8} {'range':>13} {'blackbox':>9}"
            f" {'range':>13} {'ratio':>6} {'range':>11} {'pantau done/s':>14} {'skipped':>8}",
        ]
        for row in results["cpu"]:
            bb = row.get("blackbox", {})
            lines.append(
                f"{row['kind']:5} {row['rate']:7.0f} {len(row.get('runs', [0])):4d}"
                f" {_f(row['pantau']['cpu_per_1000']):>8} {_range(row.get('pantau_range')):>13}"
                f" {_f(bb.get('cpu_per_1000')):>9} {_range(row.get('blackbox_range')):>13}"
                f" {_f(row.get('ratio'), '.2f'):>6} {_range(row.get('ratio_range'), '.2f'):>11}"
                f" {row['pantau']['achieved']:14.0f} {row['pantau']['skipped']:8.0f}"
            )
        lines.append("")
    if results.get("max"):
        lines += [
            "Max sustained probes/s on one core: median of the runs and their range",
            f"{'prober':9} {'kind':5} {'runs':>4} {'max/s':>7} {'range':>11}",
        ]
        for row in results["max"]:
            lines.append(
                f"{row['prober']:9} {row['kind']:5} {len(row.get('runs', [0])):4d}"
                f" {row['max_rate']:7.0f} {_range(row.get('range'), '.0f'):>11}"
            )
        lines.append("")
    if results.get("overload"):
        lines += [
            "Overload (Pantau, HTTP, 1 s interval, 900 ms timeout): every run",
            f"{'rate/s':>7} {'secs':>5} {'probes':>7} {'success':>7} {'timeouts':>8}"
            f" {'>+10ms':>6} {'worst ms':>8} {'lag p99':>8} {'skipped':>8} {'log lines':>9}"
            f" {'core':>5}",
        ]
        for row in results["overload"]:
            lines.append(
                f"{row['rate']:7.0f} {row['seconds']:5.0f} {row['probes']:7d} {row['success']:7d}"
                f" {row['timeouts']:8d} {row['timeouts_over']:6d}"
                f" {_f(row['worst_timeout_ms'], '.1f'):>8} {_f(row['start_lag_p99_ms'], '.1f'):>8}"
                f" {row['skipped']:8.0f} {row['skip_log_lines']:9d} {row['core_share']:5.2f}"
            )
        lines.append("")
    if results.get("timing"):
        lines += [
            "Timing truth: |reported - wire|, ms (TCP connect: SYN->SYN/ACK; HTTP TTFB: "
            "request->first response byte; ICMP: echo request->reply; DNS: query->answer)",
            f"{'prober':9} {'kind':5} {'load':6} {'rate/s':>7} {'runs':>4} {'n':>6} {'p50':>7}"
            f" {'p99':>7} {'p99 range':>13} {'bias':>7}",
        ]
        for row in results["timing"]:
            lines.append(
                f"{row['prober']:9} {row['kind']:5} {row['load']:6} {row['rate']:7.0f}"
                f" {len(row.get('runs', [0])):4d} {row['matched']:6d} {_f(row['p50_ms']):>7}"
                f" {_f(row['p99_ms']):>7} {_range(row.get('p99_range')):>13}"
                f" {_f(row['bias_ms']):>7}"
                + (
                    f"  ({row['stalled_runs']} not counted: the driver stalled)"
                    if row.get("stalled_runs")
                    else ""
                )
            )
        lines.append("")
    if results.get("lag"):
        lines += [
            "Scheduling lag (Pantau, HTTP targets every 10 s, /metrics scraped every 15 s as "
            "Prometheus 2.x does): planned -> actual start",
            f"{'targets':>7} {'probes':>7} {'skipped':>8} {'p50 ms':>7} {'p99 ms':>7}"
            f" {'max ms':>7} {'RSS MB':>7} {'core':>5} {'scrapes':>7} {'scrape s':>8}"
            f" {'text MB':>7} {'in scrape':>9} {'p99 ms':>7} {'max ms':>7}"
            f" {'outside p99':>11} {'max ms':>7}",
        ]
        for row in results["lag"]:
            lines.append(
                f"{row['targets']:7d} {row['probes']:7d} {row['skipped']:8.0f}"
                f" {_f(row['p50_ms'], '.2f'):>7} {_f(row['p99_ms'], '.2f'):>7}"
                f" {_f(row['max_ms'], '.1f'):>7} {row['rss_mb']:7.1f} {row['cpu_share']:5.2f}"
                f" {row.get('scrapes_in_window', 0):7d} {_f(row.get('scrape_max_s'), '.3f'):>8}"
                f" {_f(row.get('scrape_mb'), '.1f'):>7} {row.get('during_scrape', 0):9d}"
                f" {_f(row.get('during_p99_ms'), '.2f'):>7}"
                f" {_f(row.get('during_max_ms'), '.1f'):>7}"
                f" {_f(row.get('outside_p99_ms'), '.2f'):>11}"
                f" {_f(row.get('outside_max_ms'), '.1f'):>7}"
            )
            if row.get("wire_start_p99_ms") is not None:
                lines.append(
                    f"{'':7} on the wire ({row['wire_matched']} SYNs): start error p50"
                    f" {_f(row['wire_start_p50_ms'], '.2f')}"
                    f" p99 {_f(row['wire_start_p99_ms'], '.2f')}"
                    f" max {_f(row['wire_start_max_ms'], '.1f')} ms; interval error p99"
                    f" {_f(row['wire_interval_p99_ms'], '.2f')} max"
                    f" {_f(row['wire_interval_max_ms'], '.1f')} ms; start error p99 in a scrape"
                    f" {_f(row['wire_during_p99_ms'], '.2f')}, outside"
                    f" {_f(row['wire_outside_p99_ms'], '.2f')} ms"
                )
            if row.get("steal_ms") is not None:
                window = row["steal_window_s"]
                lines.append(
                    f"{'':7} host: steal on the prober's core {row['steal_ms']:.0f} ms in the"
                    f" {window:.0f} s window ({row['steal_ms'] / window / 10:.1f} %), worst"
                    f" second {row['steal_worst_ms']:.0f} ms"
                )
        lines.append("")
    if results.get("memory"):
        memory = results["memory"]
        soak = memory["soak"]
        lines += [
            f"Memory: idle {memory['idle_mb']:.1f} MB RSS; {soak['targets']} HTTP targets: "
            f"{soak['rss_start_mb']:.1f} MB -> {soak['rss_end_mb']:.1f} MB over "
            f"{soak['seconds']:.0f} s ({soak['growth_pct']:+.1f}%), "
            f"{soak.get('scrapes', 0)} scrapes of /metrics"
        ]
        if memory.get("runs"):
            lines.append(
                f"  median of {len(memory['runs'])} runs; ranges: idle "
                f"{_range(memory.get('idle_range'), '.1f')} MB, start "
                f"{_range(memory.get('soak_start_range'), '.1f')} MB, end "
                f"{_range(memory.get('soak_end_range'), '.1f')} MB"
            )
        if memory.get("blackbox"):
            box = memory["blackbox"]
            ends = _range(memory.get("blackbox_end_range"), ".1f")
            lines.append(
                f"  blackbox_exporter, same targets and runs: {box['rss_start_mb']:.1f} MB -> "
                f"{box['rss_end_mb']:.1f} MB (end {ends})"
            )
    return "\n".join(lines)
