"""One module per protocol, all with one signature, listed in one table.

Adding a protocol: a config class in monitor/config.py, a module here named after its kind,
the kind in KINDS.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from monitor.vocabulary import KINDS

if TYPE_CHECKING:  # the package itself imports no probe machinery: its modules import it
    from monitor.probes.context import ProbeContext
    from monitor.probes.result import Observation

ProbeFn = Callable[[Any, float, "ProbeContext"], Awaitable["Observation"]]


class _Probes(dict[str, ProbeFn]):
    """kind -> probe function; a protocol's module (and its library) is imported on first use.

    dnspython adds ~2 MB of RSS (cryptography, for https, ~8 MB) that a daemon without such
    targets never needs. The daemon loads the kinds its config uses before it starts probing
    (`load`), so no import stalls the event loop later.
    """

    def __missing__(self, kind: str) -> ProbeFn:
        if kind not in KINDS:
            raise KeyError(kind)
        module = importlib.import_module(f"monitor.probes.{kind}")
        probe: ProbeFn = module.probe
        self[kind] = probe
        return probe


PROBES: dict[str, ProbeFn] = _Probes()


def load(kinds: set[str]) -> None:
    """Import the probe modules of these kinds now, before the scheduler runs."""
    for kind in kinds:
        PROBES[kind]
