"""VP2xx: what DNS says about the peer's names."""

from __future__ import annotations

from collections.abc import Iterable

from probe.checks.reach import describe
from probe.checks.registry import Hit, check
from probe.choice import Choice
from probe.facts import Facts
from probe.model import (
    DNS_FAILURES,
    FAMILIES,
    DnsAnswer,
    DnsOutcome,
    Family,
    ProbeState,
    Severity,
    unmapped_ipv4,
)
from probe.resolve import NOT_ASKED

_FAILED = DNS_FAILURES | {DnsOutcome.ERROR}
_RDTYPE = {Family.IPV4: "A", Family.IPV6: "AAAA"}
SLOW_LOOKUP_MS = 1000.0  # a getaddrinfo this slow is worth saying: the JVM waits for it


def _named_answers(facts: Facts) -> Iterable[tuple[str, dict[Family, DnsAnswer]]]:
    """(target text, {family: answer}) for each named target with both answers."""
    for target in facts.targets:
        if target.is_literal:
            continue
        answers = {f: facts.answer(target, f) for f in FAMILIES}
        if all(a is not None for a in answers.values()):
            yield target.text, {f: a for f, a in answers.items() if a is not None}


def _cost(answer: DnsAnswer) -> str:
    ms = answer.lens.elapsed_ms if answer.lens else answer.elapsed_ms
    return f"{ms / 1000:.1f} s" if ms >= 1000 else f"{ms:.0f} ms"


@check(
    "VP201",
    "A peer name does not resolve",
    Severity.ERROR,
    requires=("named-targets",),
    remedy=(
        "Check the name in cluster.config.deployment.dr.connection.source: NXDOMAIN means "
        "the name does not exist (a typo, the wrong namespace, or a Service not created yet); "
        "SERVFAIL or a timeout means the DNS server could not answer (CoreDNS not synced, "
        "an upstream forwarder down, UDP/TCP 53 blocked)."
    ),
)
def name_fails(facts: Facts, choice: Choice) -> Iterable[Hit]:
    """The peer's discovery name must resolve from inside this cluster, as VoltDB's
    JVM resolves it: through the system resolver (getaddrinfo: /etc/hosts, the pod's
    resolv.conf, its search domains and ndots). This fires when the name has no usable
    address in either family; NXDOMAIN, SERVFAIL, timeouts and a nameserver that
    cannot be reached each point to a different culprit. A name that resolves in one
    family only is VP204's or VP202's."""
    for text, answers in _named_answers(facts):
        if any(a.outcome is DnsOutcome.OK for a in answers.values()):
            continue
        what = "; ".join(f"{a.family} {a.outcome}: {a.detail}" for a in answers.values())
        answered = [
            a
            for a in answers.values()
            if a.outcome is DnsOutcome.TIMEOUT and a.lens and a.lens.outcome is DnsOutcome.OK
        ]
        if answered:
            # DNS answered a type at once, and getaddrinfo still gave nothing when its
            # wait ended (glibc's own retries, or the run's deadline): the JVM waits too
            fast = ", ".join(
                f"{a.family} in {a.lens.elapsed_ms:.0f} ms" for a in answered if a.lens
            )
            waited = max(a.elapsed_ms for a in answers.values()) / 1000
            yield Hit(
                f"{text}: the system resolver gave no answer in {waited:.1f} s, while DNS "
                f"answered {fast}: a record type that times out delays every lookup",
                (text,),
                remedy=(
                    "Fix the server that does not answer the other record type (see VP204): "
                    "every uncached lookup by the JVM pays its timeouts. The wait ends at "
                    "glibc's own bound (resolv.conf timeout x attempts) or at the run's "
                    "deadline, whichever is first: rerun with a longer --deadline to see "
                    "what the JVM finally gets."
                ),
            )
            continue
        yield Hit(f"{text} does not resolve ({what})", (text,))


@check(
    "VP204",
    "A peer name resolves in one family; the other's lookup fails",
    Severity.WARNING,
    requires=("named-targets",),
    remedy=(
        "The DNS server answers one record type wrongly: a name that exists must answer "
        "NOERROR with no data for a type it lacks, never NXDOMAIN (RFC 8020: NXDOMAIN means "
        "no name at all, and some resolvers then drop the whole name) and never SERVFAIL or "
        "silence. Fix the server or zone (CoreDNS plugins, a forwarder, a DNS firewall), or "
        "use IP literals in connection.source. A query that times out costs its timeout on "
        "every uncached lookup; the JVM caches positive answers for 30 s by default "
        "(networkaddress.cache.ttl)."
    ),
)
def one_family_fails(facts: Facts, choice: Choice) -> Iterable[Hit]:
    """The name has addresses in one family, and the query for the other record type of
    the same name failed (NXDOMAIN, SERVFAIL, a timeout, an unreachable nameserver),
    where a healthy server answers NOERROR without data. The run can still pass in the
    working family, so this is a warning, and an error when no family qualifies."""
    for text, answers in _named_answers(facts):
        for family, answer in answers.items():
            other = answers[Family.IPV6 if family is Family.IPV4 else Family.IPV4]
            if other.outcome is not DnsOutcome.OK or answer.outcome not in _FAILED:
                continue
            slow = (
                f"; getaddrinfo took {other.elapsed_ms / 1000:.1f} s to return the "
                f"{other.family} addresses, which every uncached lookup by the JVM pays"
                if other.elapsed_ms >= SLOW_LOOKUP_MS
                else ""
            )
            yield Hit(
                f"{text} has {other.family} addresses but its {_RDTYPE[family]} lookup failed: "
                f"{answer.outcome} after {_cost(answer)} ({answer.detail}){slow}",
                (text,),
                severity=Severity.ERROR if choice.family is None else Severity.WARNING,
            )


@check(
    "VP205",
    "The system resolver and DNS disagree about a peer name",
    Severity.INFO,
    requires=("named-targets",),
    remedy=(
        "VoltDB's JVM uses the system resolver (getaddrinfo), so its answer is the one "
        "probed. When DNS itself says otherwise, the answer comes from /etc/hosts (a pod's "
        "hostAliases), another nsswitch source, or a different search-list name: make the "
        "Volt pods see the same (hostAliases, dnsConfig) or fix the records."
    ),
)
def resolver_disagrees(facts: Facts, choice: Choice) -> Iterable[Hit]:
    """getaddrinfo's addresses for a family differ from what a direct DNS query of the
    name it settled on returns: /etc/hosts or hostAliases answered (DNS has nothing), or
    DNS has records getaddrinfo did not return."""
    for text, answers in _named_answers(facts):
        # the IPv4 form of a mapped AAAA is in the IPv4 answer, not in any A record
        from_aaaa = {unmapped_ipv4(a) for a in answers[Family.IPV6].ignored}
        for family, answer in answers.items():
            lens = answer.lens
            if lens is None or DnsOutcome.TIMEOUT in (lens.outcome, answer.outcome):
                continue
            dns_has = set(lens.addresses)
            mapped = from_aaaa - dns_has if family is Family.IPV4 else set()
            system_has = (set(answer.addresses) - mapped) | set(answer.ignored)
            if dns_has == system_has:
                continue
            if system_has and not dns_has:
                why = f"DNS says {lens.outcome} for {lens.name}: /etc/hosts or another source answered"
            elif dns_has - system_has and not system_has:
                why = f"DNS has {', '.join(sorted(dns_has))} for {lens.name}, getaddrinfo returned none"
            else:
                why = f"DNS has {', '.join(sorted(dns_has)) or 'none'} for {lens.name}"
            yield Hit(
                f"{text} {family}: getaddrinfo returned "
                f"{', '.join(sorted(system_has)) or 'no address'}; {why}",
                (text,),
            )


@check(
    "VP206",
    "A peer AAAA record holds an IPv4-mapped address",
    Severity.WARNING,
    requires=("named-targets",),
    remedy=(
        "An AAAA record with ::ffff:a.b.c.d is not an IPv6 address on the wire: the kernel "
        "dials it over IPv4 (Java, too, though it lists it as IPv6), so it was probed as the "
        "IPv4 address it maps, never as IPv6. Remove it, or publish the peer's real IPv6 "
        "address."
    ),
)
def mapped_aaaa(facts: Facts, choice: Choice) -> Iterable[Hit]:
    """IPv4-mapped IPv6 addresses (::ffff:0:0/96, RFC 4291 2.5.5.2) returned for a name
    are IPv4 on the wire: they are probed as IPv4 (as VoltDB's JVM dials them), never as
    IPv6, which would report the IPv4 path as IPv6 and could recommend IPv6 for a peer
    without it."""
    for text, answers in _named_answers(facts):
        ignored = answers[Family.IPV6].ignored
        if ignored:
            yield Hit(
                f"{text} has AAAA record(s) holding IPv4-mapped address(es) "
                f"{', '.join(ignored)}: probed as IPv4, not as IPv6",
                (text,),
            )


@check(
    "VP207",
    "A peer's IPv6 addresses are DNS64-synthesized (NAT64)",
    Severity.INFO,
    requires=("named-targets",),
    remedy=(
        "The IPv6 path to this name goes through a NAT64 gateway to the peer's IPv4 address: "
        "it works only while NAT64 translates TCP 5555, and the peer sees this cluster's "
        "traffic from the NAT64 pool (IPv4), not from an IPv6 address. Prefer IPv4, or give "
        "the peer a real IPv6 address; if the IPv6 probes failed, check the NAT64 gateway."
    ),
)
def dns64(facts: Facts, choice: Choice) -> Iterable[Hit]:
    """The name's AAAA addresses lie in the well-known NAT64 prefix 64:ff9b::/96 (RFC
    6052) or in a prefix the network's DNS64 announces through ipv4only.arpa (RFC 7050).
    XDCR through them depends on NAT64; when those IPv6 probes fail, NAT64 is the
    first suspect. Info, raised to a warning when those probes fail or IPv6 is the
    recommended family (replication would then depend on NAT64)."""
    for text, answers in _named_answers(facts):
        v6 = answers[Family.IPV6]
        if not v6.nat64_prefix:
            continue
        rows = facts.rows(Family.IPV6, text)
        broken = [r for r in rows if r.state is not ProbeState.OPEN]
        message = (
            f"{text}'s IPv6 addresses {', '.join(v6.addresses)} are synthesized under NAT64 "
            f"prefix {v6.nat64_prefix}: the IPv6 path depends on NAT64"
        )
        if broken:
            message += f"; and it fails: {describe(broken)}"
        severity = Severity.WARNING if broken or choice.family is Family.IPV6 else Severity.INFO
        yield Hit(message, (text,), severity=severity)


@check(
    "VP208",
    "A peer endpoint may be misread",
    Severity.WARNING,
    remedy=(
        "Write IPv6 literals with a port in brackets, as VoltDB requires: [2001:db8::10]:5555."
    ),
)
def ambiguous_peer(facts: Facts, choice: Choice) -> Iterable[Hit]:
    """An unbracketed IPv6 literal whose last group is decimal (2001:db8:5::10:5555) may
    be an address with a port written without brackets; it is read as one address, as
    VoltDB would read it, and this says so."""
    for target in facts.targets:
        if target.warning:
            yield Hit(target.warning, (target.text,))


@check(
    "VP202",
    "A peer name has addresses in one family only",
    Severity.INFO,
    requires=("named-targets",),
    remedy=(
        "Only the family with records can be used through this name. To use the other family, "
        "give the peer's DR Service that family (ipFamilies) or publish the missing record."
    ),
)
def single_family_name(facts: Facts, choice: Choice) -> Iterable[Hit]:
    """A name with addresses in one family only (A or AAAA records, /etc/hosts, an
    IPv4-mapped AAAA) can only be dialled in that family.
    In Kubernetes a Service's DNS records follow its ipFamilies: a SingleStack IPv4
    Service has no AAAA record (CoreDNS answers NOERROR with no data)."""
    for target in facts.targets:
        if target.is_literal:
            continue
        v4 = facts.answer(target, Family.IPV4)
        v6 = facts.answer(target, Family.IPV6)
        if v4 is None or v6 is None:
            continue
        if v4.outcome is DnsOutcome.OK and v6.outcome is DnsOutcome.NO_ADDRESS:
            if v6.detail == NOT_ASKED:  # a preferIPv4Stack JVM never asks for AAAA
                yield Hit(f"{target.text}: IPv6 {NOT_ASKED}", (target.text,))
                continue
            yield Hit(
                f"{target.text} has IPv4 addresses only ({', '.join(v4.addresses)})",
                (target.text,),
            )
        elif v6.outcome is DnsOutcome.OK and v4.outcome is DnsOutcome.NO_ADDRESS:
            yield Hit(
                f"{target.text} has IPv6 addresses only ({', '.join(v6.addresses)})",
                (target.text,),
            )


@check(
    "VP203",
    "A name's addresses work in one family and not the other",
    Severity.WARNING,
    requires=("named-targets", "probes"),
    remedy=(
        "Clients that try the broken family first (or only) will fail. Either fix the path in "
        "the broken family or stop publishing records in it, and set ipFamilies to the family "
        "that works."
    ),
)
def family_split(facts: Facts, choice: Choice) -> Iterable[Hit]:
    """The name has both A and AAAA records, but the addresses of one family are
    reachable on the DR port and those of the other are not. A dual-stack client
    may pick either: the JVM prefers IPv4 unless told otherwise."""
    for target in facts.targets:
        if target.is_literal:
            continue
        by_family = {f: facts.rows(f, target.text) for f in (Family.IPV4, Family.IPV6)}
        if not all(facts.addresses(target, f) for f in by_family):
            continue
        works = {
            f: all(r.state is ProbeState.OPEN for r in rows) and bool(rows)
            for f, rows in by_family.items()
        }
        if works[Family.IPV4] != works[Family.IPV6]:
            good = Family.IPV4 if works[Family.IPV4] else Family.IPV6
            bad = Family.IPV6 if good is Family.IPV4 else Family.IPV4
            broken = [r for r in by_family[bad] if r.state is not ProbeState.OPEN]
            yield Hit(
                f"{target.text}: {good} works but its {bad} addresses do not: {describe(broken)}",
                (target.text,),
            )
