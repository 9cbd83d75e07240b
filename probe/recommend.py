"""The recommendation from the chosen family: the Helm values and the peer's
connection.source in that family. Pure; the family itself comes from `probe.choice`."""

from __future__ import annotations

import re
from typing import Any

from probe.choice import Choice
from probe.facts import Facts
from probe.model import Family, Recommendation, Target
from probe.targets import format_endpoints

DR_KEY = "cluster.serviceSpec.dr.ipFamilies"
PERPOD_DR_KEY = "cluster.serviceSpec.perpod.dr.ipFamilies"


# Chart versions whose per-pod DR is cluster.serviceSpec.dr.servicePerPod + override, with
# no ipFamilies key there (public 1.3.x examples: kjmadscience/volt-xdcr-examples).
_OLD_LAYOUT = re.compile(r"(?:.*-)?(?P<major>\d+)\.(?P<minor>\d+)\.\d+\S*")


def helm_keys(facts: Facts) -> tuple[str, ...]:
    """The ipFamilies keys to set: the cluster-wide DR Service's, the per-pod ones', or both
    when both kinds exist (otherwise a recreated discovery Service comes back as before)."""
    dr = facts.inventory.dr_services
    per_pod = facts.options.per_pod or any(s.per_pod for s in dr)
    cluster_wide = any(not s.per_pod for s in dr)
    if per_pod and cluster_wide:
        return (DR_KEY, PERPOD_DR_KEY)
    return (PERPOD_DR_KEY,) if per_pod else (DR_KEY,)


def helm_key(facts: Facts) -> str:
    """The key(s) as one text: "a" or "a and b"."""
    return " and ".join(helm_keys(facts))


def helm_values(key: str, families: list[Family]) -> dict[str, Any]:
    """{'cluster': {'serviceSpec': {'dr': {'ipFamilies': ['IPv6']}}}} from the dotted key(s)
    (several keys joined by " and " are merged into one document)."""
    merged: dict[str, Any] = {}
    for one in key.split(" and "):
        value: Any = [f.value for f in families]
        for part in reversed(one.split(".")):
            value = {part: value}
        _merge(merged, value)
    return merged


def _merge(into: dict[str, Any], other: dict[str, Any]) -> None:
    for name, value in other.items():
        if isinstance(value, dict) and isinstance(into.get(name), dict):
            _merge(into[name], value)
        else:
            into[name] = value


def old_chart(facts: Facts) -> str | None:
    """The helm.sh/chart label of a DR Service or Volt pod from the chart generation
    (< 1.4) that has no ipFamilies key for DR Services, or None."""
    inv = facts.inventory
    for chart in [s.chart for s in inv.dr_services] + [p.chart for p in inv.volt_pods]:
        match = _OLD_LAYOUT.fullmatch(chart or "")
        if match and int(match["major"]) == 1 and int(match["minor"]) <= 3:
            return chart
    return None


def layout_sentence(facts: Facts, keys: tuple[str, ...]) -> str:
    inv = facts.inventory
    charts = sorted(
        {c for c in [s.chart for s in inv.dr_services] + [p.chart for p in inv.volt_pods] if c}
    )
    seen = f"chart {', '.join(charts)}" if charts else "no helm.sh/chart label seen"
    return (
        f"The Helm values assume the chart layout with {' and '.join(keys)} ({seen}); "
        "chart 1.3.x configures per-pod DR with cluster.serviceSpec.dr.servicePerPod and "
        "override instead and has no ipFamilies key there."
    )


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
    old = old_chart(facts)
    if old is not None:
        why = (
            f"No Helm values: the DR Services come from chart {old}, whose per-pod DR is "
            "configured with cluster.serviceSpec.dr.servicePerPod and override and which shows "
            f"no ipFamilies key; give the DR Services {family} through that chart's override "
            "spec, or upgrade the chart."
        )
        return Recommendation(
            (family,), "", {}, (*rationale, why), connection_source(facts, family)
        )
    if facts.inventory.available and facts.inventory.dr_services:
        rationale = (*rationale, layout_sentence(facts, helm_keys(facts)))
    return Recommendation(
        ip_families=(family,),
        helm_key=key,
        helm_values=helm_values(key, [family]),
        rationale=tuple(rationale),
        connection_source=connection_source(facts, family),
    )
