"""VP3xx: what the probes of the peer's DR endpoints say."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from probe.checks.registry import Hit, check
from probe.choice import Choice, family_problems
from probe.facts import Facts
from probe.model import (
    FAMILIES,
    Family,
    Method,
    ProbeResult,
    ProbeState,
    Severity,
    format_endpoint,
)
from probe.probers.verdict import STOPPED


def endpoint_of(row: ProbeResult) -> str:
    return format_endpoint(row.address or "?", row.port)


def describe(rows: Iterable[ProbeResult], limit: int = 6) -> str:
    rows = list(rows)
    text = ", ".join(f"{endpoint_of(r)} ({r.target}, {r.reason})" for r in rows[:limit])
    return text + (f" and {len(rows) - limit} more" if len(rows) > limit else "")


def subjects_of(rows: Iterable[ProbeResult]) -> tuple[str, ...]:
    """Each row as `endpoint` (an IP literal) or `name endpoint` (a named target)."""
    subjects = []
    for r in rows:
        if r.address is None:  # nothing to probe (DNS): the name and port say which
            subjects.append(f"{r.target}:{r.port}" if ":" not in r.target else r.target)
            continue
        endpoint = endpoint_of(r)
        subjects.append(endpoint if r.address == r.target else f"{r.target} {endpoint}")
    return tuple(dict.fromkeys(subjects))


SYN_RETRANSMIT_SECONDS = 1.1  # Linux retransmits an unanswered SYN after 1 s (RFC 6298 2.1)


def rows_where(
    facts: Facts, wanted: Callable[[ProbeResult], bool]
) -> Iterator[tuple[Family, list[ProbeResult]]]:
    """Per family, the probed rows `wanted` picks (families with none are left out)."""
    for family in FAMILIES:
        rows = [r for r in facts.probed_rows(family) if wanted(r)]
        if rows:
            yield family, rows


def merged_endpoints(facts: Facts, rows: Iterable[ProbeResult]) -> list[tuple[str, int]]:
    """The named (target, port) pairs with rows in both families among `rows`."""
    named = {t.text for t in facts.targets if not t.is_literal}
    families_of: dict[tuple[str, int], set[Family]] = {}
    for row in rows:
        if row.target in named:
            families_of.setdefault((row.target, row.port), set()).add(row.family)
    return [key for key, families in families_of.items() if len(families) == len(FAMILIES)]


def groups_where(
    facts: Facts, wanted: Callable[[ProbeResult], bool]
) -> list[tuple[str, list[ProbeResult]]]:
    """`endpoint_groups` of the probed rows (every family) that `wanted` picks."""
    rows = [r for family in FAMILIES for r in facts.probed_rows(family) if wanted(r)]
    return endpoint_groups(facts, rows)


def endpoint_groups(
    facts: Facts, rows: Iterable[ProbeResult]
) -> list[tuple[str, list[ProbeResult]]]:
    """(label, rows) for a finding: the rows of one named host:port present in both
    families form one group, labelled 'name:port in IPv4 and IPv6' (that endpoint's
    problem, not two family failures); the rest are grouped per family, labelled with
    the family. IP literals are never merged: each has one family."""
    rows = list(rows)
    merged = merged_endpoints(facts, rows)
    groups = [
        (
            f"{target}:{port} in IPv4 and IPv6",
            [r for r in rows if (r.target, r.port) == (target, port)],
        )
        for target, port in merged
    ]
    for family in FAMILIES:
        rest = [r for r in rows if r.family is family and (r.target, r.port) not in merged]
        if rest:
            groups.append((str(family), rest))
    return groups


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
    "VP300",
    "No IP family reaches every peer DR endpoint",
    Severity.ERROR,
    remedy=(
        "Fix what the finding names for at least one family (the findings about those "
        "endpoints, names or local-cluster facts say how); XDCR stays PENDING until one "
        "family reaches every DR endpoint."
    ),
)
def no_family_qualifies(facts: Facts, choice: Choice) -> Iterable[Hit]:
    """The one rule behind a FAIL verdict: when the choice stage finds no family, this
    error names, per family, every reason it was ruled out (the family_problems of the
    choice stage: endpoints not open, names without an address in it, local-cluster
    facts). An endpoint (a named host:port) failing in both families is named as that
    endpoint's problem."""
    if choice.family is not None or not choice.complete:
        return
    problems = {family: family_problems(facts, family) for family in FAMILIES}
    failed = [r for r in facts.probes if r.state is not ProbeState.OPEN]
    parts = [
        f"{target}:{port} fails in IPv4 and IPv6: that endpoint's problem"
        for target, port in merged_endpoints(facts, failed)
    ]
    parts += [f"{family}: {'; '.join(p)}" for family, p in problems.items() if p]
    if not parts:
        return
    subjects = subjects_of(failed)
    yield Hit("no IP family qualifies. " + ". ".join(parts), subjects or ("verdict",))


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
    others in the same family, the network is fine and VoltDB's DR listener is not
    armed on those pods: a license without the DR feature, DR not configured at
    initialization, or a paused cluster (a paused cluster closes its DR port). A named
    endpoint refusing in both families is reported once, as that endpoint's problem."""
    closed = [r for r in facts.probes if r.state is ProbeState.CLOSED]
    opened = {r.family for r in facts.probes if r.state is ProbeState.OPEN}
    for label, rows in endpoint_groups(facts, closed):
        if not {r.family for r in rows} & opened:
            continue
        family = rows[0].family
        count = (
            f"{len(rows)} of {len(facts.probed_rows(family))} {family}"
            if label == str(family)
            else label
        )
        yield Hit(
            f"{count} DR endpoint(s) refuse connections while others accept: {describe(rows)}",
            subjects_of(rows),
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
    """Endpoints answered with a TCP reset and no endpoint of their family accepts:
    packets reach the peer in both directions, but nothing accepts connections on the
    DR port. This is the signature of a VoltDB whose replication listener never bound
    (license without DR, DR not configured at init) or of a cluster not yet started.
    Other endpoints of the family may be filtered or unreachable at the same time:
    their own findings say so."""
    closed = [r for r in facts.probes if r.state is ProbeState.CLOSED]
    opened = {r.family for r in facts.probes if r.state is ProbeState.OPEN}
    for label, rows in endpoint_groups(facts, closed):
        if {r.family for r in rows} & opened:
            continue
        # connect() sees a reset, never where it came from; raw mode sees a local rule
        # refuse the send (local-deny), so only connect rows carry the caveat
        caveat = (
            " (connect() cannot tell this from a `reject with tcp reset` rule on this "
            "host; --mode raw can)"
            if any(r.method is Method.CONNECT for r in rows)
            else ""
        )
        yield Hit(
            f"{len(rows)} {label} DR endpoint(s) refuse connections and none accepts: "
            f"{describe(rows)}{caveat}",
            subjects_of(rows),
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
    # connect() sees a local OUTPUT drop only at the SYN's first retransmission (~1 s)
    short = facts.options.timeout < SYN_RETRANSMIT_SECONDS
    for label, rows in groups_where(facts, lambda r: r.state is ProbeState.FILTERED):
        message = f"{len(rows)} {label} DR endpoint(s) gave no answer: {describe(rows)}"
        if short and any(r.method is Method.CONNECT for r in rows):
            message += (
                f" (at --timeout {facts.options.timeout:g} connect() cannot tell this from an "
                "OUTPUT drop rule on this host: rerun with --timeout 2 or --mode raw)"
            )
        if local_etp:
            message += (
                f"; local DR Service(s) {', '.join(local_etp)} use externalTrafficPolicy: Local"
            )
        yield Hit(message, subjects_of(rows), severity=blocking(choice))


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
    for label, rows in groups_where(facts, _admin_prohibited):
        senders = sorted({r.icmp.sender for r in rows if r.icmp})
        yield Hit(
            f"{len(rows)} {label} DR endpoint(s) rejected as administratively prohibited "
            f"(rejected by {', '.join(senders)}): {describe(rows)}",
            subjects_of(rows),
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

    for label, rows in groups_where(facts, other_unreachable):
        yield Hit(
            f"{len(rows)} {label} DR endpoint(s) unreachable: {describe(rows)}",
            subjects_of(rows),
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
        reached = [r for r in facts.probed_rows(family) if r.state is ProbeState.OPEN]
        if reached:
            yield Hit(
                f"no {family} route from this host to {describe(rows)}, though other {family} "
                f"endpoints are reached ({describe(reached, 3)}): a route to those addresses "
                "is missing here, the family itself works",
                subjects_of(rows),
                remedy=(
                    "Add a route to these addresses on the probing host (and the Volt pods' "
                    "network), or check that the peer advertises addresses this cluster can "
                    "route to."
                ),
            )
        else:
            yield Hit(f"no {family} route from this host to {describe(rows)}", subjects_of(rows))


@check(
    "VP309",
    "A rule on this host refuses to send to DR endpoints",
    Severity.ERROR,
    requires=("probes",),
    remedy=(
        "Nothing left this host: a local rule refused the SYN (an nftables/iptables OUTPUT "
        "rule, a cgroup BPF program, an LSM) in the probing pod's or host's own network "
        "namespace. List them (`nft list ruleset`, `iptables -S OUTPUT`, `ip6tables -S "
        "OUTPUT`) and allow TCP to the DR port. The peer and the path were not tested."
    ),
)
def local_deny(facts: Facts, choice: Choice) -> Iterable[Hit]:
    """The kernel refused to send the probe: sendto() or connect() failed with EPERM or
    EACCES, or (connect mode) the SYN's retransmission could not be sent. This is a
    rule on the probing host itself, never the peer's or a router's doing."""
    rows = [r for r in facts.probes if r.state is ProbeState.LOCAL_DENY]
    for label, group in endpoint_groups(facts, rows):
        yield Hit(
            f"{len(group)} {label} DR endpoint(s) refused by a rule on this host (nothing "
            f"was sent): {describe(group)}",
            subjects_of(group),
            severity=blocking(choice),
        )


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
    errors = [r for r in facts.probes if r.state is ProbeState.ERROR]
    stopped = [r for r in errors if r.reason == STOPPED]
    rows = [r for r in errors if r.reason != STOPPED]
    if rows:
        yield Hit(f"{len(rows)} probe(s) ended in an error: {describe(rows)}", subjects_of(rows))
    if stopped:  # nothing went wrong with them: the run ended first (its error says why)
        yield Hit(
            f"{len(stopped)} probe(s) not answered before the run stopped: {describe(stopped)}",
            subjects_of(stopped),
            severity=Severity.INFO,
            remedy="The run's error says why it stopped; rerun (with a longer --deadline if "
            "the deadline ended it) to finish these probes.",
        )


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
