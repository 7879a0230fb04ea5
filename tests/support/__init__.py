"""Shared test helpers, imported explicitly (`from tests.support.tools import require_tool`).

tools: the one skip-here-fail-under-CI rule, external programs. wait: the one bounded poll.
daemon: the real daemon in-process on the simulated network. probing: targets and one probe.
factories: probe results as timelines. prometheus / alertmanager: the real servers by PID.
webtls: certificates and clients. metrics_reference: the exporter as it was before the store.
process: the daemon as a process by PID. report: the report tests' steps. words: the word lists.
grafana: the dashboard generator. Data files stay in tests/fixtures/.
`tests/conftest.py` holds pytest fixtures and hooks only; no test imports it.
"""
