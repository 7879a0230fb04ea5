"""ICMP probe: a burst of echo requests; loss ratio and min/avg/max/jitter of the replies.

Each RTT runs from the kernel's send stamp of the request to its receive stamp of the reply
(monitor/probes/icmp_echo.py), not from clock readings around the event loop.
"""

from __future__ import annotations

import icmplib

from monitor.config import IcmpTarget
from monitor.probes.context import ICMP_HELP, ProbeContext
from monitor.probes.icmp_echo import echo
from monitor.probes.result import Observation, ProbeFailure
from monitor.uplinks.icmp_bound import socket_kind


async def probe(target: IcmpTarget, timeout: float, ctx: ProbeContext) -> Observation:
    """Send `count` echoes `spacing` apart; at least one reply is a success."""
    if ctx.icmp_privileged is None:
        raise ProbeFailure("permission", ICMP_HELP)
    ctx.keep_stamps_on()  # receive stamps on for good, not toggled per probe (wire_clock.py)
    # Each echo may wait for what is left of the probe's budget after the burst is sent.
    per_reply = max(timeout - target.count * target.spacing, 0.05)
    source = target.source  # issue 16: the echoes leave through the target's uplink
    try:
        address = target.host
        if icmplib.utils.is_hostname(address):
            address = (await icmplib.async_resolve(address))[0]
        host = await echo(
            address,
            socket_kind(address, source.interface if source else None),
            source.address if source else None,
            target.count,
            target.spacing,
            per_reply,
            ctx.icmp_privileged,
        )
    except icmplib.SocketPermissionError as exc:
        raise ProbeFailure("permission", f"{ICMP_HELP} ({exc})") from None
    except icmplib.NameLookupError:
        raise ProbeFailure("dns", f"cannot resolve {target.host}") from None
    except icmplib.ICMPLibError as exc:
        raise ProbeFailure("unreachable", str(exc) or type(exc).__name__) from None
    loss = host.packet_loss
    if host.packets_received == 0:
        observation = Observation(loss_ratio=1.0, detail=f"0/{host.packets_sent} replies")
        raise ProbeFailure("loss", f"no reply to {host.packets_sent} echo requests", observation)
    rtt = {
        "min": host.min_rtt / 1000,
        "avg": host.avg_rtt / 1000,
        "max": host.max_rtt / 1000,
        "jitter": host.jitter / 1000,
    }
    return Observation(
        latency=rtt["avg"],
        loss_ratio=loss,
        rtt=rtt,
        detail=f"{host.packets_received}/{host.packets_sent} replies",
        echo_id=host.ident,
    )
