"""The family decision: a stage of its own, a pure function of the `Facts`.

A family qualifies when (1) it has at least one probe row with an address,
(2) every such row is `open`, (3) every named target has an address in it
(an IP literal counts only in its own family), (4) the local cluster does
not rule it out (`local_problems`: its Services or the Volt pods are `no` in that
family, no node address serves a NodePort DR Service in it, or the DR Services exist
and nothing shows the family can be allocated), (5) for IPv6, VoltDB's JVM can use
it (not -Djava.net.preferIPv4Stack=true, probe.jvm), and (6) the data path does not
rule it out (probe/datapath/rules.py: closed right after accept, no greeting where one
is expected, a path-MTU black hole). When no family qualifies, VP300 states these
problems as one error finding. When both qualify, the family the DR Services already
have wins (nothing to recreate), then the local cluster's primary family; without
cluster facts, IPv4: VoltDB runs on a JVM, which by default prefers IPv4 addresses.

The checks and the recommendation are given the `Choice`; nothing recomputes it.
"""

from __future__ import annotations

from dataclasses import dataclass

from probe.datapath.rules import data_path_problems
from probe.facts import Facts
from probe.jvm import JvmPrefer, jvm_view_of
from probe.model import FAMILIES, Family, ProbeState, format_endpoint
from probe.policyfacts import policy_problems


@dataclass(frozen=True)
class Choice:
    """The recommended family (None when no family qualifies) and the sentences why."""

    family: Family | None
    rationale: tuple[str, ...] = ()
    complete: bool = True  # False when the run stopped early: nothing was decided


def local_problems(facts: Facts, family: Family) -> list[str]:
    """Why the local cluster rules `family` out (evidence ladders: README).

    "unknown" rules a family out only where acting on it would be destructive: the DR
    Services exist, and none of the positive evidence (a Ready ServiceCIDR, an existing
    ClusterIP, a dry-run) shows the cluster can allocate a Service in the family, so
    recreating them in it could leave XDCR without a DR Service.
    """
    inv = facts.inventory
    if not inv.available:  # this host's interfaces or POD_IPS
        capability = inv.families.get(family)
        found = []
        if capability is not None and capability.services == "no":
            found.append(f"the local cluster cannot give Services an {family} address")
        if capability is not None and capability.pods == "no":
            found.append(f"the local pods have no {family} address")
        return found
    problems: list[str] = []
    capability = inv.families.get(family)
    if capability is None:
        return problems
    services_why = next((e for e in capability.evidence if e.startswith("services:")), "")
    services_why = services_why.removeprefix("services: ")
    if capability.pods == "no":
        where = (
            "the Volt pods that back the DR Services have"
            if capability.pods_rung == "volt-pods"
            else "the local pods have"
        )
        problems.append(f"{where} no {family} address (status.podIPs)")
    if capability.services == "no":
        problems.append(
            f"the local cluster cannot give Services an {family} address ({services_why})"
        )
    # The family is in the Service's ipFamilies, yet what the peer dials has none in it:
    # NodePort without a node address in it, a load balancer without an ingress in it.
    for rung, what in (
        ("node-addresses", "no node has an {f} InternalIP/ExternalIP, so a peer cannot reach "
         "the NodePort DR Service(s) {names} over {f}"),
        ("lb-ingress", "the load balancer of the DR Service(s) {names} has no {f} ingress, so a "
         "peer cannot reach it over {f}"),
    ):  # fmt: skip
        names = sorted(
            {
                r.service
                for r in inv.dr_reach
                if r.family is family and r.rung == rung and r.value == "no"
            }
        )
        if names:
            problems.append(what.format(f=family, names=", ".join(names)))
    if not problems and capability.services == "unknown" and inv.dr_services:
        problems.append(
            f"unknown whether the local cluster can allocate an {family} Service, and the "
            f"DR Services would have to be recreated in it ({services_why}); to settle it, "
            "grant `list servicecidrs` (k8s/probe-clusterrole.yaml) or rerun with "
            "--dry-run-service (needs `create services`; persists nothing)"
        )
    return problems


def dr_services_family(facts: Facts) -> Family | None:
    """The primary family every local DR Service already has, if they agree."""
    firsts = {s.ip_families[0] for s in facts.inventory.dr_services if s.ip_families}
    return next(iter(firsts)) if len(firsts) == 1 else None


def family_problems(facts: Facts, family: Family) -> list[str]:
    """Why `family` does not qualify; an empty list means it does."""
    problems: list[str] = local_problems(facts, family)
    if family is Family.IPV6:
        view = jvm_view_of(facts)
        if view.prefer is JvmPrefer.IPV4_STACK:
            problems.append(f"VoltDB's JVM cannot use IPv6 ({view.describe()})")
    # the Volt pods' own policies, not the probing Job's (it does not carry their labels)
    problems.extend(policy_problems(facts, family))
    # an IP literal counts only in its own family: it is never "missing" in the other
    missing = [t.text for t in facts.targets if not t.is_literal and not facts.addresses(t, family)]
    if missing:
        problems.append(f"no {family} address for {', '.join(missing)}")
    rows = facts.probed_rows(family)
    if not rows and not missing:
        problems.append(f"nothing was probed over {family}")
    failed = [r for r in rows if r.state is not ProbeState.OPEN]
    if failed:
        shown = ", ".join(
            f"{format_endpoint(r.address or '', r.port)} {r.state_and_reason()}" for r in failed[:4]
        )
        more = f" and {len(failed) - 4} more" if len(failed) > 4 else ""
        problems.append(f"{len(failed)} of {len(rows)} {family} endpoints not open: {shown}{more}")
    problems.extend(data_path_problems(facts, family))
    return problems


def choose(facts: Facts) -> Choice:
    """The family to recommend and the sentences that explain the choice."""
    problems = {family: family_problems(facts, family) for family in FAMILIES}
    qualifying = [family for family in FAMILIES if not problems[family]]
    rationale: list[str] = []
    for family in FAMILIES:
        if problems[family]:
            rationale.append(f"{family} does not qualify: " + "; ".join(problems[family]) + ".")
        else:
            rationale.append(f"{family} reaches every peer DR endpoint.")
    if not qualifying:
        rationale.append("No IP family reaches every peer DR endpoint: XDCR would stay PENDING.")
        return Choice(None, tuple(rationale))
    if len(qualifying) == 1:
        return Choice(qualifying[0], tuple(rationale))
    primary = facts.inventory.primary_family if facts.inventory.available else None
    existing = dr_services_family(facts) if facts.inventory.available else None
    if existing is not None:
        # Both work: keep what the DR Services have (recreating them would gain nothing).
        rationale.append(
            f"Both families work; the local DR Services are already {existing}, so nothing "
            "has to be recreated."
        )
        return Choice(existing, tuple(rationale))
    if primary is not None:
        why = f" ({facts.inventory.primary.evidence})" if facts.inventory.primary else ""
        rationale.append(
            f"Both families work; {primary} is the local cluster's primary family{why}."
        )
        return Choice(primary, tuple(rationale))
    rationale.append(
        "Both families work and no cluster facts name a primary family; IPv4 is chosen "
        "because the JVM that runs VoltDB prefers IPv4 addresses by default."
    )
    return Choice(Family.IPV4, tuple(rationale))
