"""Repetitions: each comparison run N times interleaved, summarised as median and range.

Absolute CPU figures on a shared VM move by up to ~25 % between runs, so one run proves
little. The runs of a comparison alternate (Pantau, blackbox, Pantau, blackbox, ...) so a
noisy minute hits both; a row keeps every run and reports each figure's median with its
lowest and highest value.
"""

from __future__ import annotations

import statistics
from typing import Any


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per numeric field: the median over runs; text fields from the first run."""
    out: dict[str, Any] = {}
    for key, value in runs[0].items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            out[key] = value
            continue
        values = [run[key] for run in runs if run[key] == run[key]]  # NaN: nothing matched
        out[key] = statistics.median(values) if values else float("nan")
        if isinstance(value, int) and values:
            out[key] = int(out[key])
    return out


def spread(values: list[float]) -> list[float]:
    """[lowest, highest] of the values that are numbers."""
    real = [v for v in values if v == v]
    return [min(real), max(real)] if real else [float("nan"), float("nan")]


def median_of(values: list[float]) -> float:
    real = [v for v in values if v == v]
    return statistics.median(real) if real else float("nan")
