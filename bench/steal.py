"""CPU time the hypervisor took from one core of this VM (steal, from /proc/stat), per second.

The project's machines are VMs on shared hosts: a probe that leaves tens of ms late while its
core shows steal was late because the host ran something else, not because Pantau's loop was
busy. The lag section reads the prober's core through a window, so each run says how much the
host took and in its worst second, beside the lag it measured.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bench.lab import TICKS

STEAL_FIELD = 8  # cpuN user nice system idle iowait irq softirq steal ...


def steal_ticks(stat: str, core: int) -> int | None:
    """The core's steal counter (ticks of 1/TICKS s) in /proc/stat's text; None without one."""
    name = f"cpu{core}"
    for line in stat.splitlines():
        fields = line.split()
        if fields and fields[0] == name:
            return int(fields[STEAL_FIELD]) if len(fields) > STEAL_FIELD else None
    return None


@dataclass
class Steal:
    core: int
    seconds: float  # the window read
    steal_ms: float  # taken from the core over the window
    worst_ms: float  # in the worst interval (EVERY s) of the window
    intervals_over_10ms: int  # intervals in which the host took more than a tick


class StealMeter(threading.Thread):
    """Reads the core's steal counter every `every` s from start() to stop()."""

    def __init__(self, core: int, every: float = 1.0, stat: Path = Path("/proc/stat")) -> None:
        super().__init__(daemon=True, name=f"steal-cpu{core}")
        self.core, self.every, self.stat = core, every, stat
        self.deltas_ms: list[float] = []
        self._stop_event = threading.Event()
        self._t0 = self._t1 = 0.0

    def _read(self) -> int | None:
        return steal_ticks(self.stat.read_text(), self.core)

    def run(self) -> None:
        last = self._read()
        self._t0 = time.monotonic()
        if last is None:
            return
        due = self._t0
        while True:
            due += self.every
            stopped = self._stop_event.wait(max(0.0, due - time.monotonic()))
            now = self._read()
            if now is not None:
                self.deltas_ms.append((now - last) * 1000 / TICKS)
                last = now
            self._t1 = time.monotonic()
            if stopped:
                return

    def stop(self) -> Steal | None:
        """The window's figures; None where the kernel reports no steal for the core."""
        self._stop_event.set()
        self.join()
        if not self.deltas_ms:
            return None
        tick_ms = 1000 / TICKS
        return Steal(
            self.core,
            self._t1 - self._t0,
            sum(self.deltas_ms),
            max(self.deltas_ms),
            sum(1 for d in self.deltas_ms if d > tick_ms),
        )
