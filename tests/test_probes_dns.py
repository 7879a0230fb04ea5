"""DNS probe against a real UDP/TCP responder (dnspython wire format) on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from monitor.probes.context import ProbeContext
from monitor.sim import DnsResponder
from tests.support.probing import dns_target, probe_context, probe_once

pytestmark = pytest.mark.timeout(20)
NAME = "siak.kemendagri.go.id"
ADDRESS = "10.20.0.5"


@pytest.fixture
async def ctx() -> AsyncIterator[ProbeContext]:
    async with probe_context() as ctx:
        yield ctx


@pytest.fixture
async def resolver() -> AsyncIterator[DnsResponder]:
    server = DnsResponder("127.0.0.1", 0, {NAME: [ADDRESS, "10.20.0.6", "fd00::5"]}, tcp=True)
    await server.start()
    yield server
    await server.stop()


@pytest.mark.parametrize("transport", ["udp", "tcp"])
async def test_a_record_answer(ctx, resolver, transport):
    target = dns_target(resolver.address, NAME, transport=transport, expect=[ADDRESS])

    result = await probe_once(ctx, target)

    assert result.ok, result.message
    assert result.message == f"A {ADDRESS}, 10.20.0.6"  # A only: the AAAA is not listed
    assert 0 < result.latency < 0.5
    assert resolver.queries == 1


async def test_aaaa_record_answer(ctx, resolver):
    result = await probe_once(ctx, dns_target(resolver.address, NAME, record="AAAA"))

    assert result.ok, result.message
    assert result.message == "AAAA fd00::5"


async def test_unexpected_answer_fails_with_answer_mismatch(ctx, resolver):
    target = dns_target(resolver.address, NAME, expect=["10.99.0.1"])

    result = await probe_once(ctx, target)

    assert result.reason == "answer_mismatch"
    assert result.message == f"got {ADDRESS}, 10.20.0.6, expected one of 10.99.0.1"


async def test_unknown_name_is_nxdomain(ctx, resolver):
    result = await probe_once(ctx, dns_target(resolver.address, "nope.kemendagri.go.id"))

    assert result.reason == "dns"
    assert result.message.startswith("NXDOMAIN for nope.kemendagri.go.id A")


@pytest.mark.parametrize(("mode", "rcode"), [("servfail", "SERVFAIL"), ("refused", "REFUSED")])
async def test_error_rcode_fails_with_dns(ctx, resolver, mode, rcode):
    await resolver.set_mode(mode)

    result = await probe_once(ctx, dns_target(resolver.address, NAME))

    assert result.reason == "dns"
    assert result.message == f"{rcode} for {NAME} A at {resolver.address}"


async def test_name_without_that_record_fails_with_dns(ctx):
    server = DnsResponder("127.0.0.1", 0, {"v6only.example": ["fd00::1"]})
    await server.start()
    try:
        result = await probe_once(ctx, dns_target(server.address, "v6only.example"))
    finally:
        await server.stop()

    assert result.reason == "dns"
    assert result.message == "no A record for v6only.example"


async def test_silent_server_times_out_after_one_query(ctx, resolver):
    await resolver.set_mode("silent")

    result = await probe_once(ctx, dns_target(resolver.address, NAME), deadline=0.4)

    assert result.reason == "timeout"
    assert 0.4 <= result.duration < 1.0
    assert resolver.queries == 1  # no retries: one probe is one question


async def test_closed_resolver_port_is_refused(ctx, resolver):
    # ICMP port unreachable comes back at once; the probe must not wait for the timeout.
    await resolver.set_mode("down")

    result = await probe_once(ctx, dns_target(resolver.address, NAME), deadline=2.0)

    assert result.reason == "refused"
    assert result.duration < 1.0
