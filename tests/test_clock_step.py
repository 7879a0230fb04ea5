"""The running daemon follows a wall-clock step within one flush interval, and says so."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from monitor.clock import Clock
from monitor.config import parse_config
from monitor.daemon import Daemon
from monitor.sim import SimNetwork
from tests.daemon_helpers import fast_config, wait_until


async def test_an_ntp_step_is_noticed_logged_and_followed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    step = [0.0]
    clock = Clock(wall_source=lambda: time.time() + step[0])  # the machine's clock is not ours
    caplog.set_level(logging.WARNING, "pantau")
    async with SimNetwork(icmp=False) as net:
        config = parse_config(fast_config(net, storage={"path": str(tmp_path / "l.db")}))
        async with Daemon(config, clock=clock) as daemon:
            steps = lambda: daemon.metrics.registry.get_sample_value("pantau_clock_steps_total")  # noqa: E731
            before = clock.wall()
            step[0] = 3600.0  # NTP steps the system clock an hour ahead
            assert clock.wall() - before < 60  # not yet followed
            await wait_until(lambda: steps() == 1.0, what="the step to be noticed")
            assert clock.wall() - time.time() == pytest.approx(3600.0, abs=1.0)
    (line,) = [r.getMessage() for r in caplog.records if "stepped" in r.getMessage()]
    assert "+3600" in line and "re-anchored" in line
