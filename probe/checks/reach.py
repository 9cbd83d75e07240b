"""VP3xx: what the probes of the peer's DR endpoints say."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from probe.checks.registry import Hit, check
from probe.choice import Choice
from probe.facts import Facts
from probe.model import FAMILIES, Family, ProbeResult, ProbeState, Severity, format_endpoint


def endpoint_of(row: ProbeResult) -> str:
    return format_endpoint(row.address or "?", row.port)


def describe(rows: Iterable[ProbeResult], limit: int = 6) -> str:
    rows = list(rows)
    text = ", ".join(f"{endpoint_of(r)} ({r.target}, {r.reason})" for r in rows[:limit])
    return text + (f" and {len(rows) - limit} more" if len(rows) > limit else "")


def _subjects(rows: Iterable[ProbeResult]) -> tuple[str, ...]:
    return tuple(f"{r.target} {endpoint_of(r)} {r.family}" for r in rows)


def rows_where(
    facts: Facts, wanted: Callable[[ProbeResult], bool]
) -> Iterator[tuple[Family, list[ProbeResult]]]:
    """Per family, the probed rows `wanted` picks (families with none are left out)."""
    for family in FAMILIES:
        rows = [r for r in facts.probed_rows(family) if wanted(r)]
        if rows:
            yield family, rows


def _admin_prohibited(row: ProbeResult) -> bool:
    icmp = row.icmp
    return (
        row.state is ProbeState.UNREACHABLE
        and icmp is not None
        and (icmp.is_admin_prohibited(row.family))
    )


def blocking(choice: Choice) -> Severity:
    """ERROR when no family works (XDCR would not connect); WARNING when another family
    works, since the recommended family never holds a failed probe."""
    return Severity.WARNING if choice.family is not None else Severity.ERROR


@check(
    "VP301",
    "Some DR endpoints refuse connections while others accept",
    Severity.ERROR,
    requires=("probes",),
    remedy=(
        "On the pods behind the refusing endpoints, check that VoltDB's DR listener is armed: "
        'the license must carry DR="true", DR must be configured when the cluster is '
        "initialized (voltadmin set deployment.dr.* on a running cluster does not open the "
        "port), and the cluster must not be paused (voltadmin resume)."
    ),
)
def some_closed(facts: Facts, choice: Choice) -> Iterable[Hit]:
    """Every per-pod DR endpoint must accept: XDCR's replication phase dials each one.
    When the path delivers a reset (closed) for some endpoints and a handshake for
    others, the network is fine and VoltDB's DR listener is not armed on those pods:
    a license without the DR feature, DR not configured at initialization, or a
    paused cluster (a paused cluster closes its DR port)."""
    for family in FAMILIES:
        rows = facts.probed_rows(family)
        closed = [r for r in rows if r.state is ProbeState.CLOSED]
        if closed and any(r.state is ProbeState.OPEN for r in rows):
            yield Hit(
                f"{len(closed)} of {len(rows)} {family} DR endpoints refuse connections while "
                f"others accept: {describe(closed)}",
                _subjects(closed),
                severity=blocking(choice),
            )


@check(
    "VP302",
    "Nothing listens on the DR port",
    Severity.ERROR,
    requires=("probes",),
    remedy=(
        "The path works (the peer answered with a reset). Start VoltDB with DR enabled, or, "
        "before XDCR is enabled, run `voltprobe serve --port 5555` behind the DR Service on the "
        "peer to test the path end to end."
    ),
)
def all_closed(facts: Facts, choice: Choice) -> Iterable[Hit]:
    """Every probed endpoint answered with a TCP reset: packets reach the peer in both
    directions, but nothing accepts connections on the DR port. This is the signature
    of a VoltDB whose replication listener never bound (license without DR, DR not
    configured at init) or of a cluster not yet started."""
    for family in FAMILIES:
        rows = facts.probed_rows(family)
        if rows and all(r.state is ProbeState.CLOSED for r in rows):
            yield Hit(
                f"every {family} DR endpoint refuses connections: {describe(rows)}",
                _subjects(rows),
                severity=blocking(choice),
            )


@check(
    "VP303",
    "DR endpoints do not answer (filtered)",
    Severity.ERROR,
    requires=("probes",),
    remedy=(
        "Something on the path drops the SYN silently: a firewall, a NetworkPolicy (the Volt "
        "chart can create one: global.createNetworkPolicy), a cloud security group or "
        "firewall rule for port 5555, or a LoadBalancer/NodePort with "
        "externalTrafficPolicy: Local sending to a node without a Volt pod. Allow TCP 5555 "
        "in this family from this cluster's egress addresses."
    ),
)
def filtered(facts: Facts, choice: Choice) -> Iterable[Hit]:
    """A filtered endpoint gave no answer at all within the timeout: no SYN-ACK, no
    reset, no ICMP error. Packets are dropped silently somewhere on the path, most
    often by a firewall, a NetworkPolicy, a cloud security group, or a load balancer
    whose externalTrafficPolicy is Local. ICMP rate limiting on a busy peer can also
    turn rejects into silence."""
    local_etp = [
        s.name for s in facts.inventory.dr_services if s.external_traffic_policy == "Local"
    ]
    for family, rows in rows_where(facts, lambda r: r.state is ProbeState.FILTERED):
        message = f"{len(rows)} {family} DR endpoint(s) gave no answer: {describe(rows)}"
        if local_etp:
            message += (
                f"; local DR Service(s) {', '.join(local_etp)} use externalTrafficPolicy: Local"
            )
        yield Hit(message, _subjects(rows), severity=blocking(choice))


@check(
    "VP304",
    "An explicit reject rule blocks the DR port",
    Severity.ERROR,
    requires=("probes",),
    remedy=(
        "An ICMP administratively-prohibited error means a firewall rule rejects the "
        "connection on purpose. Find the rule on the host or router that sent the error "
        "(named in the finding) and allow TCP to the DR port in this family."
    ),
)
def admin_prohibited(facts: Facts, choice: Choice) -> Iterable[Hit]:
    """The SYN was answered by an ICMP destination-unreachable, administratively
    prohibited (ICMP 3/13, or ICMPv6 1/1): a reject rule (nftables/iptables `reject
    with ... admin-prohibited`, a cloud firewall, a router ACL) stands on the path.
    The sender of the error tells which host holds the rule."""
    for family, rows in rows_where(facts, _admin_prohibited):
        senders = sorted({r.icmp.sender for r in rows if r.icmp})
        yield Hit(
            f"{len(rows)} {family} DR endpoint(s) rejected as administratively prohibited "
            f"(rejected by {', '.join(senders)}): {describe(rows)}",
            _subjects(rows),
            severity=blocking(choice),
        )


@check(
    "VP305",
    "DR endpoints are unreachable (ICMP error)",
    Severity.ERROR,
    requires=("probes",),
    remedy=(
        "A router or the peer host reported the address unreachable. Check routing to the "
        "peer's DR addresses in this family (VPC routes, peering, the node's default route) "
        "and that the addresses the peer advertises are really assigned."
    ),
)
def unreachable(facts: Facts, choice: Choice) -> Iterable[Hit]:
    """An ICMP destination-unreachable other than administratively prohibited came
    back: no route at a router, host or address unreachable (no neighbour answered),
    or port unreachable (a reject rule without a type). The sender of the error is
    the router or host that gave up."""

    def other_unreachable(row: ProbeResult) -> bool:
        return row.state is ProbeState.UNREACHABLE and not _admin_prohibited(row)

    for family, rows in rows_where(facts, other_unreachable):
        yield Hit(
            f"{len(rows)} {family} DR endpoint(s) unreachable: {describe(rows)}",
            _subjects(rows),
            severity=blocking(choice),
        )


@check(
    "VP306",
    "This host has no route in a family",
    Severity.WARNING,
    requires=("probes",),
    remedy=(
        "The probing host (or pod) has no address or route in this family, so nothing was "
        "sent. If the Volt pods have the same network, XDCR cannot use this family; run the "
        "probe from a pod on the Volt pods' network to be sure."
    ),
)
def no_route(facts: Facts, choice: Choice) -> Iterable[Hit]:
    """The kernel refused to send: there is no route (ENETUNREACH), no source address
    (EADDRNOTAVAIL) or the family is disabled (EAFNOSUPPORT) on the probing host.
    Nothing left the host, so this says nothing about the peer."""
    for family, rows in rows_where(facts, lambda r: r.state is ProbeState.NO_ROUTE):
        yield Hit(f"no {family} route from this host to {describe(rows)}", _subjects(rows))


@check(
    "VP307",
    "A probe failed for an unexpected reason",
    Severity.WARNING,
    requires=("probes",),
    remedy="Re-run with -v and attach the JSON report (-o json) to a support ticket.",
)
def probe_errors(facts: Facts, choice: Choice) -> Iterable[Hit]:
    """A probe ended with an error voltprobe does not classify (an unusual errno or
    packet). The reason field holds the raw detail."""
    rows = [r for r in facts.probes if r.state is ProbeState.ERROR]
    if rows:
        yield Hit(f"{len(rows)} probe(s) ended in an error: {describe(rows)}", _subjects(rows))


@check(
    "VP308",
    "Raw SYN probing was not used",
    Severity.INFO,
    remedy=(
        "Raw SYN probes need CAP_NET_RAW: run as root, or use k8s/probe-job-raw.yaml (root + "
        "NET_RAW, a namespace at the privileged Pod Security level). connect() probes give the "
        "same states; raw ones add the ICMP detail for every reject. Raw probes never complete "
        "a handshake, but the data-path stage (--data-path on, the default) then connect()s "
        "once more to every open endpoint; --data-path off keeps a raw run handshake-free."
    ),
)
def raw_not_used(facts: Facts, choice: Choice) -> Iterable[Hit]:
    """In --mode auto voltprobe prefers raw SYN probes and falls back to connect() when
    raw sockets are not allowed (no CAP_NET_RAW, not root, Pod Security), for addresses
    of local Services (some CNIs translate Service IPs only at connect() time), or when
    the raw sockets fail to open. The finding says which."""
    if facts.raw_note:
        yield Hit(facts.raw_note, ("method",))
