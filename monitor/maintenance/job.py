"""The daemon's side of maintenance: `pantau_maintenance_active`, and the central file's refresh."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from monitor.calendar.accounting import Account, LedgerReader, account_days, day_bounds, local_day
from monitor.maintenance.central import CentralStore, refresh, schedules
from monitor.maintenance.facts import facts_for
from monitor.maintenance.plan import Planned, active, windows_between

if TYPE_CHECKING:
    import aiohttp

    from monitor.calendar import ServiceCalendar
    from monitor.config import Config
    from monitor.metrics import Metrics

log = logging.getLogger("pantau.maintenance")


class MaintenanceWatch:
    """Knows the window open now; `tick` sets the gauge, `refresh` fetches the central file."""

    def __init__(
        self,
        config: Config,
        metrics: Metrics,
        ledger: LedgerReader | None = None,
        calendar: ServiceCalendar | None = None,
    ) -> None:
        self.config = config
        self.metrics = metrics
        self.ledger = ledger
        self.calendar = calendar
        self.store = CentralStore(config.storage.path, config.office.office_id)
        self._session: aiohttp.ClientSession | None = None
        self.current: Planned | None = None
        # The schedules in memory: the tick every 2 s reads no file; a refresh replaces them.
        self._schedules = schedules(config, self.store)

    def windows(self, start: float, end: float) -> list[Planned]:
        """Every window overlapping [start, end): the config's and the stored central ones."""
        return windows_between(self._schedules, self.config.office.zone, start, end)

    def tick(self, now: float) -> Planned | None:
        """The window open at `now`; exported as pantau_maintenance_active{announced_by}."""
        window = active(self.windows(now - 1, now + 1), now)
        if (window is None) != (self.current is None) or (
            window is not None and self.current is not None and window.name != self.current.name
        ):
            if window is None:
                log.info("maintenance window ended")
            else:
                log.info("maintenance window open: %s (announced by %s)", window.name,
                         window.announced_by)  # fmt: skip
        self.current = window
        for who in ("center", "isp", "office"):
            is_open = window is not None and window.announced_by == who
            self.metrics.set_maintenance_active(who, is_open)
        return window

    def totals(self, now: float) -> Account | None:
        """This month's account (today is its last day), exported for the dashboard."""
        if self.ledger is None or self.calendar is None:
            return None
        zone = self.config.office.zone
        today = local_day(now, zone)
        first = today.replace(day=1)
        start, end = day_bounds(first, today, zone)
        path = getattr(self.ledger, "path", self.config.storage.path)
        facts = facts_for(self.ledger, path, self.config, start, end, now)
        month = account_days(facts, self.calendar, zone, first, today, now)
        for period, account in (("today", month.days[-1]), ("month", month)):
            self.metrics.set_ledger_planned(
                period, round(account.planned_seconds, 3), round(account.degraded_seconds, 3)
            )
        return month

    async def refresh(self, now: float) -> None:
        """Fetch the central schedule once (never raises: a bad file is logged and ignored)."""
        if self.config.maintenance.url is None:
            return
        if self._session is None:
            # Imported here, not at the top: only an office with maintenance.url fetches, and
            # aiohttp (with yarl, multidict, ...) is ~10 MB of RSS the daemon would hold for ever.
            import aiohttp

            self._session = aiohttp.ClientSession()
        await refresh(self._session, self.config.maintenance, self.store, now)
        self._schedules = schedules(self.config, self.store)
        self.tick(now)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        self.store.close()
