"""HTTP(S) probe against the simulated data center (aiohttp over real TLS) on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from monitor.probes.context import ProbeContext
from monitor.sim import DataCenterApp, TlsMaterial
from tests.support.probing import http_target, probe_context, probe_once

pytestmark = pytest.mark.timeout(20)
PHASES = {"dns", "connect", "tls", "ttfb", "total"}


@pytest.fixture(scope="module")
def tls() -> TlsMaterial:
    return TlsMaterial()


@pytest.fixture
def ca_file(tls: TlsMaterial, tmp_path: Path) -> Path:
    return tls.write_ca(tmp_path / "ca.pem")


@pytest.fixture
async def ctx() -> AsyncIterator[ProbeContext]:
    async with probe_context() as ctx:
        yield ctx


@pytest.fixture
async def https(tls: TlsMaterial) -> AsyncIterator[DataCenterApp]:
    app = DataCenterApp("127.0.0.1", 0, tls=tls)
    await app.start()
    yield app
    await app.stop()


@pytest.fixture
async def plain() -> AsyncIterator[DataCenterApp]:
    app = DataCenterApp("127.0.0.1", 0, tls=None)
    await app.start()
    yield app
    await app.stop()


async def test_https_200_reports_every_phase(ctx, https, ca_file):
    result = await probe_once(ctx, http_target(https.url, tls_ca_file=ca_file))

    assert result.ok, result.message
    assert result.message == "HTTP 200"
    phases = result.observation.phases
    assert set(phases) == PHASES
    assert all(value >= 0 for value in phases.values())
    assert phases["tls"] > 0  # a TLS handshake happened and was timed apart from connect
    assert phases["total"] >= phases["ttfb"]
    # The phases follow each other inside the request, so they fit in its total.
    parts = phases["dns"] + phases["connect"] + phases["tls"] + phases["ttfb"]
    assert parts <= phases["total"] + 1e-6
    assert phases["total"] <= result.duration


async def test_https_reports_the_certificate_expiry(ctx, https, ca_file, tls):
    result = await probe_once(ctx, http_target(https.url, tls_ca_file=ca_file))

    assert result.observation.cert_expiry == tls.not_after("good").timestamp()


async def test_plain_http_has_no_tls_phase_and_no_expiry(ctx, plain):
    result = await probe_once(ctx, http_target(plain.url))

    assert result.ok, result.message
    assert result.observation.phases["tls"] == 0
    assert result.observation.cert_expiry is None


async def test_slow_answer_shows_in_time_to_first_byte(ctx, plain):
    await plain.set_mode("slow", delay=0.3)

    result = await probe_once(ctx, http_target(plain.url))

    assert result.ok, result.message
    assert result.observation.phases["ttfb"] >= 0.3
    assert result.observation.phases["connect"] < 0.3


async def test_unexpected_status_fails_with_http_status(ctx, plain):
    await plain.set_mode("error")

    result = await probe_once(ctx, http_target(plain.url, expect_status=[200, 302]))

    assert result.reason == "http_status"
    assert result.message == "HTTP 503, expected 200, 302"
    assert result.observation.detail == "HTTP 503"  # what was seen survives the failure
    assert set(result.observation.phases) == PHASES


async def test_expected_status_list_is_honoured(ctx, plain):
    await plain.set_mode("error")

    result = await probe_once(ctx, http_target(plain.url, expect_status=[503]))

    assert result.ok, result.message


async def test_body_regex_match_and_mismatch(ctx, plain):
    matching = await probe_once(ctx, http_target(plain.url, body_regex=r"SIAK OK"))
    mismatch = await probe_once(ctx, http_target(plain.url, body_regex=r"^Maintenance$"))

    assert matching.ok, matching.message
    assert mismatch.reason == "body_mismatch"
    assert "'^Maintenance$'" in mismatch.message


@pytest.mark.parametrize(
    ("cert", "why"),
    [
        ("expired", "expired"),
        ("wrong_name", "not valid for '127.0.0.1'"),
        ("untrusted", "unable to get local issuer"),
    ],
)
async def test_bad_certificate_fails_with_tls(ctx, https, ca_file, cert, why):
    https.set_cert(cert)

    result = await probe_once(ctx, http_target(https.url, tls_ca_file=ca_file))

    assert result.reason == "tls"
    assert why in result.message


async def test_verification_is_on_by_default(ctx, https):
    # No tls_ca_file: the system store does not know the simulated CA.
    result = await probe_once(ctx, http_target(https.url))

    assert result.reason == "tls"


async def test_tls_verify_false_accepts_a_bad_certificate(ctx, https, tls):
    https.set_cert("expired")

    result = await probe_once(ctx, http_target(https.url, tls_verify=False))

    assert result.ok, result.message
    assert result.observation.cert_expiry == tls.not_after("expired").timestamp()


async def test_closed_port_is_refused(ctx, https, ca_file):
    await https.set_mode("down")

    result = await probe_once(ctx, http_target(https.url, tls_ca_file=ca_file))

    assert result.reason == "refused"
    assert https.accepted == 0


async def test_server_that_never_answers_times_out(ctx, https, ca_file):
    await https.set_mode("hang")

    result = await probe_once(ctx, http_target(https.url, tls_ca_file=ca_file), deadline=0.5)

    assert result.reason == "timeout"
    assert 0.5 <= result.duration < 1.5
    assert https.requests == 1  # the request arrived; the answer never came


async def test_every_probe_uses_a_fresh_connection(ctx, https, ca_file):
    target = http_target(https.url, tls_ca_file=ca_file)
    for _ in range(3):
        result = await probe_once(ctx, target)
        assert result.ok, result.message
        assert result.observation.phases["tls"] > 0  # a new handshake each time

    assert https.accepted == 3
    assert https.requests == 3


async def test_probes_carry_no_cookies_from_one_run_to_the_next(ctx):
    """A server that sets a cookie must see every probe as a new visitor."""
    from aiohttp import web

    async def page(request: web.Request) -> web.Response:
        if "visited" in request.cookies:
            return web.Response(status=409, text="a cookie from an earlier probe came back")
        response = web.Response(text="ok")
        response.set_cookie("visited", "1")
        return response

    app = web.Application()
    app.router.add_get("/", page)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        for _ in range(2):
            # A name, not an IP: aiohttp's cookie jar keeps no cookies for IP addresses.
            result = await probe_once(ctx, http_target(f"http://localhost:{port}/"))
            assert result.ok, result.message
    finally:
        await runner.cleanup()
