"""VP4xx: the local DR Services, their EndpointSlices, load balancers and node ports."""

from __future__ import annotations

from collections.abc import Iterable

from probe.checks.registry import Hit, check
from probe.choice import Choice
from probe.facts import Facts
from probe.inventory.types import LoadBalancerIngress, ServiceInfo
from probe.model import Family, ProbeState, Severity
from probe.recommend import helm_key, old_chart


def _subject(svc: ServiceInfo) -> str:
    return f"service/{svc.namespace}/{svc.name}"


def _services_evidence(facts: Facts, family: Family) -> str:
    capability = facts.inventory.families.get(family)
    found = [e for e in (capability.evidence if capability else ()) if e.startswith("services:")]
    return found[0].removeprefix("services: ") if found else "no evidence recorded"


def _families(svc: ServiceInfo) -> str:
    return ", ".join(f.value for f in svc.ip_families)


@check(
    "VP401",
    "The DR Service's primary family differs from the recommended one",
    Severity.WARNING,
    requires=("dr-services", "recommendation"),
    remedy=(
        "Delete the DR Service(s) and let helm upgrade recreate them with the new ipFamilies "
        "(kubectl delete service NAME, then helm upgrade -f values.yaml): `helm upgrade` alone "
        "fails with `spec.ipFamilies[0]: Invalid value: ...: may not change once set`."
    ),
)
def primary_family_mismatch(facts: Facts, choice: Choice) -> Iterable[Hit]:
    """A Service's primary family (the first entry of ipFamilies) can never change
    once set: the apiserver rejects the update with `may not change once set`. A
    DR Service in another primary family than the recommended one therefore has to be
    recreated, not patched. Deleting a Service is destructive: the advice is given only
    on positive evidence that the cluster can allocate the new family (a Ready
    ServiceCIDR, an existing ClusterIP, or a server-side dry-run); otherwise the finding
    says what is unknown and how to settle it."""
    family = choice.family
    if family is None:
        return
    mismatched = [
        s for s in facts.inventory.dr_services if s.ip_families and s.ip_families[0] is not family
    ]
    if not mismatched:
        return
    names = ", ".join(f"{s.namespace}/{s.name}" for s in mismatched)
    described = "; ".join(
        f"{s.namespace}/{s.name} is {s.ip_family_policy or 'SingleStack'} [{_families(s)}]"
        for s in mismatched
    )
    capability = facts.inventory.families.get(family)
    why = _services_evidence(facts, family)
    if capability is None or not capability.services_positive:
        yield Hit(
            f"{described}, but {family} is recommended; nothing shows this cluster can allocate an "
            f"{family} Service ({why}), so do not delete them yet",
            tuple(_subject(s) for s in mismatched),
            severity=Severity.INFO,
            remedy=(
                f"Settle whether {family} can be allocated first: grant `list servicecidrs` "
                "(k8s/probe-clusterrole.yaml) or rerun with --dry-run-service (a server-side "
                "dry-run create; needs `create services`, persists nothing)."
            ),
        )
        return
    old = old_chart(facts)
    if old is not None:
        # chart 1.3.x has no ipFamilies key: recreating through helm would bring back the
        # same family, so the advice names the Service spec instead of values
        yield Hit(
            f"{described}, but {family} is recommended; the chart ({old}) has no ipFamilies "
            f"key, so {names} must get ipFamilies [{family}] through the chart's Service "
            "override before being recreated",
            tuple(_subject(s) for s in mismatched),
            remedy=(
                f"Set spec.ipFamilies [{family}] in the chart's DR Service override "
                "(cluster.serviceSpec.dr.override), then delete the Service(s) and helm upgrade; "
                "or upgrade to a chart with cluster.serviceSpec.dr.ipFamilies."
            ),
        )
        return
    keys = helm_key(facts)
    yield Hit(
        f"{described}, but {family} is recommended ({capability.services_rung}: "
        f"{why}); recreate {names} with "
        f"{keys}: [{family}]",
        tuple(_subject(s) for s in mismatched),
        remedy=(
            f"Delete {names} (kubectl delete service NAME) and let helm upgrade -f values.yaml "
            f"recreate them with {keys} set: `helm upgrade` alone fails with "
            "`spec.ipFamilies[0]: Invalid value: ...: may not change once set`."
        ),
    )


@check(
    "VP402",
    "A DR Service has no ready endpoints in one of its families",
    Severity.WARNING,
    requires=("endpoint-slices",),
    remedy=(
        "The pods behind the Service have no address in that family (single-stack pods "
        "behind a Service of that family), or none of them is ready. Peers dialling that "
        "family reach nothing: give the pods that family, or stop listing it in ipFamilies."
    ),
)
def empty_family_slice(facts: Facts, choice: Choice) -> Iterable[Hit]:
    """The EndpointSlice controller writes slices per family in the Service's
    ipFamilies, each filled from the pods' status.podIPs of that family. No ready
    endpoint in one family means the pods lack it or are not ready. A Service with no
    slice at all (the controller has not written any) is not judged. Skipped when the
    slices could not be read."""
    inv = facts.inventory
    for svc in inv.dr_services:
        mine = [
            s for s in inv.endpoint_slices if s.service == svc.name and s.namespace == svc.namespace
        ]
        if not mine:
            continue
        for family in svc.ip_families:
            ready = [s for s in mine if s.address_type == family.value and s.addresses and s.ready]
            if ready:
                continue
            capability = inv.families.get(family)
            pods_lack = capability is not None and capability.pods == "no"
            if len(svc.ip_families) > 1 and pods_lack:
                remedy = (
                    f"The pods have no {family} address: set ipFamilyPolicy SingleStack with "
                    f"ipFamilies [{', '.join(f.value for f in svc.ip_families if f is not family)}] "
                    f"(the remaining family is already allocated), or give the pods {family}."
                )
            elif pods_lack:
                # recreating is destructive: offer it only for a family the pods have and
                # the cluster can allocate on positive evidence (unknown is not yes)
                others = [
                    f
                    for f, cap in inv.families.items()
                    if f is not family and cap.pods == "yes" and cap.services == "yes"
                ]
                if others:
                    remedy = (
                        f"The pods have no {family} address, so this single-stack Service serves "
                        f"nothing: give the pods {family}, or recreate the Service in "
                        f"{others[0]} (see VP401)."
                    )
                else:
                    remedy = (
                        f"The pods have no {family} address, so this single-stack Service serves "
                        f"nothing: give the pods {family}. Whether the cluster can allocate a "
                        "Service in another family is unknown: settle that first (grant `list "
                        "servicecidrs`, or run with --dry-run-service) before recreating anything."
                    )
            else:
                remedy = "The pods have the family but no ready endpoint: check their readiness."
            kind = "dual-stack" if len(svc.ip_families) > 1 else "single-stack"
            yield Hit(
                f"DR Service {svc.namespace}/{svc.name} is {kind} [{_families(svc)}] but has no "
                f"ready {family} endpoints",
                (_subject(svc), family.value),
                remedy=remedy,
            )


def _probed_open(facts: Facts, ingress: LoadBalancerIngress) -> bool:
    """A probe showed this ingress address answers (only then a suspect ingress counts)."""
    return any(
        r.address == ingress.ip and r.state is ProbeState.OPEN for r in facts.probes if ingress.ip
    )


@check(
    "VP403",
    "A DR load balancer has no ingress address in the recommended family",
    Severity.WARNING,
    requires=("dr-services", "recommendation"),
    remedy=(
        "Make the load balancer dual-stack or of the recommended family (AWS: annotation "
        "service.beta.kubernetes.io/aws-load-balancer-ip-address-type: dualstack; AKS 1.27+: "
        "PreferDualStack), then check that its hostname has a record in that family."
    ),
)
def lb_family_missing(facts: Facts, choice: Choice) -> Iterable[Hit]:
    """The peer dials this cluster's DR load balancer. If the LB has no ingress in the
    recommended family (an IP of that family, or a hostname resolving to one, as AWS
    NLBs report), the peer cannot reach this side in that family. An ingress in a family
    the Service does not have (VP404) counts only when a probe showed it answers."""
    family = choice.family
    for svc in facts.inventory.dr_services:
        if svc.type != "LoadBalancer":
            continue
        families: set[Family] = set()
        for ingress in svc.lb_ingress:
            for f in ingress.families:
                if f in svc.ip_families or _probed_open(facts, ingress):
                    families.add(f)
        if family not in families:
            shown = ", ".join(i.ip or i.hostname or "?" for i in svc.lb_ingress) or "none yet"
            yield Hit(
                f"load balancer of {svc.namespace}/{svc.name} has no {family} ingress "
                f"(ingress: {shown})",
                (_subject(svc),),
            )


@check(
    "VP404",
    "A DR load balancer advertises an ingress in a family the Service does not have",
    Severity.WARNING,
    requires=("dr-services",),
    remedy=(
        "Do not give this address to the peer until it is proven: k3s ServiceLB advertises "
        "node addresses it does not forward, while some cloud load balancers (an AWS NLB with "
        "ip-address-type dualstack) do translate families. Probe the address from the peer "
        "cluster (voltprobe check --peer ADDRESS there); if the family is wanted, give the "
        "Service that family in ipFamilies."
    ),
)
def lb_ingress_wrong_family(facts: Facts, choice: Choice) -> Iterable[Hit]:
    """kube-proxy programs a Service only in its own ipFamilies. A load-balancer ingress
    in another family is suspect (k3s ServiceLB advertises the node's IPv6 for an IPv4
    Service and does not forward it); some cloud load balancers do translate families,
    so it counts only when a probe shows it answers."""
    for svc in facts.inventory.dr_services:
        if svc.type != "LoadBalancer":
            continue
        for ingress in svc.lb_ingress:
            odd = [f for f in ingress.families if f not in svc.ip_families]
            if odd:
                shown = ingress.ip or ingress.hostname or "?"
                works = " (a probe showed it answers)" if _probed_open(facts, ingress) else ""
                yield Hit(
                    f"load balancer of {svc.namespace}/{svc.name} advertises {shown} "
                    f"({', '.join(f.value for f in odd)}) but the Service is "
                    f"[{_families(svc)}]: suspect, not counted{works}",
                    (_subject(svc), *(f.value for f in odd)),
                )


@check(
    "VP405",
    "No node address can serve a NodePort DR Service in a family",
    Severity.WARNING,
    requires=("dr-services",),
    remedy=(
        "A peer reaches a NodePort only through the nodes' InternalIP/ExternalIP addresses. "
        "Give the nodes an address in this family (kubelet --node-ip with both families), "
        "or use the other family for XDCR."
    ),
)
def nodeport_family_unserved(facts: Facts, choice: Choice) -> Iterable[Hit]:
    """A NodePort DR Service in a family no node has an InternalIP/ExternalIP in cannot
    be reached by the peer in that family, whatever the Service's ipFamilies say."""
    for reach in facts.inventory.dr_reach:
        if reach.rung == "node-addresses" and reach.value == "no":
            yield Hit(
                f"NodePort DR Service {reach.service} lists {reach.family} but {reach.evidence}: "
                f"a peer cannot reach it over {reach.family}",
                (f"service/{reach.service}", reach.family.value),
            )
        elif reach.rung == "node-addresses" and reach.value == "unknown":
            # unknown is not yes: say so where the answer hangs on it
            yield Hit(
                f"NodePort DR Service {reach.service}: whether a node has an {reach.family} "
                f"address to serve it is unknown ({reach.evidence})",
                (f"service/{reach.service}", reach.family.value),
                severity=Severity.INFO if reach.family is not choice.family else None,
                remedy=(
                    "Grant `list nodes` (k8s/probe-clusterrole.yaml, or job run --cluster-read) "
                    "so voltprobe can read the node addresses a peer dials a NodePort through."
                ),
            )
