"""The resource types the fake API server knows: where they live and what they are called.

Discovery (/api, /apis, /api/v1 ...) and routing are both built from this one table,
so adding a kind is one line here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ResourceType:
    group_version: str  # "v1", "discovery.k8s.io/v1"
    plural: str  # "pods"
    kind: str  # "Pod"
    namespaced: bool
    singular: str = ""
    verbs: tuple[str, ...] = ("create", "delete", "get", "list")

    @property
    def group(self) -> str:
        """The API group ("" for the core group)."""
        return self.group_version.rpartition("/")[0]

    @property
    def qualified(self) -> str:
        """How the apiserver names the resource in messages: pods, servicecidrs.networking.k8s.io."""
        return f"{self.plural}.{self.group}" if self.group else self.plural


def _rt(gv: str, plural: str, kind: str, namespaced: bool) -> ResourceType:
    return ResourceType(gv, plural, kind, namespaced, singular=kind.lower())


RESOURCE_TYPES: tuple[ResourceType, ...] = (
    _rt("v1", "namespaces", "Namespace", False),
    _rt("v1", "nodes", "Node", False),
    _rt("v1", "pods", "Pod", True),
    _rt("v1", "services", "Service", True),
    _rt("v1", "endpoints", "Endpoints", True),
    _rt("v1", "configmaps", "ConfigMap", True),
    _rt("v1", "secrets", "Secret", True),
    _rt("v1", "serviceaccounts", "ServiceAccount", True),
    _rt("v1", "events", "Event", True),
    _rt("apps/v1", "statefulsets", "StatefulSet", True),
    _rt("batch/v1", "jobs", "Job", True),
    _rt("rbac.authorization.k8s.io/v1", "roles", "Role", True),
    _rt("rbac.authorization.k8s.io/v1", "rolebindings", "RoleBinding", True),
    _rt("rbac.authorization.k8s.io/v1", "clusterroles", "ClusterRole", False),
    _rt("rbac.authorization.k8s.io/v1", "clusterrolebindings", "ClusterRoleBinding", False),
    _rt("discovery.k8s.io/v1", "endpointslices", "EndpointSlice", True),
    _rt("networking.k8s.io/v1", "servicecidrs", "ServiceCIDR", False),
    _rt("networking.k8s.io/v1", "ipaddresses", "IPAddress", False),
    _rt("networking.k8s.io/v1", "networkpolicies", "NetworkPolicy", True),
    _rt("networking.k8s.io/v1beta1", "servicecidrs", "ServiceCIDR", False),
    _rt("networking.k8s.io/v1beta1", "ipaddresses", "IPAddress", False),
    # CRD-served policy kinds voltprobe names but does not evaluate; off by default
    # (add their group versions to `served` to install them).
    _rt("cilium.io/v2", "ciliumnetworkpolicies", "CiliumNetworkPolicy", True),
    _rt("cilium.io/v2", "ciliumendpoints", "CiliumEndpoint", True),
    _rt(
        "k8s.cni.cncf.io/v1", "network-attachment-definitions", "NetworkAttachmentDefinition", True
    ),
    _rt("k8s.cni.cncf.io/v1beta1", "multi-networkpolicies", "MultiNetworkPolicy", True),
    _rt("policy.networking.k8s.io/v1alpha1", "adminnetworkpolicies", "AdminNetworkPolicy", False),
)

# Group versions a current (1.33+) apiserver serves; v1beta1 networking is off by default.
DEFAULT_SERVED: frozenset[str] = frozenset(
    {
        "v1",
        "apps/v1",
        "batch/v1",
        "discovery.k8s.io/v1",
        "networking.k8s.io/v1",
        "rbac.authorization.k8s.io/v1",
    }
)


def find(group_version: str, plural: str) -> ResourceType | None:
    for rt in RESOURCE_TYPES:
        if rt.group_version == group_version and rt.plural == plural:
            return rt
    return None


def by_kind(api_version: str, kind: str) -> ResourceType:
    for rt in RESOURCE_TYPES:
        if rt.group_version == api_version and rt.kind == kind:
            return rt
    raise KeyError(f"the fake API server does not know {api_version} {kind}")
