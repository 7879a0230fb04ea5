"""Issue 15: the fleet's confirmation of a verdict beside the incident's fault domain in the
daily e-mail (text and HTML) and the escalation ticket; an outage the center was never asked
about renders exactly as before."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from monitor.calendar import ServiceCalendar
from monitor.ledger import Ledger
from monitor.report.model import DailyReport, build_report, collect
from monitor.report.render import render_html, render_text, render_ticket
from tests.fixtures.report.ledger import FRIDAY, at, evidence, fill, make_config, outage

pytestmark = pytest.mark.fleet


def _fleet(domain: str, state: str, offices: int | None, of: int | None) -> dict:
    return {"domain": domain, "state": state, "offices": offices, "of": of,
            "asked_at": at(27, "09:01"), "why": None if offices else "timeout"}  # fmt: skip


def _with_fleet(ledger: Ledger) -> None:
    central = evidence("dc-siak", **{"dc-siak": ("datacenter", "timeout", 9)})
    central["fleet"] = _fleet("datacenter", "confirmed", 312, 498)
    outage(ledger, "outage", at(27, "09:00"), at(27, "09:20"),
           [(at(27, "09:00"), "datacenter")], central)  # fmt: skip
    alone = evidence("isp-gw", **{"isp-gw": ("isp", "timeout", 5)})
    alone["fleet"] = _fleet("isp", "only_this_office", 1, 40)
    outage(ledger, "outage", at(27, "10:00"), at(27, "10:05"), [(at(27, "10:00"), "isp")], alone)
    silent = evidence("dc-siak", **{"dc-siak": ("datacenter", "refused", 3)})
    silent["fleet"] = _fleet("datacenter", "unconfirmed", None, None)
    outage(ledger, "outage", at(27, "10:30"), at(27, "10:33"),
           [(at(27, "10:30"), "datacenter")], silent)  # fmt: skip


def _report(tmp_path: Path) -> DailyReport:
    config = make_config(tmp_path)
    calendar = ServiceCalendar(config.service_hours, config.office.zone)
    ledger = Ledger(config.storage.path, config.office.office_id)
    try:
        fill(ledger)
        _with_fleet(ledger)
        data = collect(ledger, calendar, config, FRIDAY)
    finally:
        ledger.close()
    return build_report(data, calendar, config, FRIDAY, at(27, "23:00"))


def _everything(r: DailyReport, language: str) -> str:
    tickets = [render_ticket(r, t, language) for t in r.tickets]  # type: ignore[arg-type]
    return "\n".join([render_text(r, language), render_html(r, language, "c"), *tickets])  # type: ignore[arg-type]


def _without_fleet(r: DailyReport) -> DailyReport:
    def strip(incidents: tuple) -> tuple:  # type: ignore[type-arg]
        return tuple(dataclasses.replace(i, fleet=None) for i in incidents)

    tickets = [dataclasses.replace(t, incidents=strip(t.incidents)) for t in r.tickets]
    return dataclasses.replace(r, incidents=strip(r.incidents), tickets=tickets)


def test_the_incident_carries_the_centers_answer(tmp_path: Path) -> None:
    r = _report(tmp_path)
    by_hour = {(i.start.hour, i.start.minute): i.fleet for i in r.incidents}
    assert by_hour[(9, 0)] is not None and by_hour[(9, 0)]["offices"] == 312
    assert by_hour[(10, 0)] is not None and by_hour[(10, 0)]["state"] == "only_this_office"
    assert by_hour[(7, 0)] is None  # asked never: no `fleet` in its evidence


def test_report_and_ticket_show_the_confirmation_beside_the_verdict(tmp_path: Path) -> None:
    r = _report(tmp_path)
    text = render_text(r, "id")  # type: ignore[arg-type]
    assert "Sumber masalah: pusat data (dikonfirmasi: 312 dari 498 kantor)" in text, text
    assert "(hanya kantor ini)" in text and "(belum dikonfirmasi)" in text
    html = render_html(r, "id", "c")  # type: ignore[arg-type]
    assert "(dikonfirmasi: 312 dari 498 kantor)" in html and "(hanya kantor ini)" in html
    isp, dc = r.tickets
    assert "(dikonfirmasi: 312 dari 498 kantor)" in render_ticket(r, dc, "id")  # type: ignore[arg-type]
    assert "(hanya kantor ini)" in render_ticket(r, isp, "id")  # type: ignore[arg-type]
    english = _everything(r, "en")
    assert "(confirmed: 312 of 498 offices)" in english and "(only this office)" in english
    assert "(not confirmed)" in english


def test_without_a_fleet_answer_nothing_new_is_shown(tmp_path: Path) -> None:
    r = _report(tmp_path)
    bare = _without_fleet(r)
    for language in ("id", "en"):
        with_fleet, without = _everything(r, language), _everything(bare, language)
        for word in ("dikonfirmasi", "hanya kantor ini", "confirmed", "only this office"):
            assert word not in without.lower(), (language, word)
        # Only the confirmations differ: the rest of every line is the same.
        plain = with_fleet
        for phrase in ("(dikonfirmasi: 312 dari 498 kantor)", "(hanya kantor ini)",
                       "(belum dikonfirmasi)", "(confirmed: 312 of 498 offices)",
                       "(only this office)", "(not confirmed)"):  # fmt: skip
            plain = plain.replace(" " + phrase, "")
        extra = set(plain.splitlines()) - set(without.splitlines())
        # The ticket gives the confirmation a line of its own (its verdict is in the line above).
        label = "Sumber masalah" if language == "id" else "Fault domain"
        assert {line.split(":")[0] for line in extra} <= {f"   {label}"}, extra
