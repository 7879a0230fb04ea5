"""The one place that applies timeouts, measures time and turns exceptions into results.

Probes only speak their protocol. A failed probe is data: nothing escapes from here.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import ssl
import time

from monitor.clock import Clock
from monitor.config import Target
from monitor.probes import PROBES, phase
from monitor.probes.context import ProbeContext
from monitor.probes.result import Observation, ProbeFailure, ProbeResult, Reason

log = logging.getLogger(__name__)
_UNREACHABLE = {errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN, errno.ENETDOWN}
# Issue 16: a source interface that is gone (a 4G modem unplugged) or an address not here.
_UNREACHABLE |= {errno.ENODEV, errno.EADDRNOTAVAIL}
# What the network and the far end can make a probe raise. Anything else (TypeError, KeyError,
# ValueError, ...) is a bug in Pantau: reason `internal`, never a fault of the target.
# The probes speak to the network through the standard library only: the HTTP probe's own client
# (probes/http11.py) raises OSError (connect, reset), ssl.SSLError (the handshake, certificate
# verification included) and socket.gaierror (the resolver); dnspython and icmplib errors become
# ProbeFailure inside their probes.
_NETWORK_OUTCOMES = (OSError, ssl.SSLError, EOFError)


def reason_for(exc: BaseException) -> tuple[Reason, str]:
    """A failure reason and a readable message for an exception a probe let through."""
    if isinstance(exc, ssl.SSLError):
        return "tls", f"TLS failed: {exc}"
    if isinstance(exc, ConnectionResetError):
        return "reset", "connection closed by the peer before the answer"
    if isinstance(exc, socket.gaierror):
        return "dns", f"name did not resolve: {exc.strerror}"
    if isinstance(exc, ConnectionRefusedError):
        return "refused", "connection refused"
    if isinstance(exc, OSError) and exc.errno in _UNREACHABLE:
        return "unreachable", exc.strerror or "unreachable"
    if isinstance(exc, OSError) and exc.errno in (errno.EACCES, errno.EPERM):
        return "permission", exc.strerror or "permission denied"
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if isinstance(exc, _NETWORK_OUTCOMES):
        return "error", text
    return "internal", f"internal error in Pantau (a bug, not a network fault): {text}"


def _timed_out(timeout: float, during: str | None) -> tuple[Reason, str]:
    if during == "dns":
        # The name never resolved: a silent resolver, not a silent data center.
        return "dns", f"the name server did not answer within {timeout:g}s"
    where = f" (waiting for {during})" if during else ""
    return "timeout", f"no answer within {timeout:g}s{where}"


# What a probe that raised before observing anything saw: nothing. Frozen, so one instance
# serves every run (a fresh one cost ~2 us per probe, the cheapest of the runner's costs to cut).
_NOTHING_SEEN = Observation()


async def run_probe(target: Target, timeout: float, ctx: ProbeContext, clock: Clock) -> ProbeResult:
    """Run one probe under its deadline; always returns a result, never raises (bar cancel)."""
    probe = PROBES[target.kind]
    started_mono = time.monotonic()
    started_at = clock.wall(started_mono)
    reason: Reason | None = None
    message = ""
    timed_out = False
    observation = _NOTHING_SEEN
    if phase.current() is not None:
        # A probe run earlier in this task (the CLI, a test) left its phase; a probe task of the
        # scheduler starts with none. Reading is cheaper than setting (a context copy).
        phase.enter(None)
    try:
        async with asyncio.timeout(timeout):
            observation = await probe(target, timeout, ctx)
    except ProbeFailure as failure:
        reason, message = failure.reason, failure.message
        observation = failure.observation or observation
    except TimeoutError:
        reason, message = _timed_out(timeout, phase.current())
        timed_out = True
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # a failed probe is data; the reason set stays bounded
        reason, message = reason_for(exc)
        if reason == "internal":
            log.error("probe %s: %s", target.name, message, exc_info=exc)
    duration = time.monotonic() - started_mono
    if timed_out:
        # Nothing came within the deadline: that is the measurement. How much later the loop
        # got round to the timer is loop lag, not the network (the bench at 150 % load saw a
        # 900 ms deadline reported as 0.99-1.17 s); the scheduler sheds load to keep it small.
        duration = min(duration, timeout)
    latency = observation.latency if observation.latency is not None else duration
    if reason is None:
        message = observation.detail
    return ProbeResult(
        target=target.name,
        role=target.role,
        kind=target.kind,
        started_at=started_at,
        monotonic=started_mono,
        duration=duration,
        latency=latency,
        reason=reason,
        message=message,
        observation=observation,
    )
