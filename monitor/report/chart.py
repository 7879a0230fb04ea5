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
MIN_WIDTH = 0.006
"""The narrowest outage or slow period drawn, as a share of the x axis: about 4 px of the 7.2 in
figure, so an 18 s outage on a 12 h axis (0.04 %, a quarter of a pixel) is still seen."""


def words_of(language: str) -> Any:
    """The report's word list (`report_words.<language>.txt`): the chart's words live there."""
    from monitor.report.render import environment

    lang = language if language in ("id", "en") else "en"
    return environment(lang).get_template(f"report_words.{lang}.txt").module  # type: ignore[arg-type]


def widened(start: float, end: float, low: float, high: float) -> tuple[float, float]:
    """[start, end) in axis units, at least MIN_WIDTH of the axis [low, high] wide."""
    least = (high - low) * MIN_WIDTH
    if end - start >= least:
        return start, end
    start = min(max(start, low), high - least)  # grow rightwards from the real start
    return start, start + least


def render_chart(report: DailyReport, language: str = "id") -> bytes:
    """PNG bytes of the day's chart (x: office-local hours 0-24)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    w = words_of(language)
    words: dict[str, Any] = w.chart
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
    spans = [*timeline.service, *((s, e) for s, e, _, _ in timeline.episodes)]
    low = max(0, int(min([6.0, *(hour(s) for s, _ in spans)])))
    high = min(hour(timeline.end), int(max([18.0, *(hour(e) for _, e in spans)])) + 1)
    domains_seen = []
    for start, end, kind, domain in timeline.episodes:
        colour = COLOURS.get(domain, COLOURS["unknown"])
        alpha = 0.55 if kind == "outage" else 0.25
        left, right = widened(hour(start), hour(end), low, high)
        axes.axvspan(left, right, color=colour, alpha=alpha, zorder=2)
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
    # Ticks outside the limits would widen them back to 0-24 h (and thin every outage).
    axes.set_xticks(range(int(low), int(high) + 1))
    axes.set_xlim(low, high)
    axes.set_ylim(0, top)
    axes.set_xlabel(f"{words['hour']} ({report.zone_abbr})", fontsize=8)
    axes.set_ylabel(words["latency"], fontsize=8)
    axes.tick_params(labelsize=7)
    handles = [Patch(color="#d5f5e3", label=words["service"])]
    handles += [
        Patch(color=COLOURS.get(d, COLOURS["unknown"]), alpha=0.55, label=w.domains[d])
        for d in domains_seen
    ]
    if any(kind == "slow" for _, _, kind, _ in timeline.episodes):
        handles.append(Patch(color="#7f8c8d", alpha=0.25, label=words["slow"]))  # paler: slow
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
