"""VP111-VP115: NetworkPolicies as the Volt pods meet them, one family at a time.

Pure functions of one `PolicyFacts` value (plain data: the policy wire dicts, the Volt
pods' labels, the peer's DR endpoints), each returning Hits. They are not registered
yet: `Facts` does not carry PolicyFacts. Wiring is one `@check(SPEC.id, ...)` wrapper
per entry of `SPECS` that builds PolicyFacts from Facts (see the module's end).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from probe.checks.registry import DEFAULT_REGISTRY, Hit, Registry
from probe.choice import Choice
from probe.facts import Facts
from probe.model import Family, Severity, format_endpoint
from probe.policies import (
    Decision,
    Direction,
    Policy,
    PolicyFacts,
    PolicyPod,
    Verdict,
    remedy_policy,
    remedy_yaml,
    summarize,
)
from probe.policyfacts import policy_facts

Obj = dict[str, Any]


@dataclass(frozen=True)
class _Outcome:
    """One direction and family over every Volt pod and every endpoint."""

    direction: Direction
    family: Family
    decisions: tuple[tuple[PolicyPod, Decision], ...]

    def where(self, *verdicts: Verdict) -> list[tuple[PolicyPod, Decision]]:
        return [(p, d) for p, d in self.decisions if d.verdict in verdicts]


def _endpoints(facts: PolicyFacts, direction: Direction) -> list[tuple[str | None, int]]:
    if direction is Direction.EGRESS:
        return [(r, p) for r, p in facts.egress]
    if facts.ingress_port is None:
        return []
    sources: list[str | None] = list(facts.ingress_sources) or [None]
    return [(s, facts.ingress_port) for s in sources]


def _outcomes(facts: PolicyFacts) -> Iterable[_Outcome]:
    for direction in (Direction.EGRESS, Direction.INGRESS):
        endpoints = _endpoints(facts, direction)
        if not endpoints:
            continue
        for family in facts.families:
            # Unknown sources (None) stand for every family in use.
            if not any(r is None or _family(r) is family for r, _ in endpoints):
                continue
            decisions = [
                (pod, d)
                for pod in facts.volt_pods
                for d in summarize(
                    facts.policy_set,
                    pod.labels,
                    direction,
                    family,
                    endpoints,
                    rewritten=direction is Direction.INGRESS and facts.ingress_rewritten,
                    named_ports=facts.named_ports,
                ).decisions
            ]
            yield _Outcome(direction, family, tuple(decisions))


def _family(address: str) -> Family | None:
    try:
        return Family.of(address.split("/")[0])
    except ValueError:
        return None


def _where(d: Decision) -> str:
    remote = d.query.remote or "any address"
    if d.query.direction is Direction.EGRESS:
        return f"to {format_endpoint(remote, d.query.port)}"
    return f"from {remote} on port {d.query.port}"


def _pods(rows: list[tuple[PolicyPod, Decision]], limit: int = 4) -> str:
    names = sorted({p.name for p, _ in rows})
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _connections(rows: list[tuple[PolicyPod, Decision]], limit: int = 4) -> str:
    seen = list(dict.fromkeys(_where(d) for _, d in rows))
    more = f" and {len(seen) - limit} more" if len(seen) > limit else ""
    return ", ".join(seen[:limit]) + more


def _remedy(facts: PolicyFacts, outcome: _Outcome, rows: list[tuple[PolicyPod, Decision]]) -> str:
    remotes = [d.query.remote for _, d in rows if d.query.remote]
    policy = remedy_policy(
        outcome.direction,
        outcome.family,
        remotes,
        [d.query.port for _, d in rows],
        facts.selector,
        namespace=facts.namespace,
    )
    return (
        f"Add a NetworkPolicy that allows {outcome.family} {outcome.direction} on the DR port "
        "for the Volt pods (policies add up; this one changes nothing else). Apply with "
        "`kubectl apply -f -`, or add the same rule to your chart's policy:\n" + remedy_yaml(policy)
    )


def _severity(facts: PolicyFacts, family: Family) -> Severity:
    """ERROR when the blocked family decides the verdict: it is the recommended one, or
    nothing is recommended; WARNING when the verdict picks the other family anyway."""
    if facts.recommended is None or facts.recommended is family:
        return Severity.ERROR
    return Severity.WARNING


# -- the checks -----------------------------------------------------------------------


def blocked_family(facts: PolicyFacts) -> Iterable[Hit]:
    """NetworkPolicy decides per family: an ipBlock CIDR has one family, so a policy
    that allows 0.0.0.0/0 and not ::/0 drops IPv6 for the pods it selects. The probing
    Job does not carry the Volt pods' labels, so its probe can pass while the Volt
    pods' own DR connections are dropped."""
    for outcome in _outcomes(facts):
        denied = outcome.where(Verdict.DENIED)
        if not denied:
            continue
        isolating = list(dict.fromkeys(p for _, d in denied for p in d.isolating))
        yield Hit(
            f"{outcome.family} {outcome.direction} of the Volt pods {_connections(denied)} is "
            f"dropped by NetworkPolicy (pods {_pods(denied)}): isolated by "
            f"{', '.join(isolating)}, and no rule allows it",
            tuple(f"networkpolicy/{p}" for p in isolating),
            severity=_severity(facts, outcome.family),
            remedy=_remedy(facts, outcome, denied),
        )


def one_family_ipblock(facts: PolicyFacts) -> Iterable[Hit]:
    """A rule whose peers are ipBlocks of one family only allows nothing of the other
    family. Where both families are in use, the other family needs its own ipBlock
    (::/0 beside 0.0.0.0/0, or the peer's addresses of that family)."""
    if len(set(facts.families)) < 2:
        return
    ports = {p for _, p in facts.egress} | (
        {facts.ingress_port} if facts.ingress_port is not None else set()
    )
    decoded = facts.policy_set.policies
    blocked = {(o.direction, o.family) for o in _outcomes(facts) if o.where(Verdict.DENIED)}
    for policy in decoded:
        if not any(policy.pod_selector.matches(p.labels) for p in facts.volt_pods):
            continue
        for direction in policy.types:
            for index, family in _one_family_rules(policy, direction, ports):
                other = Family.IPV6 if family is Family.IPV4 else Family.IPV4
                hurts = (direction, other) in blocked
                yield Hit(
                    f"{policy.ref} spec.{direction.rules_field}[{index}] allows the DR port for "
                    f"{family} addresses only; {other} {direction} "
                    + ("is dropped (see VP111)" if hurts else "passes through another rule"),
                    (f"networkpolicy/{policy.ref}",),
                    severity=Severity.WARNING if hurts else Severity.INFO,
                )


def _one_family_rules(
    policy: Policy, direction: Direction, ports: set[int]
) -> Iterable[tuple[int, Family]]:
    """(rule index, family) of the rules covering a DR port whose peers are ipBlocks of
    one family only."""
    for index, rule in enumerate(policy.rules(direction)):
        blocks = [p.ip_block for p in rule.peers if p.ip_block is not None]
        if not blocks or len(blocks) != len(rule.peers):
            continue
        families = {b.family for b in blocks}
        if len(families) != 1:
            continue
        covers = not rule.ports or any(
            s.port is None or (isinstance(s.port, int) and s.port <= p <= (s.end_port or s.port))
            for s in rule.ports
            for p in ports
        )
        if covers:
            yield index, next(iter(families))


def probe_not_like_volt(facts: PolicyFacts) -> Iterable[Hit]:
    """The in-cluster Job probes from its own pod. NetworkPolicies select pods by label,
    and the Job's labels are not the Volt pods', so the policies that isolate the Volt
    pods may not apply to the Job (or others may): its `open` then says nothing about
    what the Volt pods can reach."""
    if facts.probe_pod is None or not facts.volt_pods:
        return
    probe = facts.probe_pod
    for family in facts.families:
        endpoints: list[tuple[str | None, int]] = [
            (r, p) for r, p in facts.egress if _family(r) is family
        ]
        if not endpoints:
            continue
        mine = summarize(facts.policy_set, probe.labels, Direction.EGRESS, family, endpoints)
        differing: list[str] = []
        passes_differ = False
        for pod in facts.volt_pods:
            theirs = summarize(facts.policy_set, pod.labels, Direction.EGRESS, family, endpoints)
            passes_differ = passes_differ or mine.passes != theirs.passes
            for a, b in zip(mine.decisions, theirs.decisions, strict=True):
                if a.passes != b.passes or a.isolating != b.isolating:
                    differing.append(
                        f"{_where(a)}: the Job's pod {a.verdict}{_by(a)}, "
                        f"Volt pod {pod.name} {b.verdict}{_by(b)}"
                    )
        if differing:
            more = f" and {len(differing) - 3} more" if len(differing) > 3 else ""
            yield Hit(
                f"{family} egress: the probing Job's pod {probe.name} is not subject to the "
                f"same NetworkPolicies as the Volt pods: {'; '.join(differing[:3])}{more}",
                (f"pod/{facts.namespace}/{probe.name}",),
                severity=Severity.WARNING if passes_differ else Severity.INFO,
            )


def _by(d: Decision) -> str:
    if d.rule is not None and d.verdict is Verdict.ALLOWED:
        return f" by {d.rule}"
    if d.isolating:
        return f" (isolated by {', '.join(d.isolating)})"
    return ""


def undecided(facts: PolicyFacts) -> Iterable[Hit]:
    """Some connections cannot be decided from the policies alone: the source of
    traffic through a NodePort or load balancer may be rewritten before or after policy
    processing (the network plugin decides), a remote address or a port name is not
    known, or a policy object could not be read."""
    for outcome in _outcomes(facts):
        rows = outcome.where(Verdict.DEPENDS_ON_PLUGIN, Verdict.UNDETERMINED, Verdict.INVALID)
        if not rows:
            continue
        first = rows[0][1]
        yield Hit(
            f"{outcome.family} {outcome.direction} of the Volt pods {_connections(rows)}: "
            f"{first.verdict}: {first.reason}",
            tuple(dict.fromkeys(f"networkpolicy/{p}" for _, d in rows for p in d.isolating)),
        )


def unevaluated_kinds(facts: PolicyFacts) -> Iterable[Hit]:
    """Only networking.k8s.io NetworkPolicy is evaluated. AdminNetworkPolicy (applied
    before NetworkPolicy), Calico, Cilium and Antrea policies, OVN-Kubernetes
    EgressFirewall and MultiNetworkPolicy (on Multus interfaces) can drop DR traffic
    too; the cluster serves them, so check them by hand."""
    if facts.unevaluated:
        yield Hit(
            "the cluster serves policy kinds voltprobe does not evaluate: "
            + ", ".join(facts.unevaluated),
            tuple(facts.unevaluated),
        )


def decisions_per_family(facts: PolicyFacts) -> Iterable[Hit]:
    """For each direction and family the Volt pods' DR traffic takes, how NetworkPolicy
    decides it: allowed (by which rule), not isolated (no policy selects the pods for that
    direction), dropped (by which isolating policies), or not decidable. The evidence
    behind VP111-VP114, one line per direction and family, for the report and its JSON
    (nothing when the namespace has no NetworkPolicy: then nothing is isolated)."""
    if not facts.policies:
        return
    for outcome in _outcomes(facts):
        verdicts: dict[str, list[str]] = {}
        for _, decision in outcome.decisions:
            if decision.verdict is Verdict.ALLOWED and decision.rule is not None:
                why = f"allowed by {decision.rule}"
            elif decision.verdict is Verdict.DENIED:
                why = f"dropped: isolated by {', '.join(decision.isolating)}"
            else:
                why = str(decision.verdict)
            verdicts.setdefault(why, []).append(_where(decision))
        text = "; ".join(
            f"{why} ({', '.join(list(dict.fromkeys(where))[:2])})"
            for why, where in verdicts.items()
        )
        yield Hit(f"{outcome.family} {outcome.direction}: {text}", (str(outcome.family),))


@dataclass(frozen=True)
class PolicyCheck:
    """What `registry.check` needs to register one of these checks."""

    id: str
    title: str
    severity: Severity
    func: Callable[[PolicyFacts], Iterable[Hit]]
    remedy: str = ""


SPECS: tuple[PolicyCheck, ...] = (
    PolicyCheck(
        "VP116",
        "How NetworkPolicy decides each family of the Volt pods' DR traffic",
        Severity.INFO,
        decisions_per_family,
        remedy="Nothing to do: the evidence behind VP111-VP114.",
    ),
    PolicyCheck(
        "VP111",
        "NetworkPolicy drops a family's DR traffic for the Volt pods",
        Severity.ERROR,
        blocked_family,
        remedy=(
            "Add a NetworkPolicy that allows the family on the DR port for the Volt pods "
            "(the finding shows it in YAML; policies add up, so it changes nothing else)."
        ),
    ),
    PolicyCheck(
        "VP112",
        "A NetworkPolicy rule allows the DR port for one family only",
        Severity.WARNING,
        one_family_ipblock,
        remedy=(
            "Give the rule an ipBlock of the other family too (::/0 beside 0.0.0.0/0, or the "
            "peer's addresses of that family): a CIDR never covers the other family."
        ),
    ),
    PolicyCheck(
        "VP113",
        "The probing Job is not subject to the Volt pods' NetworkPolicies",
        Severity.WARNING,
        probe_not_like_volt,
        remedy=(
            "Read the Volt pods' verdict in the policies section, not the Job's probe; or "
            "probe from a Volt pod's own network (`voltprobe job run --from-volt-pod`)."
        ),
    ),
    PolicyCheck(
        "VP114",
        "NetworkPolicy cannot decide a family's DR traffic",
        Severity.INFO,
        undecided,
        remedy=(
            "Use externalTrafficPolicy: Local on the peer-facing Service to keep the source "
            "address, or allow the whole family on the DR port; pass --peer-report so the "
            "peer's addresses are known."
        ),
    ),
    PolicyCheck(
        "VP115",
        "Policy kinds voltprobe does not evaluate are served",
        Severity.INFO,
        unevaluated_kinds,
        remedy=(
            "Check those policies for the Volt pods' DR port in both families by hand "
            "(kubectl get <kind> -A)."
        ),
    ),
)


def register(registry: Registry) -> None:
    """Register every entry of SPECS: each builds the PolicyFacts of the run, given the
    recommended family (which decides whether a dropped family is an error)."""
    for spec in SPECS:

        def run(facts: Facts, choice: Choice, spec: PolicyCheck = spec) -> Iterable[Hit]:
            view = policy_facts(facts, choice.family)
            return spec.func(view) if view is not None else ()

        run.__doc__ = spec.func.__doc__
        registry.check(
            spec.id, spec.title, spec.severity, requires=("policies",), remedy=spec.remedy
        )(run)


register(DEFAULT_REGISTRY)
