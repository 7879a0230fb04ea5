"""Probe libraries load only for the kinds a config uses: memory a daemon never needs stays out."""

from __future__ import annotations

import subprocess
import sys
import typing

from monitor.config import Target
from monitor.probes import KINDS


def test_every_target_kind_has_a_probe_module():
    union = typing.get_args(typing.get_args(Target)[0])
    kinds = {typing.get_args(cls.model_fields["kind"].annotation)[0] for cls in union}
    assert kinds == set(KINDS)


def _modules_after(code: str) -> set[str]:
    script = f"import sys\n{code}\nprint(' '.join(sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    return set(out.stdout.split())


def test_the_daemon_imports_no_protocol_library_before_it_knows_the_kinds():
    loaded = _modules_after("import monitor.daemon")
    assert "dns" not in loaded  # dnspython
    assert "cryptography" not in loaded  # only for https certificate expiry


def test_loading_a_kind_imports_its_module_and_only_that():
    loaded = _modules_after("from monitor import probes\nprobes.load({'dns', 'tcp'})")
    assert {"monitor.probes.dns", "monitor.probes.tcp", "dns.asyncquery"} <= loaded
    assert "monitor.probes.icmp" not in loaded


def test_the_daemon_imports_its_probe_modules_before_the_scheduler_exists(tmp_path):
    """An import inside the running loop would stall every probe due meanwhile."""
    script = f"""
import asyncio, sys
import monitor.schedule
from monitor.config import parse_config
from monitor.daemon import Daemon

loaded_first = []
original = monitor.schedule.ProbeScheduler.__init__
def spy(self, *args, **kwargs):
    loaded_first.append("monitor.probes.dns" in sys.modules)
    original(self, *args, **kwargs)
monitor.schedule.ProbeScheduler.__init__ = spy

config = parse_config({{
    "office": {{"name": "Test", "timezone": "Asia/Jakarta"}},
    "listen": "127.0.0.1:0",
    "storage": {{"path": {str(tmp_path / "pantau.db")!r}}},
    "targets": [{{"name": "isp-dns", "role": "isp", "kind": "dns",
                  "server": "127.0.0.1:1", "query": "example.test", "record": "A"}}],
}})

async def main():
    daemon = Daemon(config)
    await daemon.start()
    await daemon.stop()

asyncio.run(main())
print(loaded_first)
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.split()[-1] == "[True]"
