"""The evidence ladders: what the local cluster can do in each family. Pure functions.

Four questions, each answered from the strongest evidence read; a rung that has an
answer decides, and the rungs below it are not consulted (weaker evidence never
overrules stronger). Each answer records its rung (README, "Evidence ladder").

1. Can the Volt pods use family F?        volt-pods > probe-pod > POD_IPS > node-podCIDRs
   (Service endpoints come from status.podIPs only: Multus secondaries never count.)
2. Can this cluster allocate a Service in F?  dry-run > servicecidr > clusterip
   (only these give "yes"; only a dry-run or a readable, parseable ServiceCIDR list give "no")
3. Which family is primary?  servicecidr-kubernetes > only-family > kubernetes-service >
   KUBERNETES_SERVICE_HOST > defaulted-services > podIPs-order
4. Can a peer reach this DR Service in F?  by type: lb-ingress (cross-checked with the
   Service's own ipFamilies), node-addresses (NodePort), clusterip/service-export.

"unknown" never rules a family out; the choice stage decides what unknown means.
"""

from __future__ import annotations

from dataclasses import dataclass

from probe.inventory.parse import cidr_family, family_of, kubernetes_cidr_primary
from probe.inventory.types import (
    Decided,
    DrReach,
    DryRun,
    FamilyCapability,
    NodeInfo,
    PodInfo,
    ServiceCidrInfo,
    ServiceInfo,
)
from probe.model import FAMILIES, Family

NODE_IP_TYPES = ("InternalIP", "ExternalIP")


@dataclass(frozen=True)
class Evidence:
    """Everything the ladders may use, as read (None: that read failed or was not made)."""

    pods: tuple[PodInfo, ...] = ()  # the Volt pods (the ones the DR Services select)
    probe_pod: PodInfo | None = None
    downward_ips: tuple[str, ...] = ()  # POD_IPS, when the API could not say
    services: tuple[ServiceInfo, ...] = ()  # every Service read in the namespace
    service_cidrs: tuple[ServiceCidrInfo, ...] | None = None  # None: not readable
    nodes: tuple[NodeInfo, ...] | None = None  # None: not readable
    kubernetes_service: ServiceInfo | None = None  # default/kubernetes, when readable
    service_host: str | None = None  # KUBERNETES_SERVICE_HOST, when running in a pod
    dry_runs: tuple[DryRun, ...] = ()  # --dry-run-service answers


def _names(pods: list[PodInfo]) -> str:
    return ", ".join(p.name for p in pods[:3]) + (
        f" and {len(pods) - 3} more" if len(pods) > 3 else ""
    )


def pods_ladder(family: Family, ev: Evidence) -> Decided:
    """Can the Volt pods use `family`? Their podIPs; then the probing pod's; then POD_IPS;
    node podCIDRs only stand in when no pod address was read (and only for "yes": some
    CNIs do not use podCIDRs, so a missing CIDR says nothing)."""
    read = [p for p in ev.pods if p.ips]
    if read:
        having = [p for p in read if family in p.families]
        lacking = [p for p in read if family not in p.families]
        if having and not lacking:
            return Decided(
                "yes",
                "volt-pods",
                f"pods: {_names(having)} have an {family} address (status.podIPs)",
            )
        if having:
            # every per-node address must work: a Service in `family` would have no
            # endpoint for the pods without one (Service endpoints come from podIPs)
            return Decided(
                "no",
                "volt-pods",
                f"pods: {_names(lacking)} have no {family} address (status.podIPs) while "
                f"{_names(having)} do: a DR Service in {family} would have no endpoint for them",
            )
        secondary = [p for p in read if any(family_of(ip) is family for ip in p.multus)]
        extra = (
            f"; {_names(secondary)} have {family} only on a Multus secondary network, "
            "which a Service never uses"
            if secondary
            else ""
        )
        return Decided(
            "no",
            "volt-pods",
            f"pods: the Volt pods {_names(read)} have no {family} address (status.podIPs){extra}",
        )
    probe = ev.probe_pod
    if probe is not None and probe.ips:
        value = "yes" if family in probe.families else "no"
        verb = "has" if value == "yes" else "has no"
        return Decided(
            value,
            "probe-pod",
            f"pods: the probing pod {probe.name} {verb} an {family} address (no Volt pod address read)",
        )
    if ev.downward_ips:
        fams = {family_of(ip) for ip in ev.downward_ips}
        if fams - {None}:
            value = "yes" if family in fams else "no"
            return Decided(
                value,
                "POD_IPS",
                f"pods: POD_IPS ({','.join(ev.downward_ips)}) {'has' if value == 'yes' else 'has no'} an {family} address",
            )
    cidrs = [c for n in (ev.nodes or ()) for c in n.pod_cidrs if cidr_family(c) is family]
    if cidrs:
        return Decided(
            "yes", "node-podCIDRs", f"pods: no pod address read; node podCIDRs include {cidrs[0]}"
        )
    return Decided("unknown", "", "pods: no pod addresses could be read")


def services_ladder(family: Family, ev: Evidence) -> Decided:
    """Can this cluster allocate a Service in `family`? A server-side dry-run; then the
    Ready ServiceCIDRs (being deleted or not Ready: they do not count; a range that does
    not parse keeps the list from saying "no"); then an existing ClusterIP in the family."""
    for dry in ev.dry_runs:
        if dry.family is family and dry.value != "unknown":
            return Decided(dry.value, "dry-run", f"services: {dry.evidence}")
    if ev.service_cidrs:
        usable = [c for c in ev.service_cidrs if c.usable]
        unusable = [
            c.name
            for c in ev.service_cidrs
            if not c.usable and any(cidr_family(r) is family for r in c.cidrs)
        ]
        aside = (
            f" (ServiceCIDR {', '.join(unusable)} is being deleted or not Ready: not counted)"
            if unusable
            else ""
        )
        matching = [r for c in usable for r in c.cidrs if cidr_family(r) is family]
        if matching:
            return Decided("yes", "servicecidr", f"services: ServiceCIDR {', '.join(matching)}")
        ranges = [r for c in usable for r in c.cidrs]
        unparsed = [r for c in usable for r in c.unparsed]
        if ranges and not unparsed:
            return Decided(
                "no",
                "servicecidr",
                f"services: no Ready {family} ServiceCIDR (ranges: {', '.join(ranges)}){aside}",
            )
    candidates = list(ev.services) + ([ev.kubernetes_service] if ev.kubernetes_service else [])
    with_ip = [s for s in candidates for ip in s.cluster_ips if family_of(ip) is family]
    if with_ip:
        svc = with_ip[0]
        return Decided(
            "yes", "clusterip", f"services: {svc.namespace}/{svc.name} has an {family} ClusterIP"
        )
    if ev.service_cidrs is None:
        why = "ServiceCIDRs not readable"
    elif any(c.unparsed for c in ev.service_cidrs):
        why = "ServiceCIDR ranges that do not parse"
    else:
        why = "no Ready ServiceCIDR"
    return Decided(
        "unknown",
        "",
        f"services: {why}, no dry-run, and no Service with an {family} ClusterIP seen",
    )


def nodes_ladder(family: Family, ev: Evidence) -> Decided:
    if not ev.nodes:
        return Decided(
            "unknown", "", "nodes: not readable" if ev.nodes is None else "nodes: none listed"
        )
    having = [n.name for n in ev.nodes if family in node_families(n)]
    if having:
        return Decided(
            "yes",
            "node-addresses",
            f"nodes: {len(having)} of {len(ev.nodes)} have an {family} address",
        )
    return Decided(
        "no",
        "node-addresses",
        f"nodes: none of {len(ev.nodes)} has an {family} InternalIP/ExternalIP",
    )


def node_families(node: NodeInfo) -> set[Family]:
    return {f for t, a in node.addresses if t in NODE_IP_TYPES and (f := family_of(a)) is not None}


def summarize(ev: Evidence) -> dict[Family, FamilyCapability]:
    result = {}
    for family in FAMILIES:
        pods, services, nodes = (
            pods_ladder(family, ev),
            services_ladder(family, ev),
            nodes_ladder(family, ev),
        )
        result[family] = FamilyCapability(
            pods.value,  # type: ignore[arg-type]
            services.value,  # type: ignore[arg-type]
            nodes.value,  # type: ignore[arg-type]
            (pods.evidence, services.evidence, nodes.evidence),
            pods_rung=pods.rung,
            services_rung=services.rung,
            nodes_rung=nodes.rung,
        )
    return result


def _agreed(families: list[Family]) -> Family | None:
    return families[0] if families and len(set(families)) == 1 else None


def primary_ladder(ev: Evidence, families: dict[Family, FamilyCapability]) -> Decided | None:
    """The cluster's primary Service family (the family of the first service range), or None.

    A Service's ipFamilies say the cluster's default order only when its creator did not
    choose them (managedFields); the Volt chart chooses them when `ipFamilies` is set.
    Pod and Service ranges are ordered separately, so the podIPs order comes last.
    """
    if ev.service_cidrs:
        primary = kubernetes_cidr_primary(list(ev.service_cidrs))
        if primary is not None:
            return Decided(
                primary.value,
                "servicecidr-kubernetes",
                f"the `kubernetes` ServiceCIDR lists an {primary} range first",
            )
    able = [f for f, cap in families.items() if cap.services == "yes"]
    unable = [f for f, cap in families.items() if cap.services == "no"]
    if len(able) == 1 and len(unable) == 1:
        return Decided(
            able[0].value, "only-family", f"the cluster allocates Services only in {able[0]}"
        )
    kube = ev.kubernetes_service
    if kube is not None and kube.ip_families:
        return Decided(
            kube.ip_families[0].value,
            "kubernetes-service",
            f"the default/kubernetes Service is {kube.ip_families[0]} (its ClusterIP comes from the primary range)",
        )
    host_family = family_of(ev.service_host) if ev.service_host else None
    if host_family is not None:
        return Decided(
            host_family.value,
            "KUBERNETES_SERVICE_HOST",
            f"KUBERNETES_SERVICE_HOST ({ev.service_host}) is {host_family} (the kubernetes Service's ClusterIP)",
        )
    defaulted = [s for s in ev.services if s.families_defaulted and s.ip_families]
    agreed = _agreed([s.ip_families[0] for s in defaulted])
    if agreed is not None:
        return Decided(
            agreed.value,
            "defaulted-services",
            f"{len(defaulted)} Service(s) whose creator did not set ipFamilies got {agreed} first (e.g. {defaulted[0].name})",
        )
    dual = [
        p for p in (*ev.pods, *([ev.probe_pod] if ev.probe_pod else [])) if len(p.families) == 2
    ]
    agreed = _agreed([f for p in dual if (f := family_of(p.ips[0])) is not None])
    if agreed is not None:
        return Decided(
            agreed.value,
            "podIPs-order",
            f"the dual-stack pods list {agreed} first in status.podIPs (weakest evidence: pod and Service ranges are ordered separately)",
        )
    return None


def dr_reach(
    services: tuple[ServiceInfo, ...], nodes: tuple[NodeInfo, ...] | None
) -> tuple[DrReach, ...]:
    """How a peer reaches each DR Service in each family.

    LoadBalancer: by its ingress addresses; an ingress in a family the Service does not
    have is "suspect" (ServiceLB advertises node addresses it does not forward).
    NodePort: by the nodes' InternalIP/ExternalIP in a family the Service has.
    ClusterIP: only inside the cluster, unless a ServiceExport exports it.
    """
    result: list[DrReach] = []
    for svc in services:
        key = f"{svc.namespace}/{svc.name}"
        for family in FAMILIES:
            has = family in svc.ip_families
            if svc.type == "ExternalName":
                continue
            if svc.type == "LoadBalancer":
                ingress_families = {f for i in svc.lb_ingress for f in i.families}
                shown = ", ".join(i.ip or i.hostname or "?" for i in svc.lb_ingress)
                if not has:
                    value = "suspect" if family in ingress_families else "no"
                    why = (
                        f"an {family} ingress ({shown}) on a Service without {family} in ipFamilies"
                        if value == "suspect"
                        else f"the Service has no {family} family"
                    )
                    result.append(
                        DrReach(
                            key,
                            family,
                            value,
                            "lb-ingress" if value == "suspect" else "service-families",
                            why,
                        )
                    )
                elif family in ingress_families:
                    result.append(DrReach(key, family, "yes", "lb-ingress", f"ingress {shown}"))
                elif not svc.lb_ingress or any(
                    i.hostname and not i.resolved for i in svc.lb_ingress
                ):
                    result.append(
                        DrReach(
                            key,
                            family,
                            "unknown",
                            "lb-ingress",
                            f"ingress not known ({shown or 'none yet'})",
                        )
                    )
                else:
                    result.append(
                        DrReach(key, family, "no", "lb-ingress", f"no {family} ingress ({shown})")
                    )
            elif svc.type == "NodePort":
                if not has:
                    result.append(
                        DrReach(
                            key,
                            family,
                            "no",
                            "service-families",
                            f"the Service has no {family} family",
                        )
                    )
                elif nodes is None:
                    result.append(
                        DrReach(key, family, "unknown", "node-addresses", "nodes not readable")
                    )
                else:
                    having = [n.name for n in nodes if family in node_families(n)]
                    value = "yes" if having else "no"
                    why = (
                        f"{len(having)} of {len(nodes)} nodes have an {family} InternalIP/ExternalIP"
                        if having
                        else f"no node has an {family} InternalIP/ExternalIP"
                    )
                    result.append(DrReach(key, family, value, "node-addresses", why))
            elif not has:
                result.append(
                    DrReach(
                        key, family, "no", "service-families", f"the Service has no {family} family"
                    )
                )
            elif svc.exported:
                result.append(
                    DrReach(
                        key,
                        family,
                        "unknown",
                        "service-export",
                        "exported by a ServiceExport (multi-cluster)",
                    )
                )
            else:
                result.append(
                    DrReach(
                        key,
                        family,
                        "in-cluster",
                        "clusterip",
                        "a ClusterIP Service is reachable only inside the cluster",
                    )
                )
    return tuple(result)
