"""The code's shape is enforced: the import layers (import-linter) and where test helpers live."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.tools import REPO, require_tool

TESTS = Path(__file__).resolve().parent
RULE = TESTS / "support" / "tools.py"


def test_no_test_imports_conftest_and_one_ci_rule() -> None:
    """Helpers live in tests/support/, not in conftest or a test module; "skip here, fail under
    CI" is written once (tools.py)."""
    offenders = []
    for path in sorted(TESTS.rglob("*.py")):
        text = path.read_text()
        if re.search(r"^\s*(from|import)\s+(tests\.)?conftest\b", text, re.M):
            offenders.append(f"{path.relative_to(TESTS)} imports conftest")
        if re.search(r"^\s*(from|import)\s+tests\.(\w+\.)*test_\w+", text, re.M):
            offenders.append(f"{path.relative_to(TESTS)} imports a test module (use tests/support)")
        if path != RULE and re.search(r"""environ(\.get\(|\[)["']CI["']""", text):
            offenders.append(f"{path.relative_to(TESTS)} reads CI itself (use skip_or_fail)")
    assert offenders == []


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` (import-linter, test extras) on the package under `root`."""
    require_tool("lint-imports", "pip install -e '.[test]'")
    return subprocess.run(
        ["lint-imports", "--no-cache", str(root / "pyproject.toml")],
        cwd=root, env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_the_import_contracts_hold() -> None:
    done = _lint_imports(REPO)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        # A probe result reaching up to the tracker: an upward import.
        ("monitor/probes/result.py", "import monitor.tracker", "is layered"),
        # A cycle as issue 17 found one, through the probes' context, hidden in a lazy import:
        # context -> tcp -> context.
        (
            "monitor/probes/context.py",
            "def _f():\n    import monitor.probes.tcp",
            "no import cycles",
        ),
        # A feature's config model importing the config that imports it.
        ("monitor/path/config.py", "import monitor.config", "config model"),
    ],
    ids=["upward", "cycle", "feature-config"],
)
def test_the_contracts_fail_on_a_new_cycle_or_upward_import(
    tmp_path: Path, module: str, line: str, broken: str
) -> None:
    shutil.copytree(REPO / "monitor", tmp_path / "monitor", ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    with (tmp_path / module).open("a") as f:
        f.write(f"\n\n{line}\n")
    done = _lint_imports(tmp_path)
    assert done.returncode != 0
    assert re.search(rf"{broken}.*\bBROKEN\b", " ".join((done.stdout).split())), done.stdout


# Modules that export gauges of their own facts through Metrics' families, one place each:
# the page facts (issue 11) and the ledger totals. Anything else names what happened.
METRIC_WRITERS = {"monitor/paging/facts.py", "monitor/paging/ledger_totals.py"}


def test_metrics_are_updated_only_through_metrics_methods() -> None:
    """`Metrics` owns every metric update: the tracker and the daemon call its methods."""
    raw = []
    for path in sorted((REPO / "monitor").rglob("*.py")):
        name = str(path.relative_to(REPO))
        if name in METRIC_WRITERS or path.name == "metrics.py":
            continue
        found = re.findall(
            r"metrics\.\w+\.(?:labels|set|inc|dec|observe|clear|remove)\(", path.read_text()
        )
        raw += [f"{name}: {call}" for call in found]
    assert raw == []


def test_every_path_the_architecture_page_names_exists() -> None:
    """docs/ARCHITECTURE.md is the newcomer's map: it must not send anyone to a missing file."""
    page = (REPO / "docs" / "ARCHITECTURE.md").read_text()
    named = set(re.findall(r"\b((?:monitor|tests|config|docs)/[\w/.{},-]*\w)", page))
    # The example of a new probe kind, and the {id,en} pair, are not single files.
    named -= {"monitor/probes/ssh.py", "tests/test_probes_ssh.py"}
    paths = {n.replace("{id,en}", "id") for n in named if "<" not in n}
    missing = sorted(p for p in paths if not (REPO / p).exists())
    assert missing == []
    assert len(paths) > 30
