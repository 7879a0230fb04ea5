"""DNS probe: one query to one resolver, no cache, no retries; optional expected answers.

Over UDP, a datagram that is not the answer to this query (another id or question, or not DNS at
all) is ignored and the probe keeps waiting until the runner's deadline: one spoofed or stray
packet used to fail the probe. A truncated answer (TC) is asked again over TCP, as a resolver
does; it used to be reported as "no A record".

Over UDP the latency is the query's round trip on the wire: the kernel's send stamp of the
query to its receive stamp of the answer (monitor/probes/dns_wire.py), not a stopwatch around
the event loop; over TCP it is the runner's stopwatch.
"""

from __future__ import annotations

import socket

import dns.asyncbackend
import dns.asyncquery
import dns.exception
import dns.flags
import dns.inet
import dns.message
import dns.rcode
import dns.rdatatype

from monitor.config import DnsTarget
from monitor.probes.context import ProbeContext
from monitor.probes.dns_wire import stamped_socket
from monitor.probes.result import Observation, ProbeFailure
from monitor.uplinks.dns_bound import dns_socket


async def probe(target: DnsTarget, timeout: float, ctx: ProbeContext) -> Observation:
    """Ask `server` for `query`/`record` once; NXDOMAIN, SERVFAIL or no answer fail with `dns`."""
    ctx.keep_stamps_on()  # receive stamps on for good, not toggled per probe (wire_clock.py)
    query = dns.message.make_query(target.query, dns.rdatatype.from_text(target.record))
    host, port = target.server_host, target.server_port
    try:
        # The runner owns the deadline; dnspython's own timeout just must not fire first.
        af = dns.inet.af_for_address(host)
        rtt = None  # over TCP, the runner's stopwatch (connect, query and answer) as before
        if target.transport == "tcp":
            response = await _tcp(query, target, af)
        else:
            async with await stamped_socket(af, target.source, (host, port)) as sock:
                response = await dns.asyncquery.udp(
                    query, host, port=port, timeout=None, sock=sock,
                    ignore_unexpected=True, ignore_errors=True,
                )  # fmt: skip
                rtt = sock.rtt()
            if response.flags & dns.flags.TC:
                response = await _tcp(query, target, af)
                rtt = None
    except dns.exception.DNSException as exc:
        raise ProbeFailure("dns", f"bad response from {target.server}: {exc}") from None
    rcode = response.rcode()
    if rcode != dns.rcode.NOERROR:
        name = dns.rcode.to_text(rcode)
        raise ProbeFailure("dns", f"{name} for {target.query} {target.record} at {target.server}")
    answers = sorted(
        item.to_text()
        for rrset in response.answer
        if rrset.rdtype == dns.rdatatype.from_text(target.record)
        for item in rrset
    )
    if not answers:
        raise ProbeFailure("dns", f"no {target.record} record for {target.query}")
    detail = f"{target.record} {', '.join(answers[:3])}"
    observation = Observation(latency=rtt if rtt is not None and rtt >= 0 else None, detail=detail)
    if target.expect and not set(target.expect) & set(answers):
        raise ProbeFailure(
            "answer_mismatch",
            f"got {', '.join(answers)}, expected one of {', '.join(target.expect)}",
            observation,
        )
    return observation


async def _tcp(query: dns.message.Message, target: DnsTarget, af: int) -> dns.message.Message:
    """The query over TCP, leaving through the target's `source` (issue 16; none: as before)."""
    host, port = target.server_host, target.server_port
    stream = await dns_socket(af, socket.SOCK_STREAM, target.source, (host, port))
    async with stream as tcp:
        return await dns.asyncquery.tcp(query, host, port=port, timeout=None, sock=tcp)
