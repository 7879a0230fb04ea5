"""The report outbox never stalls the event loop: another process holds the ledger's write lock
while the daily mail is queued; the loop keeps running, and the mail goes out once, after."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from monitor.calendar import ServiceCalendar
from monitor.ledger import Ledger
from monitor.report.job import ReportJob
from tests.fixtures.report.smtp import free_port, smtp_server
from tests.test_report_rejected import NOW, prepared, status
from tests.test_storage_faults import hold_write_lock


async def test_a_write_lock_held_elsewhere_does_not_stall_the_loop(tmp_path: Path) -> None:
    port = free_port()
    config = prepared(tmp_path, port)
    ticks: list[float] = []

    async def ticker() -> None:
        for _ in range(400):  # bounded: 20 s at most
            ticks.append(time.time())
            await asyncio.sleep(0.05)

    # Built before the lock is taken, as the daemon builds it at start-up.
    ledger = Ledger(config.storage.path, config.office.office_id)
    calendar = ServiceCalendar(config.service_hours, config.office.zone)
    job = ReportJob(config, ledger, calendar, catch_up_days=0)
    with smtp_server(port) as inbox:
        holder = hold_write_lock(Path(config.storage.path), 3.0)
        try:
            assert holder.stdout is not None
            held_from = float(await asyncio.to_thread(holder.stdout.readline))
            ticking = asyncio.create_task(ticker())
            await job.run_due(NOW)
            held_to = float(await asyncio.to_thread(holder.stdout.readline))
            ticking.cancel()
            await asyncio.to_thread(holder.wait, 10)
        finally:
            if holder.poll() is None:
                holder.kill()
            assert holder.stdout is not None
            holder.stdout.close()
            job.close()
            ledger.close()
    assert len(inbox.mails) == 1 and [s for s, _ in status(config)] == ["sent"]
    # The queueing write waited for the lock in its own thread; the loop ran meanwhile.
    assert any(held_from + 2.0 < t < held_to for t in ticks), (held_from, held_to, ticks)
