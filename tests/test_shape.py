"""The code's shape is enforced: the import layers (import-linter) and where test helpers live."""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
RULE = TESTS / "support" / "tools.py"


def test_no_test_imports_conftest_and_one_ci_rule() -> None:
    """Helpers live in tests/support/; "skip here, fail under CI" is written once (tools.py)."""
    offenders = []
    for path in sorted(TESTS.rglob("*.py")):
        text = path.read_text()
        if re.search(r"^\s*(from|import)\s+(tests\.)?conftest\b", text, re.M):
            offenders.append(f"{path.relative_to(TESTS)} imports conftest")
        if path != RULE and re.search(r"""environ(\.get\(|\[)["']CI["']""", text):
            offenders.append(f"{path.relative_to(TESTS)} reads CI itself (use skip_or_fail)")
    assert offenders == []
