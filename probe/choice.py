"""The family decision: a stage of its own, a pure function of the `Facts`.

A family qualifies when (1) it has at least one probe row with an address,
(2) every such row is `open`, (3) every named target has an address in it
(an IP literal counts only in its own family), and (4) the local cluster does
not rule it out (its Services or the probing pod are `no` in that family;
`unknown` does not rule out), and (5) the data path does not rule it out
(probe/datapath/rules.py: closed right after accept, no greeting where one is
expected, a path-MTU black hole). When both qualify, the local cluster's primary
family wins; without cluster facts, IPv4: VoltDB runs on a JVM, which by
default prefers IPv4 addresses.

The checks and the recommendation are given the `Choice`; nothing recomputes it.
"""

from __future__ import annotations

from dataclasses import dataclass

from probe.datapath.rules import data_path_problems
from probe.facts import Facts
from probe.model import FAMILIES, Family, ProbeState, format_endpoint


@dataclass(frozen=True)
class Choice:
    """The recommended family (None when no family qualifies) and the sentences why."""

    family: Family | None
    rationale: tuple[str, ...] = ()


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
    if primary is not None:
        rationale.append(f"Both families work; {primary} is the local cluster's primary family.")
        return Choice(primary, tuple(rationale))
    rationale.append(
        "Both families work and no cluster facts name a primary family; IPv4 is chosen "
        "because the JVM that runs VoltDB prefers IPv4 addresses by default."
    )
    return Choice(Family.IPV4, tuple(rationale))
