"""The bench's memory figures: the soak's slope and summary, the repeated memory row (pure
functions; the runs themselves are `python -m bench --sections memory` and `bench.longsoak`)."""

from __future__ import annotations

import math
from dataclasses import asdict

from bench.__main__ import memory_row
from bench.longsoak import Sample, render, slope_mb_per_hour, summarise
from bench.report import render as render_results


def _sample(minute: float, rss: float, peak: float = 90.0) -> Sample:
    return Sample(minute * 60, rss, rss - 20, 20.0, 5, int(minute * 4), 0.0, hwm_mb=peak)


def test_slope_is_mb_per_hour() -> None:
    assert slope_mb_per_hour([(0.0, 80.0), (1800.0, 81.0), (3600.0, 82.0)]) == 2.0
    assert slope_mb_per_hour([(0.0, 80.0), (60.0, 80.0)]) == 0.0
    assert math.isnan(slope_mb_per_hour([(0.0, 80.0)]))


def test_a_series_that_levels_off_has_a_flat_second_half() -> None:
    samples = [_sample(m, 75.0 + min(m, 10) * 0.4) for m in range(1, 61)]  # +4 MB, then flat
    samples[-1] = _sample(60, 79.0, peak=80.5)  # a scrape's peak between two samples
    summary = summarise(samples)
    assert summary["samples"] == 60 and summary["minutes"] == 59
    assert summary["rss_first_mb"] == 75.4 and summary["rss_last_mb"] == 79.0
    assert summary["slope_first_half_mb_per_hour"] > 0
    assert summary["slope_second_half_mb_per_hour"] == 0.0
    text = render({"targets": 1000, "series": [asdict(s) for s in samples], "summary": summary})
    assert text.splitlines()[0].split() == [
        "1.0", "min", "RSS", "75.4", "MB", "peak", "90.0", "(anon", "55.4,", "file", "20.0)",
        "threads", "5", "scrapes", "4", "skipped", "0",
    ]  # fmt: skip
    assert summary["peak_mb"] == 80.5  # the last sample's VmHWM: the run's highest RSS
    assert "peak 80.5;" in text.splitlines()[-1] and "second half +0.00" in text.splitlines()[-1]


def test_memory_row_is_the_median_with_ranges() -> None:
    runs = [
        {
            "idle_mb": idle,
            "soak": {"targets": 1000, "seconds": 60.0, "rss_start_mb": idle + 10,
                     "rss_end_mb": idle + 14, "scrapes": 5, "growth_pct": 5.0},
            "blackbox": {"rss_start_mb": 21.0, "rss_end_mb": box},
        }
        for idle, box in ((65.0, 22.0), (66.0, 30.0), (64.0, 21.0))
    ]  # fmt: skip
    row = memory_row(runs)
    assert row["idle_mb"] == 65.0 and row["idle_range"] == [64.0, 66.0]
    assert row["soak"]["rss_end_mb"] == 79.0 and row["soak_end_range"] == [78.0, 80.0]
    assert row["blackbox"]["rss_end_mb"] == 22.0 and row["blackbox_end_range"] == [21.0, 30.0]
    text = render_results({"date": "d", "machine": "m", "memory": row})
    assert "idle 65.0 MB RSS; 1000 HTTP targets: 75.0 MB -> 79.0 MB" in text
    assert "median of 3 runs" in text and "blackbox_exporter" in text
