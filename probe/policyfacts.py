"""The Volt pods' NetworkPolicies as the family choice and the policy checks read them.

`policy_facts(facts)` turns one run's `Facts` (the inventory's policies and Volt pods,
the probed peer endpoints) into the evaluator's `PolicyFacts`; `policy_problems` says,
per family, which of the Volt pods' DR connections a policy drops. The probing Job does
not carry the Volt pods' labels, so its own `open` says nothing about these.
(https://kubernetes.io/docs/concepts/services-networking/network-policies/)
"""

from __future__ import annotations

from probe.facts import Facts
from probe.model import FAMILIES, Family, format_endpoint
from probe.policies import Direction, PolicyFacts, PolicyPod, Verdict, summarize

# a peer reaches these Service types through node or load-balancer addresses, which
# may rewrite the source (externalTrafficPolicy: Cluster), so ingress may be undecidable
REWRITING_TYPES = ("NodePort", "LoadBalancer")


def policy_facts(facts: Facts, recommended: Family | None = None) -> PolicyFacts | None:
    """The policy view of a run, or None when the policies or the Volt pods were not read."""
    inventory = facts.inventory
    policies = inventory.policies
    if not inventory.available or policies is None or not policies.read:
        return None
    if not inventory.volt_pods:
        return None
    services = inventory.dr_services
    named = tuple(dict.fromkeys(p for pod in inventory.volt_pods for p in pod.named_ports))
    probe = inventory.probe_pod
    peer_families = {row.family for row in facts.probes if row.address}
    pod_families = {f for pod in inventory.volt_pods for f in pod.families}
    return PolicyFacts(
        namespace=inventory.namespace or "default",
        policies=policies.policies,
        volt_pods=tuple(PolicyPod(p.name, dict(p.labels)) for p in inventory.volt_pods),
        selector=_volt_selector(facts),
        families=tuple(f for f in FAMILIES if f in peer_families | pod_families),
        egress=tuple(dict.fromkeys((r.address, r.port) for r in facts.probes if r.address)),
        ingress_port=_target_port(facts),
        ingress_sources=facts.options.peer_sources,
        ingress_rewritten=any(
            s.type in REWRITING_TYPES and s.external_traffic_policy != "Local" for s in services
        ),
        named_ports=named or None,
        probe_pod=PolicyPod(probe.name, dict(probe.labels)) if probe else None,
        recommended=recommended,
        unevaluated=policies.unevaluated,
    )


def _volt_selector(facts: Facts) -> dict[str, str]:
    """Labels that select every Volt pod (the remedy's podSelector): the cluster-wide DR
    Service's selector, else the labels all Volt pods share (a per-pod Service selects
    one pod only)."""
    inventory = facts.inventory
    for service in inventory.dr_services:
        if not service.per_pod and service.selector:
            return dict(service.selector)
    shared = [set(pod.labels) for pod in inventory.volt_pods]
    common = set.intersection(*shared) if shared else set()
    return dict(sorted(common))


def _target_port(facts: Facts) -> int | None:
    """The Volt pods' DR port: the DR Services' targetPort for the DR port (a number, or a
    name the pods define), else the Service port; None when no DR Service was read."""
    dr_port = facts.options.port
    for service in facts.inventory.dr_services:
        ports = sorted(service.ports, key=lambda p: p.port != dr_port)  # the DR port first
        for port in ports:
            target = port.target_port
            if target and target.isdigit():
                return int(target)
            for pod in facts.inventory.volt_pods:
                for named in pod.named_ports:
                    if named.name == target:
                        return named.port
            return port.port
    return None


def policy_problems(facts: Facts, family: Family) -> list[str]:
    """Why `family` cannot carry the Volt pods' DR traffic by NetworkPolicy: each entry
    names the dropped connections (egress to the peer's endpoints; ingress on the DR port
    from the peer's addresses, or from anywhere in the family when they are unknown) and
    the policies that isolate the pods. Empty when nothing is dropped, or when the
    policies could not be read (unknown is not a no)."""
    view = policy_facts(facts)
    if view is None:
        return []
    directions: list[tuple[Direction, list[tuple[str | None, int]]]] = [
        (Direction.EGRESS, list(view.egress))
    ]
    if view.ingress_port is not None:
        sources: list[str | None] = list(view.ingress_sources) or [None]
        directions.append((Direction.INGRESS, [(s, view.ingress_port) for s in sources]))
    problems = []
    for direction, endpoints in directions:
        dropped: list[str] = []
        isolating: list[str] = []
        for pod in view.volt_pods:
            summary = summarize(
                view.policy_set,
                pod.labels,
                direction,
                family,
                endpoints,
                rewritten=direction is Direction.INGRESS and view.ingress_rewritten,
                named_ports=view.named_ports,
            )
            for decision in summary.decisions:
                if decision.verdict is Verdict.DENIED:
                    remote, port = decision.query.remote, decision.query.port
                    dropped.append(format_endpoint(remote, port) if remote else f"port {port}")
                    isolating.extend(decision.isolating)
        if dropped:
            shown = list(dict.fromkeys(dropped))
            text = ", ".join(shown[:3]) + (f" and {len(shown) - 3} more" if len(shown) > 3 else "")
            where = f"egress to {text}" if direction is Direction.EGRESS else f"ingress from {text}"
            by = ", ".join(dict.fromkeys(isolating))
            problems.append(
                f"NetworkPolicy drops the Volt pods' {family} {where} (isolated by {by})"
            )
    return problems
