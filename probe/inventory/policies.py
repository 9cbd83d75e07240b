"""Read the namespace's NetworkPolicies, and name the policy kinds voltprobe does not evaluate.

One paged `list networkpolicies` (networking.k8s.io/v1) in the Volt namespace, through
`ApiReader` (wire dicts; a 403 or 404 is an ApiProblem, never an exception). Then, for
the kinds that filter pod traffic beside NetworkPolicy and that `probe.policies` does
not evaluate (AdminNetworkPolicy, Calico, Cilium, Antrea, OVN-Kubernetes and
MultiNetworkPolicy on Multus interfaces), API discovery: one GET /apis and one GET per
version of a known policy group that the cluster serves. Discovery is open to every
authenticated user (the system:discovery ClusterRole), so it needs no grant; it says
which kinds are served, not whether objects of them exist (listing those would need
grants the probe does not hold).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from probe.kube.errors import ApiProblem, Read
from probe.kube.reader import ApiReader
from probe.policies import PROTOCOLS, ContainerPort

Obj = dict[str, Any]

# API groups whose kinds can filter the Volt pods' traffic beside NetworkPolicy.
POLICY_GROUPS: tuple[str, ...] = (
    "policy.networking.k8s.io",  # AdminNetworkPolicy, BaselineAdminNetworkPolicy (SIG Network)
    "crd.projectcalico.org",  # Calico NetworkPolicy, GlobalNetworkPolicy (CRDs)
    "projectcalico.org",  # the same through the Calico API server
    "cilium.io",  # CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy
    "crd.antrea.io",  # Antrea NetworkPolicy, ClusterNetworkPolicy
    "k8s.ovn.org",  # OVN-Kubernetes EgressFirewall
    "network.openshift.io",  # OpenShift SDN EgressNetworkPolicy
    "k8s.cni.cncf.io",  # MultiNetworkPolicy (Multus secondary interfaces)
)
# Kinds in those groups that are not policies (CiliumEndpoint, NetworkAttachmentDefinition).
_EXTRA_KINDS = ("EgressFirewall",)


@dataclass(frozen=True)
class PolicyInventory:
    """What the cluster says about policies for one namespace.

    `policies`: the NetworkPolicy wire dicts (empty when `problem` is set).
    `unevaluated`: served policy kinds beside NetworkPolicy, "Kind (group/version)".
    `discovery_problems`: discovery reads that failed (the list above may be short).
    """

    namespace: str
    policies: tuple[Obj, ...] = ()
    problem: ApiProblem | None = None
    unevaluated: tuple[str, ...] = ()
    discovery_problems: tuple[ApiProblem, ...] = ()

    @property
    def read(self) -> bool:
        """Whether the NetworkPolicy list answered (an empty namespace is still read)."""
        return self.problem is None

    def to_json(self) -> dict[str, Any]:
        return {
            "namespace": self.namespace,
            "read": self.read,
            "networkPolicies": [
                str((p.get("metadata") or {}).get("name") or "?") for p in self.policies
            ],
            "problem": self.problem.to_json() if self.problem else None,
            "unevaluatedKinds": list(self.unevaluated),
            "discoveryProblems": [p.to_json() for p in self.discovery_problems],
        }


def read_policies(reader: ApiReader, api_client: Any, namespace: str) -> PolicyInventory:
    """The namespace's NetworkPolicies and the served policy kinds not evaluated.

    Never raises for what the cluster or the network does: a failed list is
    `problem` (403 names the Role rule to add), failed discovery reads are
    `discovery_problems`.
    """

    # as JSON, not through the typed client: one object it cannot validate would lose
    # the whole list, and the evaluator decodes what it reads itself (totally)
    listed = reader.list_raw(
        Read("list", "networkpolicies", group="networking.k8s.io", namespace=namespace),
        f"/apis/networking.k8s.io/v1/namespaces/{namespace}/networkpolicies",
    )
    unevaluated, discovery_problems = unevaluated_kinds(reader, api_client)
    if isinstance(listed, ApiProblem):
        return PolicyInventory(namespace, (), listed, unevaluated, discovery_problems)
    return PolicyInventory(namespace, tuple(listed), None, unevaluated, discovery_problems)


def unevaluated_kinds(
    reader: ApiReader, api_client: Any
) -> tuple[tuple[str, ...], tuple[ApiProblem, ...]]:
    """("Kind (group/version)", ...) of the policy kinds the cluster serves in POLICY_GROUPS,
    and the discovery reads that failed."""
    from kubernetes import client

    groups = reader.call(
        Read("get", "apis", cluster_scoped=True), client.ApisApi(api_client).get_api_versions
    )
    if isinstance(groups, ApiProblem):
        return (), (groups,)
    served = [
        str(v.get("groupVersion"))
        for g in groups.get("groups") or []
        if g.get("name") in POLICY_GROUPS
        for v in g.get("versions") or []
        if v.get("groupVersion")
    ]
    custom = client.CustomObjectsApi(api_client)
    kinds: dict[str, None] = {}
    problems: list[ApiProblem] = []
    for group_version in served:
        group, _, version = group_version.partition("/")
        listed = reader.call(
            Read("get", group_version, group=group, cluster_scoped=True),
            custom.get_api_resources,
            group,
            version,
        )
        if isinstance(listed, ApiProblem):
            problems.append(listed)
            continue
        for resource in listed.get("resources") or []:
            kind = str(resource.get("kind") or "")
            name = str(resource.get("name") or "")
            if "/" in name:  # a subresource such as .../status
                continue
            if kind.endswith("NetworkPolicy") or kind in _EXTRA_KINDS:
                kinds[f"{kind} ({group_version})"] = None
    return tuple(kinds), tuple(problems)


def pod_labels(pod: Obj) -> dict[str, str]:
    """A pod wire dict's labels (what NetworkPolicy podSelectors match); {} when absent."""
    meta = pod.get("metadata")
    labels = meta.get("labels") if isinstance(meta, dict) else None
    if not isinstance(labels, dict):
        return {}
    return {str(k): str(v) for k, v in labels.items()}


def named_ports(pod: Obj) -> tuple[ContainerPort, ...]:
    """A pod wire dict's named container ports (what a NetworkPolicy port name means on
    ingress), every container's; entries without a name or a valid number are left out."""
    found: list[ContainerPort] = []
    spec = pod.get("spec")
    containers = spec.get("containers") if isinstance(spec, dict) else None
    for container in containers if isinstance(containers, list) else []:
        ports = container.get("ports") if isinstance(container, dict) else None
        for entry in ports if isinstance(ports, list) else []:
            if not isinstance(entry, dict):
                continue
            name, number = entry.get("name"), entry.get("containerPort")
            protocol = entry.get("protocol") or "TCP"
            if isinstance(name, str) and name and isinstance(number, int) and protocol in PROTOCOLS:
                found.append(ContainerPort(name, number, protocol))
    return tuple(found)
