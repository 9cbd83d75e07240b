"""VP32x: what open DR endpoints do after the handshake (the data path)."""

from __future__ import annotations

import statistics
from collections.abc import Iterable

from probe.checks.reach import blocking, subjects_of
from probe.checks.registry import Hit, check
from probe.choice import Choice
from probe.datapath.rules import (
    black_hole_rows,
    dropped_rows,
    observed_rows,
    ungreeted_rows,
)
from probe.datapath.types import DataPath, Nat
from probe.facts import Facts
from probe.model import FAMILIES, Family, ProbeResult, Severity, format_endpoint

# a family's median RTT this many times the other's, and at least this many ms slower
RTT_RATIO = 2.0
RTT_MIN_GAP_MS = 5.0


def _subjects(pairs: Iterable[tuple[ProbeResult, DataPath]]) -> tuple[str, ...]:
    """The rows' subjects as every reachability finding names them (reach.subjects_of)."""
    return subjects_of(r for r, _ in pairs)


def _listed(pairs: list[tuple[ProbeResult, DataPath]], limit: int = 6) -> str:
    text = ", ".join(
        f"{format_endpoint(d.address, d.port)} ({r.target}, {d.after}: {d.detail})"
        for r, d in pairs[:limit]
    )
    return text + (f" and {len(pairs) - limit} more" if len(pairs) > limit else "")


@check(
    "VP320",
    "A DR endpoint closes the connection right after accepting it",
    Severity.ERROR,
    requires=("data-path",),
    remedy=(
        "Something accepts the handshake and then drops the connection: an access rule that "
        "allows only the other family (VoltDB, a sidecar or a mesh policy), a NodePort or "
        "load balancer with no ready backend in this family, or a proxy whose upstream "
        "refuses. Look at the listener's logs and at the Service's endpoints in this family."
    ),
)
def closed_after_accept(facts: Facts, choice: Choice) -> Iterable[Hit]:
    """The handshake completed, then the peer closed (FIN) or reset (RST) the connection
    before sending any byte, within the data-path wait. A DR listener never does that to
    a fresh connection: it waits for its client. XDCR would connect and be dropped again
    and again, so the family does not qualify. A voltprobe responder that greets and
    then closes (protocol v0) is a greeting, not this."""
    for family in FAMILIES:
        rows = dropped_rows(facts, family)
        if rows:
            yield Hit(
                f"{len(rows)} {family} DR endpoint(s) closed right after accept: {_listed(rows)}",
                _subjects(rows),
                severity=blocking(choice),
            )


@check(
    "VP321",
    "A DR endpoint does not greet where a voltprobe responder was expected",
    Severity.ERROR,
    requires=("data-path",),
    remedy=(
        "The same name greets elsewhere (another address or the other family) or --responder "
        "was given, so this endpoint's handshake is answered by something else: a NodePort or "
        "load balancer that completes the handshake but forwards nothing in this family, a "
        "proxy, or another listener. Check the Service's endpoints and the load balancer's "
        "backends in this family."
    ),
)
def no_greeting(facts: Facts, choice: Choice) -> Iterable[Hit]:
    """Where `voltprobe serve` runs behind the peer's DR endpoints, every endpoint should
    greet within the wait (300 ms by default, longer on slow paths). An endpoint that
    completes the handshake and then stays silent (or sends something else) in one
    family while the same name greets in the other is the signature of a path that
    accepts connections but forwards nothing: XDCR would connect and hang. Without
    --responder and without a greeting from the same name, silence is normal (a real
    VoltDB DR listener waits for its client) and is not reported here."""
    for family in FAMILIES:
        rows = ungreeted_rows(facts, family)
        if rows:
            yield Hit(
                f"{len(rows)} {family} DR endpoint(s) did not greet: {_listed(rows)}",
                _subjects(rows),
                severity=blocking(choice),
            )


@check(
    "VP322",
    "Path-MTU black hole: large packets stall",
    Severity.ERROR,
    requires=("data-path",),
    remedy=(
        "Packets above the size that passed are dropped and the ICMP error that would lower the "
        "path MTU never arrives. Allow ICMPv6 Packet Too Big (type 2) and ICMP fragmentation "
        "needed (type 3 code 4) through every firewall on the path (RFC 4890 section 4.3.1 "
        "says Packet Too Big must not be dropped); or clamp the TCP MSS on the tunnel or "
        "router (nftables: tcp flags syn tcp option maxseg size set rt mtu); or lower the "
        "MTU of the pods' interfaces (the CNI's MTU setting) to the tunnel's MTU."
    ),
)
def black_hole(facts: Facts, choice: Choice) -> Iterable[Hit]:
    """For each packet size of the ladder (1280, 1400, 1480, 1500 and 9000 bytes, up
    to the local route's MTU), one connection to a voltprobe responder sets TCP_MAXSEG so
    that full segments are exactly that size, and a few full segments are echoed. A size
    that stalls while a smaller one passes is a path-MTU black hole (RFC 8201, RFC 4890):
    the handshake works, the first full-size segment never arrives, and replication
    connects, then stalls. The finding gives the largest size that passed."""
    for family in FAMILIES:
        rows = black_hole_rows(facts, family)
        if rows:
            sizes = ", ".join(
                f"{format_endpoint(d.address, d.port)} passes {d.largest_passed} bytes and "
                f"stalls at {d.black_hole}"
                for _, d in rows[:6]
            )
            yield Hit(
                f"{family} path-MTU black hole: {sizes}", _subjects(rows), severity=blocking(choice)
            )


@check(
    "VP323",
    "The peer sees another source address (NAT)",
    Severity.INFO,
    requires=("data-path",),
    remedy=(
        "Nothing to fix for XDCR itself. Allow the translated address (shown) in the peer's "
        "firewalls, NetworkPolicies and security groups, and remember that the peer cluster "
        "dials this cluster's advertised DR addresses, not the address it sees here."
    ),
)
def nat(facts: Facts, choice: Choice) -> Iterable[Hit]:
    """The voltprobe responder reports the client address it saw. When that differs from
    this host's source address, a NAT stands between: SNAT (pod egress masquerading to the
    node's address, a NAT gateway) in the same family, NAT64 when an IPv6 connection
    arrives as IPv4 (NAT46 the reverse). SNAT is normal for pod egress and XDCR does not
    authenticate by source address, but firewalls, NetworkPolicies and security groups on
    the peer must allow the translated address, not the pods' addresses. With NAT64 the
    peer's DR listener is reached over IPv4: the family chosen here is not the family
    the peer sees."""
    for family in FAMILIES:
        pairs = [(r, d) for r, d in observed_rows(facts, family) if d.nat not in (None, Nat.NONE)]
        if not pairs:
            continue
        seen = sorted(
            {
                f"{d.source} seen as {d.greeting.client_address} ({d.nat})"
                for _, d in pairs
                if d.greeting
            }
        )
        yield Hit(f"{family}: {', '.join(seen)}", _subjects(pairs))


def _median_rtt(facts: Facts, family: Family) -> float | None:
    medians = [d.rtt.median for _, d in observed_rows(facts, family) if d.rtt is not None]
    return statistics.median(medians) if medians else None


@check(
    "VP324",
    "One family's round trip is much slower than the other's",
    Severity.INFO,
    requires=("data-path",),
    remedy=(
        "Prefer the faster family when both qualify, or find why the slow family takes "
        "another path (a NAT64 gateway, a tunnel, a load balancer in another zone)."
    ),
)
def rtt_disparity(facts: Facts, choice: Choice) -> Iterable[Hit]:
    """Handshake round trips are timed over --samples connections per endpoint (min,
    median, p95 in the JSON report). When one family's median is more than twice the
    other's and at least 5 ms slower, the families take different paths (a tunnel, a
    NAT64 gateway, another region's load balancer). Information: XDCR works over a slow
    path, but replication lag follows the round trip."""
    medians = {family: _median_rtt(facts, family) for family in FAMILIES}
    v4, v6 = medians[Family.IPV4], medians[Family.IPV6]
    if v4 is None or v6 is None:
        return
    slow, fast = (Family.IPV4, Family.IPV6) if v4 > v6 else (Family.IPV6, Family.IPV4)
    slow_ms, fast_ms = max(v4, v6), min(v4, v6)
    if slow_ms >= RTT_RATIO * fast_ms and slow_ms - fast_ms >= RTT_MIN_GAP_MS:
        yield Hit(
            f"median handshake RTT {slow} {slow_ms:.1f} ms vs {fast} {fast_ms:.1f} ms",
            (str(slow),),
        )


@check(
    "VP325",
    "A responder was too busy to measure the path",
    Severity.WARNING,
    requires=("data-path",),
    remedy=(
        "Run the check again when fewer clients hold connections to the responder (its "
        "per-source and global caps are in the README), or run one check at a time: "
        "the path MTU of that endpoint was not measured."
    ),
)
def busy_responder(facts: Facts, choice: Choice) -> Iterable[Hit]:
    """A voltprobe responder over its connection caps greets with `busy: true` and takes
    no echo, so no RTT samples or path-MTU ladder ran for it: a black hole on that path
    would go unseen. Unknown is not yes: say that the path quality was not measured."""
    for family in FAMILIES:
        pairs = [(r, d) for r, d in observed_rows(facts, family) if d.greeting and d.greeting.busy]
        if pairs:
            yield Hit(
                f"{family}: the responder was busy, the path quality was not measured",
                _subjects(pairs),
            )
