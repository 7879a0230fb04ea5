"""The `report:` config section. Imported by monitor.config, so it imports nothing of Pantau's
but monitor.durations and monitor.pem (no cycle, no heavy dependency)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from monitor.durations import Duration
from monitor.pem import check_ca_file
from monitor.vocabulary import Language

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
# Deliberately loose: the SMTP server is the judge; this only catches obvious typos.
_ADDRESS = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")
_DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True, populate_by_name=True)


def _check_address(value: str) -> str:
    if not _ADDRESS.match(value):
        raise ValueError(
            f"must be an e-mail address such as kepala@dukcapil.example.go.id; got {value!r}"
        )
    return value


class MissingSecret(Exception):
    """The environment variable named by `password_env` is not set."""

    def __init__(self, variable: str) -> None:
        self.variable = variable
        super().__init__(
            f"report.smtp.password_env: the environment variable {variable} is not set; "
            f"export {variable}=... (the SMTP password) before starting Pantau"
        )


class SmtpConfig(_Model):
    """Where the mail goes out. The password never sits in the file: `password_env` names it."""

    host: str = Field(min_length=1)
    port: int | None = Field(None, ge=1, le=65535)
    """Default by security: 587 (starttls), 465 (tls), 25 (none)."""
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password_env: str | None = None
    ca_file: Path | None = None
    """Extra CA bundle to trust (a private mail relay); system CAs otherwise."""
    timeout: Duration = 30.0

    _ca_file = field_validator("ca_file")(classmethod(lambda cls, v: check_ca_file(v)))

    @field_validator("password_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
            raise ValueError(
                "must be the NAME of an environment variable (e.g. PANTAU_SMTP_PASSWORD), "
                "not the password itself; got a value that is not a variable name"
            )
        return value

    @model_validator(mode="after")
    def _login_pair(self) -> SmtpConfig:
        if (self.username is None) != (self.password_env is None):
            raise ValueError(
                "username and password_env go together: set both to log in, or neither"
            )
        return self

    @property
    def effective_port(self) -> int:
        return self.port or _DEFAULT_PORTS[self.security]

    def password(self, environ: Mapping[str, str] | None = None) -> str | None:
        """The password from the environment; MissingSecret names the variable when unset."""
        if self.password_env is None:
            return None
        value = (os.environ if environ is None else environ).get(self.password_env)
        if value is None:
            raise MissingSecret(self.password_env)
        return value


class RetryConfig(_Model):
    """Backoff for one sending round (stamina), and the pause before the next round."""

    attempts: int = Field(8, ge=1, le=100)
    wait_initial: Duration = 2.0
    wait_max: Duration = 60.0
    timeout: Duration = 300.0
    """A round gives up after this long; the outbox keeps the mail for the next round."""
    pause: Duration = 300.0
    """Wait between rounds while the office's link or the mail server stays down."""


class Escalation(_Model):
    """Names the tickets use; everything else comes from the ledger."""

    isp: str = "ISP"
    circuit: str | None = None
    """The ISP's circuit / service id of the office's line, pasted into the ticket."""
    helpdesk: str = "Helpdesk Ditjen Dukcapil Kemendagri"


class ReportConfig(_Model):
    """The `report:` section: who gets the daily summary, when, in which language, and how."""

    to: list[str] = Field(min_length=1)
    cc: list[str] = Field(default_factory=list)
    from_: str = Field(alias="from")
    send_at: str | None = None
    """Local hh:mm; default 30 minutes after the day's service closes (17:00 on closed days)."""
    language: Language = "id"
    smtp: SmtpConfig
    retry: RetryConfig = Field(default_factory=lambda: RetryConfig.model_validate({}))
    escalation: Escalation = Field(default_factory=lambda: Escalation.model_validate({}))

    _to = field_validator("to", "cc")(classmethod(lambda cls, v: [_check_address(a) for a in v]))
    _from = field_validator("from_")(classmethod(lambda cls, v: _check_address(v)))

    @field_validator("send_at")
    @classmethod
    def _hhmm(cls, value: str | None) -> str | None:
        if value is not None and not _HHMM.match(value):
            raise ValueError(f"must be hh:mm, between 00:00 and 23:59 (e.g. 16:45); got {value!r}")
        return value

    @property
    def send_minutes(self) -> int | None:
        """send_at as minutes after local midnight, None for the default."""
        if self.send_at is None:
            return None
        hours, minutes = self.send_at.split(":")
        return int(hours) * 60 + int(minutes)
