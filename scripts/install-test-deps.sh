#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian 12 machine (run as root):
# the real programs the tests drive, and the Python package with its test extras in ./.venv
# (scripts/install.sh). Then: .venv/bin/python -m pytest
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # prometheus (with promtool), prometheus-alertmanager (with amtool): rules, scrape and
  # paging tests; iproute2 + nftables: the network-namespace lab; iputils-ping: ICMP checks;
  # systemd: systemd-analyze verifies the shipped unit file; prometheus-blackbox-exporter and
  # util-linux (taskset): the benchmark's smoke test; chromium + chromium-driver: the status
  # page driven in a real browser; victoria-metrics (victoria-metrics, vmagent, vmalert): the
  # national view's configs, rules and fleet simulation (issue 15).
  apt-get install -y -qq --no-install-recommends \
    prometheus prometheus-alertmanager iproute2 nftables iputils-ping systemd \
    prometheus-blackbox-exporter util-linux chromium chromium-driver python3-venv victoria-metrics >/dev/null
fi
bash scripts/install.sh --test
