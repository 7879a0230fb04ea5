"""One module per protocol, all with one signature, listed in one table.

Adding a protocol: a config class in monitor/config.py, a module here, one line in PROBES.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from monitor.probes import dns, http, icmp, tcp
from monitor.probes.context import ProbeContext
from monitor.probes.result import Observation

ProbeFn = Callable[[Any, float, ProbeContext], Awaitable[Observation]]

PROBES: dict[str, ProbeFn] = {
    "http": http.probe,
    "tcp": tcp.probe,
    "icmp": icmp.probe,
    "dns": dns.probe,
}
