"""Pytest settings and hooks only; helpers live in tests/support/ and no test imports this file."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# Programs that pip installs beside the interpreter (hadolint, check-jsonschema, ruff) are found
# even when the virtual environment is not activated: `.venv/bin/python -m pytest`.
_BIN = str(Path(sys.executable).parent)
if _BIN not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _BIN + os.pathsep + os.environ.get("PATH", "")
