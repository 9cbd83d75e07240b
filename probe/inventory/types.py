"""What voltprobe knows about the local side: the cluster it runs in (or this host).

These are plain frozen values; `probe/inventory/` gathers them and the checks
read them. `Inventory.to_json()` is the report's `local` section.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from probe.kube.errors import ApiProblem
from probe.model import FAMILIES, Family
from probe.policies import ContainerPort

if TYPE_CHECKING:
    from probe.inventory.policies import PolicyInventory

Capability = Literal["yes", "no", "unknown"]


@dataclass(frozen=True)
class FamilyCapability:
    """Can the local cluster use a family for pods, Services and nodes?"""

    pods: Capability = "unknown"
    services: Capability = "unknown"
    nodes: Capability = "unknown"
    evidence: tuple[str, ...] = ()  # each entry starts with "pods:", "services:" or "nodes:"
    # Which rung of the evidence ladder decided each answer (README "Evidence ladder").
    pods_rung: str = ""
    services_rung: str = ""
    nodes_rung: str = ""

    @property
    def services_positive(self) -> bool:
        """True when a Service in this family is known to be allocatable from direct
        evidence: a Ready ServiceCIDR, an existing ClusterIP, or a server-side dry-run."""
        return self.services == "yes" and self.services_rung in POSITIVE_SERVICE_RUNGS

    def to_json(self) -> dict[str, Any]:
        return {
            "pods": self.pods,
            "services": self.services,
            "nodes": self.nodes,
            "evidence": list(self.evidence),
            "rungs": {
                "pods": self.pods_rung,
                "services": self.services_rung,
                "nodes": self.nodes_rung,
            },
        }


# Rungs of the "can this cluster allocate a Service in F?" ladder that are direct evidence.
POSITIVE_SERVICE_RUNGS = ("servicecidr", "dry-run", "clusterip")


@dataclass(frozen=True)
class Decided:
    """One answer of the evidence ladder: the value, the rung that decided it, and why."""

    value: str
    rung: str
    evidence: str

    def to_json(self) -> dict[str, Any]:
        return {"value": self.value, "rung": self.rung, "evidence": self.evidence}


@dataclass(frozen=True)
class DryRun:
    """One --dry-run-service answer: could a Service in `family` be created?"""

    family: Family
    value: str  # "yes", "no", "unknown"
    evidence: str

    def to_json(self) -> dict[str, Any]:
        return {"family": self.family.value, "value": self.value, "evidence": self.evidence}


@dataclass(frozen=True)
class DrReach:
    """Can a peer reach this DR Service in `family`, and by what.

    value: "yes", "no", "unknown", "suspect" (only an ingress in a family the Service
    does not have), or "in-cluster" (a ClusterIP without a multi-cluster export)."""

    service: str  # namespace/name
    family: Family
    value: str
    rung: str  # "lb-ingress", "node-addresses", "clusterip", "service-export", "service-families"
    evidence: str

    def to_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "family": self.family.value,
            "value": self.value,
            "rung": self.rung,
            "evidence": self.evidence,
        }


@dataclass(frozen=True)
class LoadBalancerIngress:
    ip: str | None = None
    hostname: str | None = None
    family: Family | None = None  # of ip, by parsing (never by list position)
    resolved: tuple[str, ...] = ()  # A and AAAA answers for hostname (IP literals only)
    ip_mode: str | None = None  # VIP | Proxy
    resolve_error: str = ""  # why the hostname gave no address (nxdomain, timeout ...)

    @property
    def families(self) -> tuple[Family, ...]:
        """The families this ingress point offers: its ip's, or its hostname's answers'."""
        found = {self.family} if self.family else {Family.of(a) for a in self.resolved}
        return tuple(f for f in FAMILIES if f in found)


@dataclass(frozen=True)
class ServicePort:
    name: str | None
    port: int
    target_port: str | None = None
    node_port: int | None = None
    protocol: str = "TCP"


@dataclass(frozen=True)
class ServiceInfo:
    """A DR Service of the local Volt cluster."""

    namespace: str
    name: str
    type: str  # ClusterIP, NodePort, LoadBalancer
    ip_families: tuple[Family, ...]
    ip_family_policy: str | None
    cluster_ips: tuple[str, ...]
    ports: tuple[ServicePort, ...]
    selector: dict[str, str] = field(default_factory=dict)
    lb_ingress: tuple[LoadBalancerIngress, ...] = ()
    external_traffic_policy: str | None = None
    per_pod: bool = False  # a <fullname>-cluster-N-dr Service
    # where ip_families came from: "ipFamilies", "ipFamily" (legacy field), "clusterIPs", ""
    ip_families_source: str = "ipFamilies"
    # True: the creator did not set ipFamilies/clusterIPs (managedFields), so the families
    # are the cluster's default order; False: the creator chose; None: no managedFields.
    families_defaulted: bool | None = None
    chart: str | None = None  # the helm.sh/chart label, e.g. "voltdb-3.13.0"
    exported: bool = False  # a ServiceExport (multicluster.x-k8s.io) of the same name exists


@dataclass(frozen=True)
class EndpointSliceInfo:
    namespace: str
    name: str
    service: str
    address_type: str  # IPv4, IPv6, FQDN
    addresses: tuple[str, ...]
    ready: int


@dataclass(frozen=True)
class MultusNetwork:
    """One entry of a pod's k8s.v1.cni.cncf.io/network-status annotation."""

    name: str
    interface: str | None
    ips: tuple[str, ...]  # bare addresses (any /prefix stripped)
    default: bool = False


@dataclass(frozen=True)
class PodInfo:
    namespace: str
    name: str
    ips: tuple[str, ...]
    node: str | None = None
    multus: tuple[str, ...] = ()  # network-status addresses that are not in podIPs
    networks: tuple[MultusNetwork, ...] = ()  # every network-status entry, default included
    host_network: bool = False
    phase: str | None = None
    # where the containers may set JVM options: (source, text); text None = unreadable
    # (valueFrom, envFrom). Read by probe.jvm for the JVM's family order.
    jvm_sources: tuple[tuple[str, str | None], ...] = ()
    chart: str | None = None  # the helm.sh/chart label
    labels: tuple[tuple[str, str], ...] = ()  # what NetworkPolicy podSelectors match
    named_ports: tuple[ContainerPort, ...] = ()  # what a policy's port name means for it
    # its resolver settings as canonical JSON ({hostAliases, dnsPolicy, dnsConfig}, those
    # set): what getaddrinfo sees in the pod; `job run` gives the probe Job the same
    resolver: str = ""

    @property
    def families(self) -> tuple[Family, ...]:
        found = {Family.of(ip) for ip in self.ips}
        return tuple(f for f in FAMILIES if f in found)


@dataclass(frozen=True)
class NodeInfo:
    name: str
    addresses: tuple[tuple[str, str], ...]  # (type, address)
    pod_cidrs: tuple[str, ...] = ()


@dataclass(frozen=True)
class ServiceCidrInfo:
    """One ServiceCIDR object: its ranges, and whether it can allocate now."""

    name: str
    cidrs: tuple[str, ...]  # the ranges that parse
    ready: bool  # no Ready=False condition (a reduced dump without status counts as ready)
    deleting: bool  # metadata.deletionTimestamp set
    unparsed: tuple[str, ...] = ()  # ranges that are not CIDRs

    @property
    def usable(self) -> bool:
        return self.ready and not self.deleting


@dataclass(frozen=True)
class Inventory:
    """The local side. `available` says whether the Kubernetes API answered."""

    available: bool
    reason: str  # why not available, or how the client was configured
    source: str = "none"  # "in-cluster", "kubeconfig", "host"
    namespace: str | None = None
    probe_pod: PodInfo | None = None
    pod_families: tuple[Family, ...] = ()  # families of the probing pod (or this host)
    pod_families_source: str = ""  # "api", "POD_IPS", "interfaces"
    volt_pods: tuple[PodInfo, ...] = ()
    dr_services: tuple[ServiceInfo, ...] = ()
    endpoint_slices: tuple[EndpointSliceInfo, ...] = ()
    nodes: tuple[NodeInfo, ...] = ()
    service_cidrs: tuple[str, ...] = ()
    families: dict[Family, FamilyCapability] = field(
        default_factory=lambda: {f: FamilyCapability() for f in FAMILIES}
    )
    primary_family: Family | None = None  # the cluster's first Service family, when known
    problems: tuple[ApiProblem, ...] = ()
    server_version: str | None = None  # the apiserver's gitVersion
    notes: tuple[str, ...] = ()  # observations that are not API failures (naming, discovery)
    primary: Decided | None = None  # the primary-family ladder's answer (rung and evidence)
    # Why the DR Services' EndpointSlices were not read ("" when they were, or none needed).
    slices_unread: str = ""
    dr_reach: tuple[DrReach, ...] = ()  # per DR Service and family: can a peer reach it?
    dry_runs: tuple[DryRun, ...] = ()  # --dry-run-service answers
    policies: PolicyInventory | None = None  # the namespace's NetworkPolicies (None: not read)
    # Read only when the namespace holds no DR Service: does it exist (None: not known)?
    namespace_exists: bool | None = None
    namespace_unread: str = ""  # why namespace_exists is not known ("HTTP 403 Forbidden")

    def to_json(self) -> dict[str, Any]:
        """The report's `local` section."""
        return {
            "kubernetes": {
                "available": self.available,
                "reason": self.reason,
                "source": self.source,
                "namespace": self.namespace,
                "namespaceExists": self.namespace_exists,
                "namespaceUnread": self.namespace_unread,
                "version": self.server_version,
                "problems": [p.to_json() for p in self.problems],
                "notes": list(self.notes),
            },
            "pods": {
                "probe": _pod_json(self.probe_pod) if self.probe_pod else None,
                "probeFamilies": [f.value for f in self.pod_families],
                "probeFamiliesSource": self.pod_families_source,
                "volt": [_pod_json(p) for p in self.volt_pods],
            },
            "services": [_service_json(s) for s in self.dr_services],
            "endpointSlices": [
                {
                    "namespace": e.namespace,
                    "name": e.name,
                    "service": e.service,
                    "addressType": e.address_type,
                    "addresses": list(e.addresses),
                    "ready": e.ready,
                }
                for e in self.endpoint_slices
            ],
            "nodes": [
                {
                    "name": n.name,
                    "addresses": [{"type": t, "address": a} for t, a in n.addresses],
                    "podCIDRs": list(n.pod_cidrs),
                }
                for n in self.nodes
            ],
            "serviceCIDRs": list(self.service_cidrs),
            "multus": [
                {
                    "pod": p.name,
                    "namespace": p.namespace,
                    "addresses": list(p.multus),
                    "networks": [
                        {
                            "name": n.name,
                            "interface": n.interface,
                            "ips": list(n.ips),
                            "default": n.default,
                        }
                        for n in p.networks
                    ],
                }
                for p in self.volt_pods
                if p.networks
            ],
            "networkPolicies": self.policies.to_json() if self.policies else None,
            "primaryFamily": self.primary_family.value if self.primary_family else None,
            "primaryFamilyEvidence": self.primary.to_json() if self.primary else None,
            "endpointSlicesUnread": self.slices_unread,
            "drReach": [r.to_json() for r in self.dr_reach],
            "dryRuns": [d.to_json() for d in self.dry_runs],
            "families": {f.value: cap.to_json() for f, cap in self.families.items()},
        }


def _pod_json(pod: PodInfo) -> dict[str, Any]:
    return {
        "namespace": pod.namespace,
        "name": pod.name,
        "ips": list(pod.ips),
        "families": [f.value for f in pod.families],
        "node": pod.node,
        "hostNetwork": pod.host_network,
        "phase": pod.phase,
        **({"jvmSources": [list(s) for s in pod.jvm_sources]} if pod.jvm_sources else {}),
    }


def _service_json(svc: ServiceInfo) -> dict[str, Any]:
    return {
        "namespace": svc.namespace,
        "name": svc.name,
        "type": svc.type,
        "ipFamilies": [f.value for f in svc.ip_families],
        "ipFamilyPolicy": svc.ip_family_policy,
        "clusterIPs": list(svc.cluster_ips),
        "externalTrafficPolicy": svc.external_traffic_policy,
        "perPod": svc.per_pod,
        "ipFamiliesSource": svc.ip_families_source,
        "familiesDefaulted": svc.families_defaulted,
        "chart": svc.chart,
        "exported": svc.exported,
        "selector": svc.selector,
        "ports": [
            {
                "name": p.name,
                "port": p.port,
                "targetPort": p.target_port,
                "nodePort": p.node_port,
                "protocol": p.protocol,
            }
            for p in svc.ports
        ],
        "loadBalancerIngress": [
            {
                "ip": i.ip,
                "hostname": i.hostname,
                "family": i.family.value if i.family else None,
                "ipMode": i.ip_mode,
                "resolved": list(i.resolved),
                "resolvedFamilies": [f.value for f in i.families],
                "resolveError": i.resolve_error,
            }
            for i in svc.lb_ingress
        ],
    }
