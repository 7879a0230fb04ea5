"""Renders a report model through the Jinja2 templates in monitor/templates/ (text and HTML).

Sentences live in `report_words.<language>.txt`; the layout templates are shared by both
languages. HTML templates autoescape, so a ledger value like a target named `<script>` is text.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from monitor.report.locale import Formatter, Language
from monitor.report.model import DailyReport, Ticket

HTML_PREFIX = "html:"
"""Loads a shared (text) template compiled with escaping on, e.g. the macros for HTML.

A macro compiled without autoescape returns Markup when called from an HTML template, which
would pass ledger values through unescaped; the same source compiled under this prefix escapes.
"""


class _Loader(PackageLoader):
    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str, Callable[[], bool] | None]:
        return super().get_source(environment, template.removeprefix(HTML_PREFIX))


def _autoescape(name: str | None) -> bool:
    return name is not None and (name.endswith(".html") or name.startswith(HTML_PREFIX))


@lru_cache(maxsize=2)
def environment(language: Language) -> Environment:
    """One environment per language: the filters format numbers and dates its way."""
    env = Environment(
        loader=_Loader("monitor", "templates"),
        autoescape=_autoescape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(Formatter(language).filters())
    env.globals["language"] = language
    return env


def _render(name: str, language: Language, **values: Any) -> str:
    return environment(language).get_template(name).render(language=language, **values)


def render_ticket(report: DailyReport, ticket: Ticket, language: Language) -> str:
    """The ready-to-paste escalation text (plain text; HTML shows it escaped in a <pre>)."""
    return _render("report_ticket.txt", language, r=report, t=ticket).strip() + "\n"


def _ticket_fn(report: DailyReport, language: Language) -> Callable[[Ticket], str]:
    return lambda ticket: render_ticket(report, ticket, language).rstrip("\n")


def render_subject(report: DailyReport, language: Language) -> str:
    """One line, for the mail's Subject."""
    return " ".join(_render("report_subject.txt", language, r=report).split())


def render_text(report: DailyReport, language: Language) -> str:
    """The plain-text part (and what `pantau report daily` prints)."""
    text = _render("report_daily.txt", language, r=report, ticket_text=_ticket_fn(report, language))
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines()) + "\n"


def render_html(report: DailyReport, language: Language, chart_cid: str | None = None) -> str:
    """The HTML part; `chart_cid` names the inline PNG (omit it for no picture)."""
    return _render(
        "report_daily.html",
        language,
        r=report,
        chart_cid=chart_cid,
        ticket_text=_ticket_fn(report, language),
    )
