"""HTTP(S) probe: one request on a fresh connection, with dns/connect/tls/ttfb/total phases."""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from monitor.body_match import body_matches
from monitor.config import HttpTarget
from monitor.probes.context import ProbeContext
from monitor.probes.http11 import fetch
from monitor.probes.result import Observation, ProbeFailure


@lru_cache(maxsize=64)
def _ssl_context(verify: bool, ca_file: Path | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _cert_expiry(der: bytes | None) -> float | None:
    if not der:
        return None
    # Imported on the first https probe: cryptography is ~10 MB of RSS a daemon without
    # https targets never needs.
    from cryptography import x509

    return x509.load_der_x509_certificate(der).not_valid_after_utc.timestamp()


async def probe(target: HttpTarget, timeout: float, ctx: ProbeContext) -> Observation:
    """GET (or HEAD) the URL; check status and, if asked, the body."""
    https = target.url.startswith("https")
    ctx.keep_stamps_on()
    answer = await fetch(
        target.method,
        target.url,
        target.headers or None,
        _ssl_context(target.tls_verify, target.tls_ca_file) if https else None,
        target.body_regex is not None,
        ctx.resolve,
        target.source,
    )
    rtt, expiry = answer.connect_rtt, _cert_expiry(answer.peer_cert_der)
    body, status, charset = answer.body, answer.status, answer.charset or "utf-8"
    end = answer.end

    dns = max(answer.dns_end - answer.dns_start, 0.0)
    setup = max(answer.connect_end - answer.connect_start - dns, 0.0)
    connect = min(rtt, setup) if rtt is not None else setup
    phases = {
        "dns": dns,
        "connect": connect,
        "tls": max(setup - connect, 0.0) if https else 0.0,
        "ttfb": _ttfb(answer.wire.ttfb(), answer.first_byte - answer.sent, end - answer.start),
        "total": end - answer.start,
    }
    observation = Observation(phases=phases, cert_expiry=expiry, detail=_detail(status))
    if status not in target.expect_status:
        raise ProbeFailure(
            "http_status", f"HTTP {status}, expected {_statuses(target.expect_status)}", observation
        )
    if target.body_regex is not None:
        if not await body_matches(target.body_regex, body, charset):
            raise ProbeFailure(
                "body_mismatch", f"body does not match {target.body_regex!r}", observation
            )
    return observation


@lru_cache(maxsize=64)
def _detail(status: int) -> str:
    """The detail of an answer ("HTTP 200"): one string per status, not one per target kept
    with its last result."""
    return f"HTTP {status}"


def _ttfb(kernel: float | None, stopwatch: float, total: float) -> float:
    """The kernel-stamped TTFB when it is there and sane, else the loop's stopwatch.

    Sane: within the request's own duration. The stamps are wall-clock readings, so a clock
    step between them (NTP) would show as nonsense, never as a plausible number.
    """
    if kernel is not None and 0.0 <= kernel <= total:
        return kernel
    return max(stopwatch, 0.0)


def _statuses(codes: Sequence[int]) -> str:
    if tuple(codes) == tuple(range(codes[0], codes[-1] + 1)) and len(codes) > 2:
        return f"{codes[0]}-{codes[-1]}"
    return ", ".join(map(str, codes))
