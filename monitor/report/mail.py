"""The report as a MIME message, and one sending round with backoff (stamina + aiosmtplib).

Layout: multipart/alternative [text/plain, multipart/related [text/html, image/png (cid)]].
The Message-ID is derived from office and day, so a resend after a crash carries the same id.
"""

from __future__ import annotations

import asyncio
import email.utils
import ssl
from datetime import date
from email.message import EmailMessage
from email.policy import SMTP

import aiosmtplib
import stamina

from monitor.report.config import ReportConfig, RetryConfig, SmtpConfig
from monitor.report.locale import Language
from monitor.report.model import DailyReport
from monitor.report.render import render_html, render_subject, render_text


def message_id(office_id: str, day: date, sender: str) -> str:
    """`<pantau-daily-2026-11-27-grobogan@dukcapil.example.go.id>`: one id per office and day."""
    domain = sender.rpartition("@")[2]
    return f"<pantau-daily-{day.isoformat()}-{office_id}@{domain}>"


def build_message(
    report: DailyReport, config: ReportConfig, chart_png: bytes | None
) -> EmailMessage:
    """The mail of one report: subject, both parts, the chart inline in the HTML part."""
    language: Language = config.language
    message = EmailMessage(policy=SMTP)
    message["Subject"] = render_subject(report, language)
    message["From"] = config.from_
    message["To"] = ", ".join(config.to)
    if config.cc:
        message["Cc"] = ", ".join(config.cc)
    message["Date"] = email.utils.format_datetime(report.generated_at)
    message["Message-ID"] = message_id(report.office_id, report.day, config.from_)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to a robot
    message.set_content(render_text(report, language))
    cid = f"chart-{report.day.isoformat()}-{report.office_id}@pantau" if chart_png else None
    message.add_alternative(render_html(report, language, cid), subtype="html")
    if chart_png is not None and cid is not None:
        html_part = message.get_payload()[1]  # type: ignore[index]
        assert isinstance(html_part, EmailMessage)
        html_part.add_related(
            chart_png,
            maintype="image",
            subtype="png",
            cid=f"<{cid}>",
            disposition="inline",  # a picture in the body, referenced by cid:, not a file
            filename="pantau.png",
        )
    return message


def recipients(config: ReportConfig) -> list[str]:
    return [*config.to, *config.cc]


def _transient(exc: Exception) -> bool:
    """Retry what may pass later (connection trouble, 4xx); a 5xx answer will not change."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return all(400 <= r.code < 500 for r in exc.recipients)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return 400 <= exc.code < 500
    return isinstance(exc, aiosmtplib.SMTPException | OSError | asyncio.TimeoutError)


def rejected(exc: BaseException) -> bool:
    """The server answered 5xx: the mail as it is will never be accepted (RFC 5321 4.2.1)."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return bool(exc.recipients) and all(500 <= r.code < 600 for r in exc.recipients)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return 500 <= exc.code < 600
    return False


def _tls_context(smtp: SmtpConfig) -> ssl.SSLContext | None:
    if smtp.security == "none":
        return None
    cafile = str(smtp.ca_file) if smtp.ca_file else None
    return ssl.create_default_context(cafile=cafile)


async def send_once(
    data: bytes, sender: str, to: list[str], smtp: SmtpConfig, password: str | None
) -> None:
    """One SMTP transaction; returns only when the server accepted the message."""
    await aiosmtplib.send(
        data,
        sender=sender,
        recipients=to,
        hostname=smtp.host,
        port=smtp.effective_port,
        username=smtp.username,
        password=password,
        use_tls=smtp.security == "tls",
        start_tls=smtp.security == "starttls",
        tls_context=_tls_context(smtp),
        timeout=smtp.timeout,
    )


async def send_with_retries(
    data: bytes,
    sender: str,
    to: list[str],
    smtp: SmtpConfig,
    password: str | None,
    retry: RetryConfig,
) -> None:
    """One sending round: exponential backoff with jitter until accepted, or the round's limit."""
    async for attempt in stamina.retry_context(
        on=_transient,
        attempts=retry.attempts,
        timeout=retry.timeout,
        wait_initial=retry.wait_initial,
        wait_max=retry.wait_max,
        wait_jitter=min(1.0, retry.wait_initial),
    ):
        with attempt:
            await send_once(data, sender, to, smtp, password)
