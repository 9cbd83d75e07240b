"""What the local cluster can do in each family, with the evidence. Pure functions.

Each of pods / services / nodes is "yes", "no" or "unknown". Only facts read from
the API (or the downward API) give a "no"; a missing read gives "unknown", which
never rules a family out.
"""

from __future__ import annotations

from dataclasses import dataclass

from probe.inventory.parse import cidr_family, families_of, family_of
from probe.inventory.types import Capability, FamilyCapability, NodeInfo, PodInfo, ServiceInfo
from probe.model import FAMILIES, Family

NODE_IP_TYPES = ("InternalIP", "ExternalIP")


@dataclass(frozen=True)
class Evidence:
    pods: tuple[PodInfo, ...]  # the probe pod and Volt pods read from the API
    downward_ips: tuple[str, ...] = ()  # POD_IPS, when the API could not say
    services: tuple[ServiceInfo, ...] = ()  # every Service read in the namespace
    service_cidrs: tuple[str, ...] | None = None  # None: not readable
    nodes: tuple[NodeInfo, ...] | None = None  # None: not readable


def _pods(family: Family, ev: Evidence) -> tuple[Capability, str]:
    with_family = [p.name for p in ev.pods if family in p.families]
    if with_family:
        return (
            "yes",
            f"pods: {', '.join(with_family[:3])} {'have' if len(with_family) > 1 else 'has'} an {family} address",
        )
    if family in families_of(ev.downward_ips):
        return "yes", f"pods: POD_IPS has an {family} address"
    cidrs = [c for n in (ev.nodes or ()) for c in n.pod_cidrs if cidr_family(c) is family]
    if cidrs:
        return "yes", f"pods: node podCIDRs include {cidrs[0]}"
    secondary = [f"{p.name} ({ip})" for p in ev.pods for ip in p.multus if family_of(ip) is family]
    if secondary:
        return "yes", f"pods: only on a Multus secondary network: {', '.join(secondary[:3])}"
    seen = [p.name for p in ev.pods if p.ips]
    if seen:
        return "no", f"pods: {', '.join(seen[:3])} have no {family} address (status.podIPs)"
    if ev.downward_ips:
        return "no", f"pods: POD_IPS ({','.join(ev.downward_ips)}) has no {family} address"
    return "unknown", "pods: no pod addresses could be read"


def _services(family: Family, ev: Evidence) -> tuple[Capability, str]:
    if ev.service_cidrs:
        matching = [c for c in ev.service_cidrs if cidr_family(c) is family]
        if matching:
            return "yes", f"services: ServiceCIDR {', '.join(matching)}"
        return "no", f"services: no {family} ServiceCIDR (ranges: {', '.join(ev.service_cidrs)})"
    with_ip = [
        s.name
        for s in ev.services
        for ip in s.cluster_ips
        if ip != "None" and family_of(ip) is family
    ]
    if with_ip:
        return "yes", f"services: {with_ip[0]} has an {family} ClusterIP"
    why = "ServiceCIDRs not readable" if ev.service_cidrs is None else "no ServiceCIDR objects"
    return "unknown", f"services: {why} and no Service with an {family} ClusterIP seen"


def _nodes(family: Family, ev: Evidence) -> tuple[Capability, str]:
    if not ev.nodes:
        return "unknown", "nodes: not readable" if ev.nodes is None else "nodes: none listed"
    having = [
        n.name
        for n in ev.nodes
        if any(t in NODE_IP_TYPES and family_of(a) is family for t, a in n.addresses)
    ]
    if having:
        return "yes", f"nodes: {len(having)} of {len(ev.nodes)} have an {family} address"
    return "no", f"nodes: none of {len(ev.nodes)} has an {family} InternalIP/ExternalIP"


def summarize(ev: Evidence) -> dict[Family, FamilyCapability]:
    result = {}
    for family in FAMILIES:
        pods, pods_why = _pods(family, ev)
        services, services_why = _services(family, ev)
        nodes, nodes_why = _nodes(family, ev)
        result[family] = FamilyCapability(
            pods, services, nodes, (pods_why, services_why, nodes_why)
        )
    return result


def primary_family(
    cidr_primary: Family | None, families: dict[Family, FamilyCapability]
) -> Family | None:
    """The cluster's primary Service family: from the `kubernetes` ServiceCIDR, or the only one."""
    if cidr_primary is not None:
        return cidr_primary
    able = [f for f, cap in families.items() if cap.services == "yes"]
    unable = [f for f, cap in families.items() if cap.services == "no"]
    if len(able) == 1 and len(unable) == 1:
        return able[0]
    return None
