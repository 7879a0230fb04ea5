"""What accounting reads for an office and a span: the ledger's rows, the maintenance windows
and the degraded ("up on backup") spans. Every view reads its facts through `facts_for`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from monitor.calendar.accounting import Facts, LedgerReader, Span, read_facts
from monitor.maintenance.central import planned_between, spans
from monitor.uplinks.ledger import Degraded, DegradedLedger

if TYPE_CHECKING:
    from monitor.config import Config


def degraded_spans(
    config: Config, path: str | Path, start: float, end: float, now: float
) -> list[Span]:
    """(start, end, uplink) of every degraded row overlapping [start, end)."""
    if not config.uplinks or str(path) == ":memory:" or not Path(path).exists():
        return []
    ledger = DegradedLedger(path, config.office.office_id, create=False)
    try:
        return [row.span(now) for row in ledger.rows(start, end)]
    finally:
        ledger.close()


def degraded_rows(config: Config, path: str | Path, start: float, end: float) -> list[Degraded]:
    """The degraded ("up on backup") rows overlapping [start, end), for the outage list."""
    if not config.uplinks or str(path) == ":memory:" or not Path(path).exists():
        return []
    ledger = DegradedLedger(path, config.office.office_id, create=False)
    try:
        return ledger.rows(start, end)
    finally:
        ledger.close()


def facts_for(
    ledger: LedgerReader, path: str | Path, config: Config, start: float, end: float, now: float
) -> Facts:
    """`read_facts` with the windows and degraded spans overlapping [start, end)."""
    return read_facts(
        ledger,
        start,
        end,
        spans(planned_between(config, path, start, end)),
        degraded_spans(config, path, start, end, now),
    )
