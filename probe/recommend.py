"""The recommendation from the chosen family: the Helm values and the peer's
connection.source in that family. Pure; the family itself comes from `probe.choice`."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from probe.choice import Choice
from probe.facts import Facts
from probe.jvm import ORDER_TEXT, first_address, jvm_view_of
from probe.model import Family, ProbeState, Recommendation, Target, format_endpoint
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


@dataclass(frozen=True)
class SourceEntry:
    """One peer target in connection.source: what is written for it, and why a name
    was replaced by its addresses ('' when kept as given)."""

    target: Target
    written: tuple[Target, ...]
    why: str = ""


def connection_source_plan(facts: Facts, family: Family) -> list[SourceEntry]:
    """For each target with an address in `family`, what connection.source holds.

    A name is kept when the address VoltDB's JVM dials first (probe.jvm: the Volt pods'
    java.net.prefer* flags, --jvm-prefer or the JDK default) is in `family` and was
    probed open; otherwise the name is replaced by its `family` addresses, because
    the JVM would dial the other family (or a broken address) through it."""
    view = jvm_view_of(facts)
    entries: list[SourceEntry] = []
    for target in facts.targets:
        addresses = facts.addresses(target, family)
        if not addresses:
            continue
        if target.is_literal:
            entries.append(SourceEntry(target, (target,)))
            continue
        # under each order the Volt pods may use (one, unless their setting is unknown)
        broken = [
            (order, first, _state_of(facts, target, first[1]) if first else None)
            for order in view.orders()
            for first in [first_address(facts, target, replace(view, prefer=order))]
            if first is None
            or first[0] is not family
            or _state_of(facts, target, first[1]) is not ProbeState.OPEN
        ]
        if not broken:
            entries.append(SourceEntry(target, (target,)))
            continue
        literals = tuple(
            Target(text=a, host=a, port=target.port, literal_family=family) for a in addresses
        )
        order, first, state = broken[0]
        if first is None:
            dials = "would find no address it can use"
        else:
            dials = (
                f"would dial {format_endpoint(first[1], target.port)} ({first[0]}, "
                f"{state or 'not probed'}) first"
            )
        jvm = f"VoltDB's JVM ({view.describe()})"
        if len(view.orders()) > 1:
            jvm = (
                f"VoltDB's JVM order is not known ({view.describe()}); with {ORDER_TEXT[order]} it"
            )
        why = (
            f"{target.text}: {jvm} {dials}; connection.source "
            f"lists its {family} address(es) instead (or use a name with {family} records only)"
        )
        entries.append(SourceEntry(target, literals, why))
    return entries


def _state_of(facts: Facts, target: Target, address: str) -> ProbeState | None:
    rows = [r for r in facts.rows(target=target.text) if r.address == address]
    return rows[0].state if rows else None


def connection_source(facts: Facts, family: Family) -> dict[str, str] | None:
    """The peer endpoints in `family`, ready for dr.connection.source (plain and for --set);
    see connection_source_plan for when a name is replaced by its addresses."""
    written = [t for entry in connection_source_plan(facts, family) for t in entry.written]
    # two names may resolve to one address: each endpoint once
    endpoints = list({(t.host, t.port): t for t in written}.values())
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
