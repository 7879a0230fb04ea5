"""One PNG of the day: the service-hours band, outages coloured by fault domain, latency.

matplotlib is imported on first use (about half a second), with the Agg backend and the
object API (no pyplot, no global figure state), so the daemon pays for it once a day.
"""

from __future__ import annotations

import io
from typing import Any

from monitor.report.model import DailyReport

COLOURS = {
    "local": "#8e44ad",
    "isp": "#e67e22",
    "datacenter": "#c0392b",
    "dns": "#2980b9",
    "unknown": "#7f8c8d",
}
_LABELS = {
    "id": {
        "service": "jam layanan",
        "unmonitored": "tidak terpantau",
        "latency": "latensi ke pusat data (ms)",
        "failed": "probe gagal",
        "slow": "lambat",
        "hour": "jam",
        "domains": {"local": "LAN", "isp": "ISP", "datacenter": "pusat data", "dns": "DNS",
                    "unknown": "tidak diketahui"},
    },
    "en": {
        "service": "service hours",
        "unmonitored": "unmonitored",
        "latency": "latency to the data center (ms)",
        "failed": "failed probe",
        "slow": "slow",
        "hour": "hour",
        "domains": {"local": "LAN", "isp": "ISP", "datacenter": "data center", "dns": "DNS",
                    "unknown": "unknown"},
    },
}  # fmt: skip


def render_chart(report: DailyReport, language: str = "id") -> bytes:
    """PNG bytes of the day's chart (x: office-local hours 0-24)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    words: dict[str, Any] = _LABELS.get(language, _LABELS["en"])
    timeline = report.timeline
    zero = timeline.start

    def hour(ts: float) -> float:
        return (ts - zero) / 3600.0

    figure = Figure(figsize=(7.2, 2.6), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    for start, end in timeline.service:
        axes.axvspan(hour(start), hour(end), color="#d5f5e3", zorder=0)
    for start, end in timeline.unmonitored:
        axes.axvspan(hour(start), hour(end), facecolor="none", hatch="///",
                     edgecolor="#999999", linewidth=0, zorder=1)  # fmt: skip
    domains_seen = []
    for start, end, kind, domain in timeline.episodes:
        colour = COLOURS.get(domain, COLOURS["unknown"])
        alpha = 0.55 if kind == "outage" else 0.25
        axes.axvspan(hour(start), hour(end), color=colour, alpha=alpha, zorder=2)
        if domain not in domains_seen:
            domains_seen.append(domain)
    ok = [(hour(at), latency * 1000) for at, latency, good in timeline.latency if good]
    failed = [hour(at) for at, _, good in timeline.latency if not good]
    if ok:
        xs, ys = zip(*ok, strict=True)
        axes.plot(xs, ys, ".", markersize=2, color="#2c3e50", zorder=3)
    top = max((y for _, y in ok), default=100.0) * 1.1 or 100.0
    if failed:
        axes.plot(failed, [top * 0.97] * len(failed), "|", markersize=6, color="#c0392b", zorder=3)
    spans = [*timeline.service, *((s, e) for s, e, _, _ in timeline.episodes)]
    low = min([6.0, *(hour(s) for s, _ in spans)])
    high = max([18.0, *(hour(e) for _, e in spans)])
    axes.set_xlim(max(0, int(low)), min(hour(timeline.end), int(high) + 1))
    axes.set_ylim(0, top)
    axes.set_xticks(range(0, 25, 1))
    axes.set_xlabel(f"{words['hour']} ({report.zone_abbr})", fontsize=8)
    axes.set_ylabel(words["latency"], fontsize=8)
    axes.tick_params(labelsize=7)
    handles = [Patch(color="#d5f5e3", label=words["service"])]
    handles += [
        Patch(color=COLOURS.get(d, COLOURS["unknown"]), alpha=0.55, label=words["domains"][d])
        for d in domains_seen
    ]
    if timeline.unmonitored:
        handles.append(
            Patch(facecolor="none", hatch="///", edgecolor="#999999", label=words["unmonitored"])
        )
    axes.legend(
        handles=handles,
        fontsize=7,
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncol=len(handles),
        frameon=False,
    )
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
