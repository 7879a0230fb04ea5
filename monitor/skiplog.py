"""Skipped probe runs in the log: at most one line per target per minute, with the count.

An overloaded daemon skips runs by the thousand (the last bench: 3,464 skips in 20 s at 150 %
of the maximum rate, one WARNING line each). The counter `pantau_probes_skipped_total` holds
every skip; the log only has to say that it happens, to whom, why and how often.
"""

from __future__ import annotations

from dataclasses import dataclass

EVERY_SECONDS = 60.0


@dataclass(slots=True)
class _Pending:
    count: int  # skips not yet in a log line
    why: str  # the reason of the latest of them
    logged_at: float  # when this target's last line was written (monotonic seconds)


class SkipLog:
    """Turns skips into log lines, one per target per `every` seconds; time is an argument."""

    def __init__(self, every: float = EVERY_SECONDS) -> None:
        self._every = every
        self._targets: dict[str, _Pending] = {}

    def skipped(self, target: str, why: str, now: float) -> str | None:
        """Note one skip; the line to log now, or None while this target's minute is not up."""
        pending = self._targets.get(target)
        if pending is None:
            self._targets[target] = _Pending(0, why, now)
            return _line(target, why, 1, None)
        pending.count += 1
        pending.why = why
        if now - pending.logged_at < self._every:
            return None
        return self._take(target, pending, now)

    def due(self, now: float) -> list[str]:
        """Lines for skips held back whose minute is up (so a last burst is not left unsaid)."""
        lines = []
        for target, pending in list(self._targets.items()):
            if now - pending.logged_at < self._every:
                continue
            if pending.count:
                lines.append(self._take(target, pending, now))
            else:
                del self._targets[target]  # quiet for a minute: the next skip is logged at once
        return lines

    def _take(self, target: str, pending: _Pending, now: float) -> str:
        line = _line(target, pending.why, pending.count, now - pending.logged_at)
        pending.count, pending.logged_at = 0, now
        return line


def _line(target: str, why: str, count: int, since: float | None) -> str:
    if since is None:
        return f"probe {target} skipped: {why} (further skips of it: one line a minute at most)"
    return f"probe {target} skipped {count} times in the last {since:.0f}s, the latest: {why}"
