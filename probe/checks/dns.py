"""VP2xx: what DNS says about the peer's names."""

from __future__ import annotations

from collections.abc import Iterable

from probe.checks.reach import describe
from probe.checks.registry import Hit, check
from probe.choice import Choice
from probe.facts import Facts
from probe.model import DnsOutcome, Family, ProbeState, Severity

_FAILED = (DnsOutcome.NXDOMAIN, DnsOutcome.SERVFAIL, DnsOutcome.TIMEOUT, DnsOutcome.ERROR)


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
    JVM resolves it: through the pod's resolv.conf, with its search domains and ndots.
    NXDOMAIN, SERVFAIL and timeouts each point to a different culprit."""
    for target in facts.targets:
        if target.is_literal:
            continue
        answers = [facts.answer(target, f) for f in (Family.IPV4, Family.IPV6)]
        failed = [a for a in answers if a is not None and a.outcome in _FAILED]
        if failed:
            what = "; ".join(f"{a.family} {a.outcome}: {a.detail}" for a in failed)
            yield Hit(f"{target.text} does not resolve ({what})", (target.text,))


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
    """A name with only A (or only AAAA) records can only be dialled in that family.
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
            yield Hit(
                f"{target.text} has A records only ({', '.join(v4.addresses)})", (target.text,)
            )
        elif v6.outcome is DnsOutcome.OK and v4.outcome is DnsOutcome.NO_ADDRESS:
            yield Hit(
                f"{target.text} has AAAA records only ({', '.join(v6.addresses)})", (target.text,)
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
