"""Issue 15: while the link is down and the center has answered, the status page says how many
offices see the same ("Dikonfirmasi: 312 dari 498 kantor mengalami hal yang sama"), and the
gauge the pages read (pantau_fleet_confirmation_offices) carries the same answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from monitor.calendar import ServiceCalendar
from monitor.config import Config
from monitor.fleet.confirm import Confirmation, current
from monitor.metrics import Metrics
from monitor.status.board import Live, Week, build_view
from monitor.status.web import words_of
from tests.fixtures.report.ledger import FRIDAY, at, make_config

NOW, SINCE = at(27, "10:00"), at(27, "09:41")
CONFIRMED = Confirmation("datacenter", "confirmed", 312, 498, NOW)
ALONE = Confirmation("isp", "only_this_office", 1, 40, NOW)
SILENT = Confirmation("datacenter", "unconfirmed", None, None, NOW, "timeout")

pytestmark = pytest.mark.fleet


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_config(tmp_path)


def _lines(config: Config, live: Live, language: str = "id") -> list[str]:
    calendar = ServiceCalendar(config.service_hours, config.office.zone)
    view: dict[str, Any] = build_view(
        live, Week(FRIDAY, 0.0, ()), config, calendar, words_of(language), NOW
    )
    return view["lines"]


def test_the_page_says_how_many_offices_see_the_same(config: Config) -> None:
    down = _lines(config, Live("down", "datacenter", SINCE, True, fleet=CONFIRMED.as_dict()))
    assert "Dikonfirmasi: 312 dari 498 kantor mengalami hal yang sama" in down
    assert down.index("Dikonfirmasi: 312 dari 498 kantor mengalami hal yang sama") == 1
    alone = _lines(config, Live("down", "isp", SINCE, True, fleet=ALONE.as_dict()))
    assert "Hanya kantor ini" in alone
    silent = _lines(config, Live("down", "datacenter", SINCE, True, fleet=SILENT.as_dict()))
    assert "Belum dikonfirmasi oleh kantor lain" in silent
    english = _lines(
        config, Live("down", "datacenter", SINCE, True, fleet=CONFIRMED.as_dict()), "en"
    )
    assert "Confirmed: 312 of 498 offices see the same" in english


def test_no_answer_or_an_answer_about_another_verdict_adds_nothing(config: Config) -> None:
    plain = _lines(config, Live("down", "datacenter", SINCE, True))
    # An answer about the ISP while the page blames the data center is not shown.
    other = _lines(config, Live("down", "datacenter", SINCE, True, fleet=ALONE.as_dict()))
    assert other == plain
    no_isp = Confirmation("isp", "unconfirmed", None, None, NOW, "no_isp")
    assert _lines(config, Live("down", "isp", SINCE, True, fleet=no_isp.as_dict())) == _lines(
        config, Live("down", "isp", SINCE, True)
    )
    up = _lines(config, Live("up", None, None, True, fleet=CONFIRMED.as_dict()))
    assert not [line for line in up if "kantor mengalami" in line or "Hanya" in line]


def test_only_an_answer_about_the_verdict_shown_is_current() -> None:
    assert current(CONFIRMED, "down", "datacenter") is CONFIRMED
    assert current(CONFIRMED, "down", "isp") is None
    assert current(CONFIRMED, "up", None) is None
    assert current(None, "down", "datacenter") is None


def test_the_gauge_follows_the_answer_shown() -> None:
    registry = CollectorRegistry()
    metrics = Metrics(registry)

    def series() -> dict[tuple[str, str], float]:
        text = generate_latest(registry).decode()
        out = {}
        for line in text.splitlines():
            if line.startswith("pantau_fleet_confirmation_offices{"):
                labels, value = line.rsplit(" ", 1)
                domain = labels.split('domain="')[1].split('"')[0]
                scope = labels.split('scope="')[1].split('"')[0]
                out[domain, scope] = float(value)
        return out

    assert series() == {}  # no answer yet: absent, so the pages add no line
    metrics.set_fleet_confirmation(CONFIRMED.domain, CONFIRMED.offices, CONFIRMED.of)
    assert series() == {("datacenter", "same"): 312, ("datacenter", "fresh"): 498}
    metrics.set_fleet_confirmation(
        ALONE.domain, ALONE.offices, ALONE.of
    )  # the verdict moved to the ISP
    assert series() == {("isp", "same"): 1, ("isp", "fresh"): 40}
    metrics.set_fleet_confirmation(
        SILENT.domain, SILENT.offices, SILENT.of
    )  # the center could not count: nothing to claim
    assert series() == {}
    metrics.set_fleet_confirmation(CONFIRMED.domain, CONFIRMED.offices, CONFIRMED.of)
    metrics.set_fleet_confirmation(None)  # the link is up again
    assert series() == {}
