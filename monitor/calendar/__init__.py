"""The office's service calendar: when the counters are open, in the office's time zone."""

from monitor.calendar.config import HolidaysConfig, Hours, OpenDay, Period, ServiceHoursConfig
from monitor.calendar.render import render_calendar
from monitor.calendar.service import ServiceCalendar, ServiceDay

__all__ = [
    "HolidaysConfig",
    "Hours",
    "OpenDay",
    "Period",
    "ServiceCalendar",
    "ServiceDay",
    "ServiceHoursConfig",
    "render_calendar",
]
