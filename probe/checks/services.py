"""VP4xx: the local DR Services, their EndpointSlices and load balancers."""

from __future__ import annotations

from collections.abc import Iterable

from probe.checks.registry import Hit, check
from probe.choice import Choice
from probe.facts import Facts
from probe.model import Family, Severity


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
    SingleStack DR Service in another family than the recommended one therefore has
    to be recreated, not patched."""
    family = choice.family
    for svc in facts.inventory.dr_services:
        if svc.ip_families and svc.ip_families[0] is not family:
            policy = svc.ip_family_policy or "SingleStack"
            yield Hit(
                f"DR Service {svc.namespace}/{svc.name} is {policy} "
                f"[{', '.join(f.value for f in svc.ip_families)}] but {family} is recommended",
                (f"service/{svc.namespace}/{svc.name}",),
            )


@check(
    "VP402",
    "A dual-stack DR Service has no endpoints in one family",
    Severity.WARNING,
    requires=("dr-services",),
    remedy=(
        "The pods behind the Service have no address in that family (single-stack pods "
        "behind a dual-stack Service). Peers dialling that family reach nothing: remove the "
        "family from ipFamilies or give the pods that family."
    ),
)
def empty_family_slice(facts: Facts, choice: Choice) -> Iterable[Hit]:
    """The EndpointSlice controller writes one slice per family in the Service's
    ipFamilies, each filled from the pods' addresses of that family. An empty slice in
    one family on a dual-stack Service means the pods lack that family."""
    for svc in facts.inventory.dr_services:
        if len(svc.ip_families) < 2:
            continue
        for family in svc.ip_families:
            addresses = [
                a
                for s in facts.inventory.endpoint_slices
                if s.service == svc.name
                and s.namespace == svc.namespace
                and s.address_type == family.value
                for a in s.addresses
            ]
            if not addresses:
                yield Hit(
                    f"DR Service {svc.namespace}/{svc.name} is dual-stack but has no "
                    f"{family} endpoints",
                    (f"service/{svc.namespace}/{svc.name}", family.value),
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
    NLBs report), the peer cannot reach this side in that family."""
    family = choice.family
    for svc in facts.inventory.dr_services:
        if svc.type != "LoadBalancer":
            continue
        families = {i.family for i in svc.lb_ingress if i.family}
        for ingress in svc.lb_ingress:
            families.update(Family.of(a) for a in ingress.resolved)
        if family not in families:
            shown = ", ".join(i.ip or i.hostname or "?" for i in svc.lb_ingress) or "none yet"
            yield Hit(
                f"load balancer of {svc.namespace}/{svc.name} has no {family} ingress "
                f"(ingress: {shown})",
                (f"service/{svc.namespace}/{svc.name}",),
            )
