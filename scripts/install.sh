#!/usr/bin/env bash
# Installs Pantau into a virtual environment, ./.venv, so that it works on a stock Debian 12
# Python (PEP 668 forbids `pip install` into the system's Python) as well as on any other.
#   bash scripts/install.sh          the package: then run .venv/bin/pantau
#   bash scripts/install.sh --test   the package, editable, with its test extras
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--test" ]; then
  spec=(-e '.[test]')
else
  spec=(.)
fi
if [ ! -x .venv/bin/python ]; then
  if ! python3 -m venv .venv 2>/dev/null; then
    # Debian's python3 ships without ensurepip; python3-venv brings it.
    rm -rf .venv
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv \
        >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends python3-venv >/dev/null; }
      python3 -m venv .venv
    else
      echo "python3 cannot create a virtual environment: run 'sudo apt-get install python3-venv'" >&2
      exit 1
    fi
  fi
fi
.venv/bin/python -m pip install -q --disable-pip-version-check "${spec[@]}"
