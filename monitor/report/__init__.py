"""The daily summary e-mail to the head of office: model, templates, chart, outbox and job.

Import the submodule you need (`monitor.report.job`, `monitor.report.model`, ...); this package
file stays empty so `monitor.config` can import `monitor.report.config` without pulling in
Jinja2, matplotlib or aiosmtplib.
"""
