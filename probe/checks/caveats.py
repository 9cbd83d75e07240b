"""VP5xx: caveats about applying the recommendation."""

from __future__ import annotations

from collections.abc import Iterable

from probe.checks.registry import Hit, check
from probe.choice import Choice
from probe.facts import Facts
from probe.model import Family, Severity


@check(
    "VP501",
    "The JVM will dial IPv4 first through a dual-stack name",
    Severity.WARNING,
    requires=("named-targets", "recommendation"),
    remedy=(
        "Put the peer's IPv6 addresses in cluster.config.deployment.dr.connection.source "
        "(the recommendation's connectionSource), or start VoltDB with "
        "-Djava.net.preferIPv6Addresses=true."
    ),
)
def jvm_prefers_ipv4(facts: Facts, choice: Choice) -> Iterable[Hit]:
    """IPv6 is recommended, but a peer name in connection.source has both A and AAAA
    records. Java resolves names with IPv4 addresses first unless
    java.net.preferIPv6Addresses is true, so VoltDB would dial IPv4 anyway."""
    family = choice.family
    if family is not Family.IPV6:
        return
    for target in facts.targets:
        if not target.is_literal and all(
            facts.addresses(target, f) for f in (Family.IPV4, Family.IPV6)
        ):
            yield Hit(
                f"{target.text} has A and AAAA records; the JVM dials its IPv4 address first",
                (target.text,),
            )


@check(
    "VP502",
    "The check covers one direction only",
    Severity.INFO,
    requires=("recommendation",),
    remedy=(
        "XDCR dials in both directions: run voltprobe in both clusters (voltprobe job run "
        "--context A ... and --context B ...) and use a family that works both ways."
    ),
)
def one_direction(facts: Facts, choice: Choice) -> Iterable[Hit]:
    """Each cluster's consumer dials the other's DR port, so reachability must hold in
    both directions. One run of voltprobe proves only this side's direction."""
    yield Hit("this run tested only the direction from here to the peer", ("direction",))
