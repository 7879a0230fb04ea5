"""`python -m tests.lab`: build the lab, run Pantau in it, and inject faults by hand (as root).

    python -m tests.lab up                       # prints the namespaces and the config
    python -m tests.lab pantau                   # pantau run in the office (Ctrl-C stops it)
    python -m tests.lab fault link-down wan --for 30s
    python -m tests.lab fault dns silent --for 20s
    python -m tests.lab status                   # /api/status from inside the office
    python -m tests.lab down                     # or: down --stale (leftovers of dead runs)

The lab built by `up` stays until `down`; its state file is remembered in CURRENT, so the
other commands find it (or pass --state PATH).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import yaml

from monitor.durations import parse_duration
from tests.lab.faults import Fault, inject
from tests.lab.lab import REPO, Lab
from tests.lab.topology import LabError, leftover, stale_prefixes

CURRENT = Path("/tmp/pantau-lab.current")
FAULTS = {
    "link-down": "HOP (lan, wan, backbone)",
    "black-hole": "HOP",
    "reject": "HOP",
    "dns": "MODE (silent, servfail, nxdomain, refused, down)",
    "http": "MODE (error, hang, slow, down)",
    "vpn": "MODE (down, hang)",
    "cert": "VARIANT (expired, wrong_name, untrusted)",
    "bandwidth-cap": "RATE in bit/s, e.g. 2000000",
}


def make_fault(lab: Lab, kind: str, arg: str, delay: float | None) -> Fault:
    """The Fault for `fault KIND ARG`."""
    makers = {
        "link-down": lambda: lab.link_down(arg),
        "black-hole": lambda: lab.blackhole(arg),
        "reject": lambda: lab.reject(arg),
        "dns": lambda: lab.dns(arg),
        "http": lambda: lab.http(arg, delay),
        "vpn": lambda: lab.vpn(arg),
        "cert": lambda: lab.cert(arg),
        "bandwidth-cap": lambda: lab.bandwidth_cap(int(arg)),
    }
    return makers[kind]()


def _lab(args: argparse.Namespace) -> Lab:
    state = Path(args.state) if args.state else None
    if state is None and CURRENT.exists():
        state = Path(CURRENT.read_text().strip())
    if state is None or not state.exists():
        raise LabError("no lab is up: run `python -m tests.lab up` first (or pass --state)")
    return Lab.attach(state)


def cmd_up(args: argparse.Namespace) -> int:
    lab = Lab.up(keep=True)
    config = lab.dir / "pantau.yaml"
    data = lab.pantau_config(lab.dir / "pantau.db", interval=args.interval, timeout=args.timeout)
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    CURRENT.write_text(str(lab.topo.state_file) + "\n")
    office = lab.topo.ns("office")
    print(f"lab {lab.topo.prefix} is up; state {lab.topo.state_file}")
    print(f"  namespaces: {', '.join(lab.topo.ns(r) for r in ('office', 'router', 'isp', 'dc'))}")
    print(f"  pantau config: {config}")
    print(
        f"  run pantau:    python -m tests.lab pantau  (ip netns exec {office} pantau run -c ...)"
    )
    print(f"  status:        ip netns exec {office} curl -s 127.0.0.1:9470/api/status")
    print("  a fault:       python -m tests.lab fault link-down wan --for 30s")
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    if args.stale:
        for prefix in stale_prefixes():
            leftover(prefix).teardown()
            print(f"removed leftover lab {prefix}")
        return 0
    lab = _lab(args)
    lab.down()
    if CURRENT.exists() and CURRENT.read_text().strip() == str(lab.topo.state_file):
        CURRENT.unlink()
    print(f"lab {lab.topo.prefix} is down")
    return 0


def cmd_pantau(args: argparse.Namespace) -> int:
    lab = _lab(args)
    argv = lab.topo.exec_argv("office", sys.executable, "-m", "monitor.cli", "run",
                              "-c", str(lab.dir / "pantau.yaml"))  # fmt: skip
    os.chdir(REPO)
    os.execvp(argv[0], argv)  # Pantau replaces this process: Ctrl-C stops it


def cmd_status(args: argparse.Namespace) -> int:
    lab = _lab(args)
    url = "http://127.0.0.1:9470/api/status"
    code = f"import urllib.request as u; print(u.urlopen({url!r}, timeout=3).read().decode())"
    argv = lab.topo.exec_argv("office", sys.executable, "-c", code)
    return subprocess.run(argv, check=False, timeout=10).returncode


def cmd_fault(args: argparse.Namespace) -> int:
    lab = _lab(args)
    fault = make_fault(lab, args.kind, args.arg, args.delay)
    print(f"{fault.label} for {args.duration:g}s ...", flush=True)
    try:
        done = inject(fault, args.duration)
    except KeyboardInterrupt:
        print("interrupted: fault removed")
        return 130
    print(f"{done.label}: held {done.seconds:.1f}s, removed")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tests.lab", description=__doc__.split("\n")[0])
    parser.add_argument("--state", help=f"lab state file (default: the one in {CURRENT})")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("up", help="build the lab and start its servers")
    p.add_argument("--interval", default="2s", help="probe interval in the config (2s)")
    p.add_argument("--timeout", default="1500ms", help="probe timeout in the config (1500ms)")
    p.set_defaults(func=cmd_up)
    p = sub.add_parser("down", help="tear the lab down")
    p.add_argument("--stale", action="store_true", help="remove leftovers of dead runs instead")
    p.set_defaults(func=cmd_down)
    sub.add_parser("pantau", help="run pantau in the office namespace").set_defaults(
        func=cmd_pantau
    )
    sub.add_parser("status", help="pantau's /api/status").set_defaults(func=cmd_status)
    p = sub.add_parser("fault", help="inject one fault for a while",
                       epilog="; ".join(f"{k} {v}" for k, v in FAULTS.items()))  # fmt: skip
    p.add_argument("kind", choices=sorted(FAULTS))
    p.add_argument("arg", help="hop, mode, variant or rate (see below)")
    p.add_argument("--for", dest="duration", type=parse_duration, default=30.0, help="e.g. 30s")
    p.add_argument("--delay", type=float, help="answer delay for `http slow`, seconds")
    p.set_defaults(func=cmd_fault)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if os.geteuid() != 0:
        print("the lab needs root (network namespaces, nft, tc)", file=sys.stderr)
        return 1
    try:
        return int(args.func(args))
    except (LabError, ValueError, RuntimeError) as exc:
        print(f"lab: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
