"""The benchmark's debug hook: one line per probe, planned vs actual start and measured phases.

Off in service. `PANTAU_PROBE_TRACE=<file>` turns it on (bench/timing.py, bench/soak.py,
bench/path_lag.py read the file); the scheduler only calls the observer it is given.
"""

from __future__ import annotations

import os
from typing import IO

from monitor.clock import Clock
from monitor.config import Target
from monitor.probes.result import ProbeResult

TRACE_ENV = "PANTAU_PROBE_TRACE"


class ProbeTrace:
    """Appends `target planned started latency connect ttfb result echo_id` per probe (wall
    times; echo_id: the ICMP echoes' identifier, -1 for other kinds)."""

    def __init__(self, file: IO[str], clock: Clock) -> None:
        self._file = file
        self._clock = clock

    @classmethod
    def from_env(cls, clock: Clock) -> ProbeTrace | None:
        path = os.environ.get(TRACE_ENV)
        return cls(open(path, "a", buffering=1 << 16), clock) if path else None

    def write(self, target: Target, planned: float, started: float, result: ProbeResult) -> None:
        phases = result.observation.phases
        self._file.write(
            f"{target.name} {self._clock.wall(planned):.6f} {self._clock.wall(started):.6f} "
            f"{result.latency:.6f} {phases.get('connect', -1):.6f} "
            f"{phases.get('ttfb', -1):.6f} {result.result_label} "
            f"{-1 if result.observation.echo_id is None else result.observation.echo_id}\n"
        )

    def close(self) -> None:
        self._file.close()
