"""VP1xx: what the local cluster (or host) can do in each family."""

from __future__ import annotations

from collections.abc import Iterable

from probe.checks.registry import Hit, check
from probe.choice import Choice
from probe.facts import Facts
from probe.model import FAMILIES, Severity


@check(
    "VP101",
    "The local cluster cannot allocate Services in a family",
    Severity.WARNING,
    requires=("cluster",),
    remedy=(
        "Do not list this family in ipFamilies: the apiserver rejects the DR Service with "
        '`spec.ipFamilies[0]: Invalid value: "IPv6": not configured on this cluster`. '
        "Adding a Service family to a cluster means adding a service-cluster-ip-range "
        "(or a ServiceCIDR) in that family."
    ),
)
def services_family_missing(facts: Facts, choice: Choice) -> Iterable[Hit]:
    """The cluster's Service CIDRs (or its existing Services) show no range in this
    family, so a Service cannot get a ClusterIP in it. Requesting the family in
    `ipFamilies` fails with `not configured on this cluster`; RequireDualStack fails
    with `this cluster is not configured for dual-stack services`."""
    for family in FAMILIES:
        capability = facts.inventory.families.get(family)
        if capability is not None and capability.services == "no":
            evidence = "; ".join(capability.evidence)
            yield Hit(
                f"the local cluster cannot give Services an {family} address"
                + (f" ({evidence})" if evidence else ""),
                (f"services/{family}",),
            )


@check(
    "VP102",
    "The probing pod has no address in a family",
    Severity.WARNING,
    remedy=(
        "Probes in this family left from an address that is not the Volt pods' own. Run the "
        "probe as the in-cluster Job (k8s/probe-job.yaml) in the Volt namespace so it shares "
        "the pods' network, or read this family's results as unknown."
    ),
)
def probe_pod_family_missing(facts: Facts, choice: Choice) -> Iterable[Hit]:
    """voltprobe stands in for VoltDB's DR client: if the probing pod (or host) has no
    address in a family, probes in that family either cannot leave (no-route) or leave
    from somewhere the Volt pods are not, so they say nothing about what the Volt pods
    can reach."""
    inv = facts.inventory
    if not inv.pod_families:
        return
    where = "probing pod" if inv.source != "host" else "probing host"
    for family in FAMILIES:
        if family not in inv.pod_families:
            yield Hit(
                f"the {where} has no {family} address (from {inv.pod_families_source or 'unknown'})",
                (f"pod/{inv.probe_pod.name}" if inv.probe_pod else "host",),
            )


@check(
    "VP103",
    "A local family capability is unknown",
    Severity.INFO,
    requires=("cluster",),
    remedy=(
        "Grant the optional read access in k8s/probe-clusterrole.yaml (nodes, servicecidrs) "
        "so voltprobe can tell; until then the recommendation does not rule the family out."
    ),
)
def capability_unknown(facts: Facts, choice: Choice) -> Iterable[Hit]:
    """voltprobe could not tell whether the local cluster supports a family for
    Services (no ServiceCIDR access, no dual-stack Service to look at) or pods.
    Unknown never rules a family out; it only lowers confidence."""
    for family in FAMILIES:
        capability = facts.inventory.families.get(family)
        if capability is None:
            continue
        unknown = [
            name
            for name, value in (("pods", capability.pods), ("services", capability.services))
            if value == "unknown"
        ]
        if unknown:
            yield Hit(f"{family} support for {' and '.join(unknown)} is unknown", (family.value,))


@check(
    "VP104",
    "A Kubernetes API read failed",
    Severity.ERROR,
    remedy="Grant the missing read access (the finding names the RBAC rule), or run with --no-kube.",
)
def api_problems(facts: Facts, choice: Choice) -> Iterable[Hit]:
    """voltprobe reads pods, Services and EndpointSlices in the Volt namespace, and
    optionally nodes and ServiceCIDRs. A failed read leaves a gap in the local facts
    (the network check goes on). Cluster-scoped reads are optional: their failure
    is only a warning."""
    for problem in facts.inventory.problems:
        where = f" in namespace {problem.namespace}" if problem.namespace else ""
        status = f"HTTP {problem.status} {problem.reason}" if problem.status else problem.reason
        message = f"{problem.verb} {problem.resource}{where} failed: {status}: {problem.message}"
        remedy = (
            f"Grant the rule {problem.rule}"
            if problem.rule
            else "Check the API server address, credentials and network path."
        )
        yield Hit(
            message,
            (f"{problem.verb} {problem.resource}",),
            severity=Severity.WARNING if problem.cluster_scoped else Severity.ERROR,
            remedy=remedy,
        )


@check(
    "VP105",
    "No Kubernetes facts",
    Severity.INFO,
    remedy=(
        "Run the check as the in-cluster Job, or pass --kubeconfig/--context, so the "
        "recommendation accounts for the local cluster's families."
    ),
)
def no_cluster(facts: Facts, choice: Choice) -> Iterable[Hit]:
    """Without the Kubernetes API voltprobe cannot see the local pods' and Services'
    families; it falls back to this host's interfaces and, when both families work,
    recommends IPv4 (the JVM's default preference)."""
    if not facts.inventory.available:
        kube = facts.options.kube
        asked = kube.enabled and bool(kube.kubeconfig or kube.context)
        yield Hit(
            f"Kubernetes not used: {facts.inventory.reason}",
            ("kubernetes",),
            # a --kubeconfig or --context that leads nowhere is likely a typo: say it louder
            severity=Severity.WARNING if asked else None,
        )
