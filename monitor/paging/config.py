"""The `pages:` section: in which language pages are written and where their link points."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, field_validator

from monitor.vocabulary import Language

_EXAMPLE = "https://grafana.dukcapil.example.go.id/d/pantau-link/pantau"


class PagesConfig(BaseModel):
    """Read by the alert rules through `pantau_page_info` (one series per office)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    language: Language = "id"
    dashboard_url: str | None = None
    """The Grafana dashboard as IT staff open it from a phone; the page adds `var-office`."""

    @field_validator("dashboard_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or " " in value:
            raise ValueError(f"must be an http(s) URL, e.g. {_EXAMPLE}; got {value!r}")
        if parts.query or parts.fragment:
            raise ValueError(
                f"write it without '?' or '#' (the page adds ?var-office=...), e.g. {_EXAMPLE}"
            )
        if parts.hostname in ("localhost", "127.0.0.1", "::1"):
            raise ValueError(
                "must be an address IT staff can open from their phone, not the monitor box "
                f"itself, e.g. {_EXAMPLE}; got {value!r}"
            )
        return value
