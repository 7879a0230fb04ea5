"""Which phase a probe is in, so a timeout can say where the time went.

A ContextVar, because the probe runs inside the runner's own task: what the probe marks is
visible to the runner when `asyncio.timeout` fires. A silent resolver is then reported as
`dns` (name resolution), not as a plain `timeout` blamed on the data center.
"""

from __future__ import annotations

from contextvars import ContextVar

_current: ContextVar[str | None] = ContextVar("pantau_probe_phase", default=None)


def enter(phase: str | None) -> None:
    """Mark the phase the probe is now in (None: nothing in particular)."""
    _current.set(phase)


def current() -> str | None:
    return _current.get()
