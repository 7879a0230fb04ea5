"""HTTP(S) probe: one request on a fresh connection, with dns/connect/tls/ttfb/total phases."""

from __future__ import annotations

import ssl
import time
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import aiohttp

from monitor.body_match import BODY_LIMIT, body_matches
from monitor.config import HttpTarget
from monitor.probes.context import ProbeContext
from monitor.probes.http_trace import PhaseTrace, TracedResponse
from monitor.probes.result import Observation, ProbeFailure
from monitor.probes.wire_clock import measuring


@lru_cache(maxsize=64)
def _ssl_context(verify: bool, ca_file: Path | None) -> ssl.SSLContext | bool:
    if not verify:
        return False
    context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
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
            body = b""
            if target.method == "GET":
                body = await _read_body(response, target.body_regex is not None)
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
        if not await body_matches(target.body_regex, body, charset):
            raise ProbeFailure(
                "body_mismatch", f"body does not match {target.body_regex!r}", observation
            )
    return observation


async def _read_body(response: aiohttp.ClientResponse, whole: bool) -> bytes:
    """The body up to BODY_LIMIT; without `whole`, only what the first read returns.

    One read() returns what has arrived so far, often a single 1448-byte segment: a regex that
    saw only that failed on text at byte 4,000. With a regex the probe reads on to the limit
    (or the end), however the server splits the body.
    """
    if not whole:
        return await response.content.read(BODY_LIMIT)
    parts: list[bytes] = []
    size = 0
    while size < BODY_LIMIT:
        part = await response.content.read(BODY_LIMIT - size)
        if not part:
            break
        parts.append(part)
        size += len(part)
    return b"".join(parts)


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
