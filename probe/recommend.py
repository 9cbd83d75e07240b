"""The recommendation from the chosen family: the Helm values and the peer's
connection.source in that family. Pure; the family itself comes from `probe.choice`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from probe.choice import Choice
from probe.facts import Facts
from probe.jvm import first_address, jvm_view_of
from probe.model import Family, ProbeState, Recommendation, Target, format_endpoint
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
        first = first_address(facts, target, view)
        state = _state_of(facts, target, first[1]) if first else None
        if first is not None and first[0] is family and state is ProbeState.OPEN:
            entries.append(SourceEntry(target, (target,)))
            continue
        literals = tuple(
            Target(text=a, host=a, port=target.port, literal_family=family) for a in addresses
        )
        if first is None:
            dials = "would find no address it can use"
        else:
            dials = (
                f"would dial {format_endpoint(first[1], target.port)} ({first[0]}, "
                f"{state or 'not probed'}) first"
            )
        why = (
            f"{target.text}: VoltDB's JVM ({view.describe()}) {dials}; connection.source "
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
    endpoints = [t for entry in connection_source_plan(facts, family) for t in entry.written]
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
