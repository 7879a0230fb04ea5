"""ICMP probe: a burst of echoes to 127.0.0.1 (needs root or ping_group_range)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from monitor.probes.context import ProbeContext
from tests.support.probing import icmp_target, probe_context, probe_once, require_icmp

pytestmark = pytest.mark.timeout(20)


@pytest.fixture
async def ctx() -> AsyncIterator[ProbeContext]:
    async with probe_context() as ctx:
        yield ctx


async def test_loopback_answers_every_echo(ctx):
    require_icmp()

    result = await probe_once(ctx, icmp_target(count=3, spacing="50ms"), deadline=1.0)

    assert result.ok, result.message
    assert result.message == "3/3 replies"
    obs = result.observation
    assert obs.loss_ratio == 0
    assert set(obs.rtt) == {"min", "avg", "max", "jitter"}
    assert 0 < obs.rtt["min"] <= obs.rtt["avg"] <= obs.rtt["max"] < 0.1
    assert obs.rtt["jitter"] >= 0
    assert result.latency == obs.rtt["avg"]
    assert obs.echo_id is not None and 0 <= obs.echo_id <= 0xFFFF  # for the bench's trace
    # Three echoes 50 ms apart: the burst takes at least the two gaps.
    assert result.duration >= 0.1


async def test_without_icmp_privileges_fails_with_permission(ctx):
    ctx.icmp_privileged = None  # what ProbeContext finds on a host that allows neither mode

    result = await probe_once(ctx, icmp_target(count=1))

    assert result.reason == "permission"
    assert "CAP_NET_RAW" in result.message
    assert "ping_group_range" in result.message
