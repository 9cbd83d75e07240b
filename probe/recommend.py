"""The recommendation from the chosen family: the Helm values and the peer's
connection.source in that family. Pure; the family itself comes from `probe.choice`."""

from __future__ import annotations

from typing import Any

from probe.choice import Choice
from probe.facts import Facts
from probe.model import Family, Recommendation, Target
from probe.targets import format_endpoints

DR_KEY = "cluster.serviceSpec.dr.ipFamilies"
PERPOD_DR_KEY = "cluster.serviceSpec.perpod.dr.ipFamilies"


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


def recommend(facts: Facts, choice: Choice) -> Recommendation:
    family, rationale = choice.family, choice.rationale
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
