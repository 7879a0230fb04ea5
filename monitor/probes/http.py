"""HTTP(S) probe: one request on a fresh connection, with dns/connect/tls/ttfb/total phases."""

from __future__ import annotations

import re
import ssl
import time
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from monitor.config import HttpTarget
from monitor.probes.context import ProbeContext
from monitor.probes.http_trace import PhaseTrace, TracedResponse
from monitor.probes.result import Observation, ProbeFailure
from monitor.probes.wire_clock import measuring

BODY_LIMIT = 1 << 20  # read at most 1 MiB: enough for a regex on a status page


@lru_cache(maxsize=64)
def _ssl_context(verify: bool, ca_file: Path | None) -> ssl.SSLContext | bool:
    if not verify:
        return False
    context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    return context


@lru_cache(maxsize=256)
def _pattern(regex: str) -> re.Pattern[str]:
    return re.compile(regex)


def _cert_expiry(der: bytes | None) -> float | None:
    if not der:
        return None
    # Imported on the first https probe: cryptography is ~10 MB of RSS a daemon without
    # https targets never needs.
    from cryptography import x509

    return x509.load_der_x509_certificate(der).not_valid_after_utc.timestamp()


async def probe(target: HttpTarget, timeout: float, ctx: ProbeContext) -> Observation:
    """GET (or HEAD) the URL; check status and, if asked, the body."""
    marks = PhaseTrace()
    with measuring() as wire:
        async with ctx.http_for(target.source).request(
            target.method,
            target.url,
            headers=target.headers or None,
            ssl=_ssl_context(target.tls_verify, target.tls_ca_file),
            allow_redirects=False,
            trace_request_ctx=marks,
        ) as response:
            first_byte = time.monotonic()
            # Read from the live connection by TracedResponse: by now aiohttp may have released it.
            traced = response if isinstance(response, TracedResponse) else None
            rtt = traced.connect_rtt if traced else None
            expiry = _cert_expiry(traced.peer_cert_der) if traced else None
            body = await response.content.read(BODY_LIMIT) if target.method == "GET" else b""
            status = response.status
            charset = response.charset or "utf-8"
    end = time.monotonic()

    dns = max(marks.dns_end - marks.dns_start, 0.0)
    setup = max(marks.connect_end - marks.connect_start - dns, 0.0)
    connect = min(rtt, setup) if rtt is not None else setup
    phases = {
        "dns": dns,
        "connect": connect,
        "tls": max(setup - connect, 0.0) if target.url.startswith("https") else 0.0,
        "ttfb": _ttfb(
            wire.ttfb(), first_byte - (marks.headers_sent or marks.connect_end), end - marks.start
        ),
        "total": end - marks.start,
    }
    observation = Observation(phases=phases, cert_expiry=expiry, detail=f"HTTP {status}")
    if status not in target.expect_status:
        raise ProbeFailure(
            "http_status", f"HTTP {status}, expected {_statuses(target.expect_status)}", observation
        )
    if target.body_regex is not None:
        text = body.decode(charset, errors="replace")
        if not _pattern(target.body_regex).search(text):
            raise ProbeFailure(
                "body_mismatch", f"body does not match {target.body_regex!r}", observation
            )
    return observation


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
