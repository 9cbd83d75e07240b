"""VP5xx: caveats about applying the recommendation."""

from __future__ import annotations

from collections.abc import Iterable

from probe.checks.registry import Hit, check
from probe.choice import Choice
from probe.facts import Facts
from probe.jvm import first_address, jvm_view_of
from probe.model import Severity, format_endpoint
from probe.recommend import connection_source_plan


@check(
    "VP501",
    "VoltDB's JVM would dial a peer name's other family first",
    Severity.WARNING,
    requires=("named-targets", "recommendation"),
    remedy=(
        "Use the recommendation's connectionSource, which lists these names' addresses in the "
        "recommended family, or a name with records in that family only. Changing the JVM's "
        "order (-Djava.net.preferIPv6Addresses=true|false|system on the Volt pods) also works, "
        "but affects every connection the JVM makes."
    ),
)
def jvm_dials_other_family(facts: Facts, choice: Choice) -> Iterable[Hit]:
    """A peer name has addresses in the recommended family, but the address VoltDB's JVM
    dials first is in the other family, or was not open. Java sorts getAllByName's
    answer by java.net.preferIPv6Addresses (IPv4 first by default, IPv6 first when
    true, the resolver's order when "system") and java.net.preferIPv4Stack=true drops
    IPv6 altogether; VoltDB connects to the first address. The order is read from the
    Volt pods' container args and JVM option variables when the inventory has them,
    else from --jvm-prefer."""
    if choice.family is None:
        return
    for entry in connection_source_plan(facts, choice.family):
        if entry.why:
            yield Hit(entry.why, (entry.target.text,))


@check(
    "VP503",
    "How VoltDB's JVM will dial each peer name",
    Severity.INFO,
    requires=("named-targets",),
    remedy=(
        "Informational. If the address dialled first is not the one you expect, see VP501 and "
        "the recommendation's connectionSource."
    ),
)
def jvm_first_addresses(facts: Facts, choice: Choice) -> Iterable[Hit]:
    """For each peer name, the address VoltDB's JVM would dial first under its family
    order (the Volt pods' java.net.prefer* flags, --jvm-prefer, or the JDK default),
    and what the probe of that address found. The subjects are (name, address)."""
    view = jvm_view_of(facts)
    for target in facts.targets:
        if target.is_literal:
            continue
        first = first_address(facts, target, view)
        if first is None:
            yield Hit(
                f"{target.text}: VoltDB's JVM ({view.describe()}) has no address to dial",
                (target.text, ""),
            )
            continue
        rows = [r for r in facts.rows(target=target.text) if r.address == first[1]]
        state = rows[0].state.value if rows else "not probed"
        yield Hit(
            f"{target.text}: VoltDB's JVM ({view.describe()}) dials "
            f"{format_endpoint(first[1], target.port)} first ({first[0]}, {state})",
            (target.text, first[1]),
        )


@check(
    "VP502",
    "The check covers one direction only",
    Severity.INFO,
    requires=("recommendation",),
    remedy=(
        "XDCR dials in both directions: run the check in every cluster, each against the "
        "others (voltprobe check --cluster A --peer-report B.json, where B.json is `voltprobe "
        "inventory -o json` run in B; or voltprobe job run in each), then merge the reports: "
        "voltprobe report A.json B.json gives each cluster its own family and Helm values."
    ),
)
def one_direction(facts: Facts, choice: Choice) -> Iterable[Hit]:
    """Each cluster's consumer dials the other's DR port, so reachability must hold in
    both directions. One run of voltprobe proves only this side's direction: its values
    assume the link uses one family both ways; `voltprobe report` measures instead."""
    yield Hit(
        "this run tested only the direction from here to the peer; the values assume the "
        "peer reaches this cluster in the same family (merge both sides' reports with "
        "voltprobe report to know)",
        ("direction",),
    )
