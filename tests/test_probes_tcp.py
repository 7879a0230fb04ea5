"""TCP probe against a real asyncio listener on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from monitor.probes.context import ProbeContext
from monitor.sim import TcpPort
from tests.support.probing import probe_context, probe_once, tcp_target

pytestmark = pytest.mark.timeout(20)


@pytest.fixture
async def ctx() -> AsyncIterator[ProbeContext]:
    async with probe_context() as ctx:
        yield ctx


@pytest.fixture
async def port() -> AsyncIterator[TcpPort]:
    server = TcpPort("127.0.0.1", 0)
    await server.start()
    yield server
    await server.stop()


async def test_connect_succeeds_with_a_small_positive_latency(ctx, port):
    result = await probe_once(ctx, tcp_target(port.port))

    assert result.ok, result.message
    assert result.result_label == "success"
    assert 0 < result.latency < 0.1
    assert result.observation.phases["connect"] == result.latency
    assert result.latency <= result.duration
    assert port.accepted == 1


async def test_each_probe_opens_its_own_connection(ctx, port):
    for _ in range(3):
        assert (await probe_once(ctx, tcp_target(port.port))).ok

    assert port.accepted == 3


async def test_closed_port_is_refused(ctx, port):
    await port.set_mode("down")

    result = await probe_once(ctx, tcp_target(port.port))

    assert not result.ok
    assert result.reason == "refused"
    assert result.message == "connection refused"


async def test_black_hole_times_out(ctx, port):
    await port.set_mode("hang")

    result = await probe_once(ctx, tcp_target(port.port), deadline=0.3)

    assert result.reason == "timeout"
    assert 0.3 <= result.duration < 1.0
    assert "0.3s" in result.message


async def test_port_answers_again_after_a_fault(ctx, port):
    number = port.port
    await port.set_mode("down")
    await port.set_mode("ok")

    result = await probe_once(ctx, tcp_target(number))

    assert result.ok, result.message
    assert port.port == number
