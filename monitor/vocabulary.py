"""Pantau's fixed sets, written once: roles, domains, probe kinds, states, outcomes, reasons.

Config validates against them, the verdict and the metrics speak them (they become bounded
Prometheus labels), the report and the docs list them. Each is a `Literal` for the type checker
and a tuple, in display order, for code that iterates (plain strings: labels, columns, keys);
the two are the same set.
"""

from __future__ import annotations

from typing import Literal, get_args

# Whose network a target (or a traced hop) sits on, from the office outwards.
Role = Literal["local", "isp", "internet", "datacenter"]
ROLES: tuple[Role, ...] = get_args(Role)

# Where the link verdict puts the blame: the first failing hop on the path (monitor/verdict.py).
Domain = Literal["local", "isp", "datacenter", "dns", "unknown"]
DOMAINS: tuple[str, ...] = get_args(Domain)

# Probe kinds: each one a module of that name in monitor/probes/ and a config model (`kind:`).
Kind = Literal["http", "tcp", "icmp", "dns"]
KINDS: tuple[str, ...] = get_args(Kind)

# One target's confirmed state (monitor/state.py), and the link's (monitor/verdict.py).
State = Literal["unknown", "up", "slow", "down"]
TARGET_STATES: tuple[str, ...] = ("up", "slow", "down", "unknown")  # metric order
LinkState = State
LINK_STATES: tuple[str, ...] = ("up", "slow", "down")  # the link's exported states
UPLINK_STATES: tuple[str, ...] = ("up", "down", "unknown")  # one uplink's (issue 16)

# One probe result, graded against the thresholds, before any confirmation.
Grade = Literal["ok", "slow", "fail"]

# The fixed set of failure reasons. They become the `result` label of pantau_probes_total, so the
# set stays small; the readable detail goes into `message` (logs, /api/status), never a label.
Reason = Literal[
    "timeout",  # no answer within the target's timeout
    "refused",  # TCP reset on connect, or ICMP port unreachable for DNS
    "unreachable",  # no route, host/network unreachable (ICMP), link down
    "reset",  # connection dropped by the peer after it was established
    "dns",  # a name did not resolve: NXDOMAIN, SERVFAIL, no answer
    "tls",  # handshake failed, certificate invalid, expired or for another name
    "http_status",  # an HTTP status outside expect_status
    "body_mismatch",  # body_regex did not match
    "answer_mismatch",  # DNS answer not in expect
    "loss",  # every ICMP echo in the burst was lost
    "permission",  # the OS refused (ICMP without root or ping_group_range)
    "error",  # anything else the network did; the message says what
    "internal",  # a bug in Pantau itself (issue 12): logged, counted, never evidence against a hop
]
REASONS: tuple[str, ...] = get_args(Reason)

# The languages of everything a person reads (report, status page, calendar, pages).
Language = Literal["id", "en"]
LANGUAGES: tuple[Language, ...] = get_args(Language)
