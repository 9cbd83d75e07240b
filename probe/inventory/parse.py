"""Wire dicts (camelCase, as the API sends them) to inventory values. Pure functions."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable, Iterable
from typing import Any

from probe.inventory.types import (
    EndpointSliceInfo,
    LoadBalancerIngress,
    MultusNetwork,
    NodeInfo,
    PodInfo,
    ServiceInfo,
    ServicePort,
)
from probe.model import FAMILIES, Family

Obj = dict[str, Any]

NETWORK_STATUS = "k8s.v1.cni.cncf.io/network-status"
NETWORKS_STATUS_OLD = "k8s.v1.cni.cncf.io/networks-status"  # the obsolete name, still written


def family_of(address: str) -> Family | None:
    try:
        return Family.of(address.split("%")[0])
    except ValueError:
        return None


def families_of(addresses: Iterable[str]) -> tuple[Family, ...]:
    """The families among `addresses` (e.g. POD_IPS), in FAMILIES order; garbage is ignored."""
    found = {family_of(a) for a in addresses}
    return tuple(f for f in FAMILIES if f in found)


def bare_address(text: str) -> str | None:
    """'10.1.2.3/24' -> '10.1.2.3'; None when it is not an address at all."""
    candidate = text.strip().split("/")[0]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


def _meta(obj: Obj) -> Obj:
    return obj.get("metadata") or {}


def pod_ips(obj: Obj) -> tuple[str, ...]:
    """status.podIPs (falling back to podIP), in the API's order."""
    status = obj.get("status") or {}
    ips = [entry.get("ip") for entry in status.get("podIPs") or [] if entry.get("ip")]
    if not ips and status.get("podIP"):
        ips = [status["podIP"]]
    return tuple(ips)


def multus_networks(annotations: dict[str, str]) -> tuple[tuple[MultusNetwork, ...], str]:
    """Entries of the network-status annotation, and an error text if it does not parse."""
    text = annotations.get(NETWORK_STATUS) or annotations.get(NETWORKS_STATUS_OLD)
    if not text:
        return (), ""
    try:
        entries = json.loads(text)
    except ValueError as exc:
        return (), f"{NETWORK_STATUS} is not JSON: {exc}"
    if isinstance(entries, dict):
        entries = [entries]
    if not isinstance(entries, list):
        return (), f"{NETWORK_STATUS} is not a list"
    networks = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        ips = tuple(ip for ip in (bare_address(str(raw)) for raw in entry.get("ips") or []) if ip)
        networks.append(
            MultusNetwork(
                name=str(entry.get("name") or ""),
                interface=entry.get("interface"),
                ips=ips,
                default=bool(entry.get("default")),
            )
        )
    return tuple(networks), ""


# what pod_info reads: a list of 20,000 pods keeps only these (not containers,
# managedFields, conditions), so the inventory stays far under the Job's 256Mi
_POD_FIELDS = {
    "metadata": ("name", "namespace", "labels", "annotations"),
    "spec": ("nodeName", "hostNetwork"),
    "status": ("phase", "podIP", "podIPs"),
}


def trim_pod(keep: Callable[[Obj], bool], obj: Obj) -> Obj | None:
    """`obj` cut to what pod_info reads, or None when `keep(obj)` is false (a paged
    list's `keep`, probe.kube.reader)."""
    if not keep(obj):
        return None
    trimmed: Obj = {}
    for part, names in _POD_FIELDS.items():
        value = obj.get(part)
        if isinstance(value, dict):
            trimmed[part] = {name: value[name] for name in names if name in value}
    return trimmed


def pod_info(obj: Obj) -> tuple[PodInfo, str]:
    """The pod, and an error text when its Multus annotation is unreadable."""
    meta = _meta(obj)
    networks, error = multus_networks(meta.get("annotations") or {})
    secondary = tuple(ip for n in networks if not n.default for ip in n.ips)
    spec = obj.get("spec") or {}
    info = PodInfo(
        namespace=meta.get("namespace") or "",
        name=meta.get("name") or "",
        ips=pod_ips(obj),
        node=spec.get("nodeName"),
        multus=secondary,
        networks=networks,
        host_network=bool(spec.get("hostNetwork")),
        phase=(obj.get("status") or {}).get("phase"),
    )
    return info, error


def _ingress(entry: Obj) -> LoadBalancerIngress:
    ip = entry.get("ip")
    return LoadBalancerIngress(
        ip=ip,
        hostname=entry.get("hostname"),
        family=family_of(ip) if ip else None,  # by parsing, never by list position
        ip_mode=entry.get("ipMode"),
    )


def service_info(obj: Obj, per_pod: bool) -> ServiceInfo:
    meta, spec = _meta(obj), obj.get("spec") or {}
    families = []
    for name in spec.get("ipFamilies") or []:
        try:
            families.append(Family.make(name))
        except ValueError:
            continue
    ports = tuple(
        ServicePort(
            name=p.get("name") or None,
            port=int(p.get("port") or 0),
            target_port=None if p.get("targetPort") is None else str(p["targetPort"]),
            node_port=p.get("nodePort"),
            protocol=p.get("protocol") or "TCP",
        )
        for p in spec.get("ports") or []
    )
    cluster_ips = tuple(
        spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    )
    ingress = ((obj.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    return ServiceInfo(
        namespace=meta.get("namespace") or "",
        name=meta.get("name") or "",
        type=spec.get("type") or "ClusterIP",
        ip_families=tuple(families),
        ip_family_policy=spec.get("ipFamilyPolicy"),
        cluster_ips=cluster_ips,
        ports=ports,
        selector=dict(spec.get("selector") or {}),
        lb_ingress=tuple(_ingress(e) for e in ingress),
        external_traffic_policy=spec.get("externalTrafficPolicy"),
        per_pod=per_pod,
    )


def endpoint_slice_info(obj: Obj) -> EndpointSliceInfo:
    meta = _meta(obj)
    endpoints = obj.get("endpoints") or []
    addresses = tuple(a for e in endpoints for a in e.get("addresses") or [])
    # "ready" unset means ready (EndpointConditions doc: nil should be read as true).
    ready = sum(1 for e in endpoints if (e.get("conditions") or {}).get("ready") is not False)
    return EndpointSliceInfo(
        namespace=meta.get("namespace") or "",
        name=meta.get("name") or "",
        service=(meta.get("labels") or {}).get("kubernetes.io/service-name", ""),
        address_type=obj.get("addressType") or "",
        addresses=addresses,
        ready=ready,
    )


def node_info(obj: Obj) -> NodeInfo:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    cidrs = spec.get("podCIDRs") or ([spec["podCIDR"]] if spec.get("podCIDR") else [])
    return NodeInfo(
        name=_meta(obj).get("name") or "",
        addresses=tuple(
            (a.get("type") or "", a.get("address") or "") for a in status.get("addresses") or []
        ),
        pod_cidrs=tuple(cidrs),
    )


def service_cidrs(objs: list[Obj]) -> tuple[tuple[str, ...], Family | None]:
    """All CIDRs, and the primary Service family (the first range of the `kubernetes` object)."""
    cidrs: list[str] = []
    primary: Family | None = None
    for obj in sorted(objs, key=lambda o: _meta(o).get("name") != "kubernetes"):
        ranges = (obj.get("spec") or {}).get("cidrs") or []
        cidrs.extend(ranges)
        if primary is None and ranges and _meta(obj).get("name") == "kubernetes":
            primary = cidr_family(ranges[0])
    return tuple(cidrs), primary


def cidr_family(cidr: str) -> Family | None:
    try:
        return Family.IPV4 if ipaddress.ip_network(cidr, strict=False).version == 4 else Family.IPV6
    except ValueError:
        return None
