"""Choose the IP family for the DR Services and write the Helm values. Pure.

A family qualifies when (1) it has at least one probe row with an address,
(2) every such row is `open`, (3) every named target has an address in it
(an IP literal counts only in its own family), and (4) the local cluster does
not rule it out (its Services or the probing pod are `no` in that family;
`unknown` does not rule out), and (5) the data path does not rule it out
(probe/datapath/rules.py: closed right after accept, no greeting where one is
expected, a path-MTU black hole). When both qualify, the local cluster's primary
family wins; without cluster facts, IPv4: VoltDB runs on a JVM, which by
default prefers IPv4 addresses.
"""

from __future__ import annotations

from typing import Any

from probe.datapath.rules import data_path_problems
from probe.facts import Facts
from probe.model import FAMILIES, Family, ProbeState, Recommendation, Target, format_endpoint
from probe.targets import format_endpoints

DR_KEY = "cluster.serviceSpec.dr.ipFamilies"
PERPOD_DR_KEY = "cluster.serviceSpec.perpod.dr.ipFamilies"


def family_problems(facts: Facts, family: Family) -> list[str]:
    """Why `family` does not qualify; an empty list means it does."""
    problems: list[str] = []
    capability = facts.inventory.families.get(family)
    if capability is not None:
        if capability.services == "no":
            problems.append(f"the local cluster cannot give Services an {family} address")
        if capability.pods == "no":
            problems.append(f"the local pods have no {family} address")
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
            f"{format_endpoint(r.address or '', r.port)} {r.state} ({r.reason})" for r in failed[:4]
        )
        more = f" and {len(failed) - 4} more" if len(failed) > 4 else ""
        problems.append(f"{len(failed)} of {len(rows)} {family} endpoints not open: {shown}{more}")
    problems.extend(data_path_problems(facts, family))
    return problems


def choose_family(facts: Facts) -> tuple[Family | None, list[str]]:
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
        return None, rationale
    if len(qualifying) == 1:
        return qualifying[0], rationale
    primary = facts.inventory.primary_family if facts.inventory.available else None
    if primary is not None:
        rationale.append(f"Both families work; {primary} is the local cluster's primary family.")
        return primary, rationale
    rationale.append(
        "Both families work and no cluster facts name a primary family; IPv4 is chosen "
        "because the JVM that runs VoltDB prefers IPv4 addresses by default."
    )
    return Family.IPV4, rationale


def helm_key(facts: Facts) -> str:
    per_pod = facts.options.per_pod or any(s.per_pod for s in facts.inventory.dr_services)
    return PERPOD_DR_KEY if per_pod else DR_KEY


def helm_values(key: str, families: list[Family]) -> dict[str, Any]:
    """{'cluster': {'serviceSpec': {'dr': {'ipFamilies': ['IPv6']}}}} from the dotted key."""
    value: Any = [f.value for f in families]
    for part in reversed(key.split(".")):
        value = {part: value}
    return value


def connection_source(facts: Facts, family: Family) -> dict[str, str] | None:
    """The peer endpoints in `family`, ready for dr.connection.source (plain and for --set).

    A name keeps its name when the JVM would dial the chosen family through it;
    a name with both A and AAAA while IPv6 is chosen is replaced by its IPv6
    addresses, because the JVM dials IPv4 first unless preferIPv6Addresses is set.
    """
    endpoints: list[Target] = []
    for target in facts.targets:
        addresses = facts.addresses(target, family)
        if not addresses:
            continue
        other = Family.IPV4 if family is Family.IPV6 else Family.IPV6
        if target.is_literal or family is Family.IPV4 or not facts.addresses(target, other):
            endpoints.append(target)
        else:
            endpoints.extend(
                Target(text=a, host=a, port=target.port, literal_family=family) for a in addresses
            )
    if not endpoints:
        return None
    value = format_endpoints(endpoints)
    return {"value": value, "helmSet": value.replace(",", "\\,")}


def recommend(facts: Facts) -> Recommendation:
    family, rationale = facts.choice
    key = helm_key(facts)
    if family is None:
        return Recommendation((), key, {}, tuple(rationale), None)
    return Recommendation(
        ip_families=(family,),
        helm_key=key,
        helm_values=helm_values(key, [family]),
        rationale=tuple(rationale),
        connection_source=connection_source(facts, family),
    )
