"""Wire dicts (camelCase, as the API sends them) to inventory values. Pure functions.

Every decoder here is total: any JSON value in any field (a number where a list
belongs, a non-address string in `status.podIPs`, a deeply nested annotation) gives
a value, and what could not be used is dropped with a note, never an exception.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable, Iterable
from sys import intern
from typing import Any

from probe.inventory.policies import named_ports, pod_labels
from probe.inventory.types import (
    EndpointSliceInfo,
    LoadBalancerIngress,
    MultusNetwork,
    NodeInfo,
    PodInfo,
    ServiceCidrInfo,
    ServiceInfo,
    ServicePort,
)
from probe.jvm import pod_jvm_sources
from probe.model import FAMILIES, Family

Obj = dict[str, Any]

NETWORK_STATUS = "k8s.v1.cni.cncf.io/network-status"
NETWORKS_STATUS_OLD = "k8s.v1.cni.cncf.io/networks-status"  # the obsolete name, still written
CHART_LABEL = "helm.sh/chart"
# Fields whose presence in a managedFields entry means someone chose the Service's families.
_FAMILY_FIELDS = ("f:ipFamilies", "f:ipFamily", "f:clusterIP", "f:clusterIPs")


def _dict(value: Any) -> Obj:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return None


def family_of(address: Any) -> Family | None:
    """The family of an address literal (a zone index is ignored); None for anything else."""
    if not isinstance(address, str):
        return None
    try:
        return Family.of(address.split("%")[0])
    except ValueError:
        return None


def _exact_family(address: str) -> Family | None:
    """The family of a plain address literal (no zone index, no prefix), else None."""
    try:
        return Family.of(address)
    except ValueError:
        return None


def families_of(addresses: Iterable[Any]) -> tuple[Family, ...]:
    """The families among `addresses` (e.g. POD_IPS), in FAMILIES order; garbage is ignored."""
    found = {family_of(a) for a in addresses}
    return tuple(f for f in FAMILIES if f in found)


def bare_address(text: Any) -> str | None:
    """'10.1.2.3/24' -> '10.1.2.3'; None when it is not an address at all."""
    if not isinstance(text, str):
        return None
    candidate = text.strip().split("/")[0]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


def _meta(obj: Any) -> Obj:
    return _dict(_dict(obj).get("metadata"))


def _name(obj: Any) -> str:
    return _str(_meta(obj).get("name")) or ""


def pod_ips_checked(obj: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """status.podIPs (falling back to podIP) in the API's order, and the entries that are
    not IP addresses (dropped)."""
    status = _dict(_dict(obj).get("status"))
    raw = [_dict(entry).get("ip") for entry in _list(status.get("podIPs"))]
    if not raw and status.get("podIP"):
        raw = [status.get("podIP")]
    good = tuple(ip for ip in raw if isinstance(ip, str) and _exact_family(ip) is not None)
    bad = tuple(repr(ip) if not isinstance(ip, str) else ip for ip in raw if ip and ip not in good)
    return good, bad


def pod_ips(obj: Any) -> tuple[str, ...]:
    """status.podIPs (falling back to podIP), in the API's order; non-addresses dropped."""
    return pod_ips_checked(obj)[0]


def multus_networks(annotations: Any) -> tuple[tuple[MultusNetwork, ...], str]:
    """Entries of the network-status annotation, and an error text if it does not parse."""
    annotations = _dict(annotations)
    text = annotations.get(NETWORK_STATUS) or annotations.get(NETWORKS_STATUS_OLD)
    if not text:
        return (), ""
    if not isinstance(text, str):
        return (), f"{NETWORK_STATUS} is not a string"
    try:
        entries = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return (), f"{NETWORK_STATUS} is not JSON: {str(exc)[:120]}"
    if isinstance(entries, dict):
        entries = [entries]
    if not isinstance(entries, list):
        return (), f"{NETWORK_STATUS} is not a list"
    networks = []
    skipped = 0
    for entry in entries:
        if not isinstance(entry, dict):
            skipped += 1
            continue
        raw_ips = entry.get("ips")
        if raw_ips is not None and not isinstance(raw_ips, list):
            skipped += 1
        ips = tuple(ip for ip in (bare_address(raw) for raw in _list(raw_ips)) if ip)
        networks.append(
            MultusNetwork(
                name=_str(entry.get("name")) or "",
                interface=_str(entry.get("interface")),
                ips=ips,
                default=entry.get("default") is True,
            )
        )
    error = f"{NETWORK_STATUS}: {skipped} malformed entries ignored" if skipped else ""
    return tuple(networks), error


# what pod_info reads: a list of 20,000 pods keeps only these (not containers,
# managedFields, conditions), so the inventory stays far under the Job's 256Mi
_POD_FIELDS = {
    "metadata": ("name", "namespace", "labels", "annotations"),
    # containers: their args and env carry the JVM's flags (probe.jvm), their named
    # ports what a NetworkPolicy port name means (probe.policies)
    "spec": ("nodeName", "hostNetwork", "containers", "hostAliases", "dnsPolicy", "dnsConfig"),
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
    meta = trimmed.get("metadata", {})
    if isinstance(meta.get("annotations"), dict):  # only Multus's, not last-applied & co
        wanted = (NETWORK_STATUS, NETWORKS_STATUS_OLD)
        meta["annotations"] = {k: v for k, v in meta["annotations"].items() if k in wanted}
    containers = trimmed.get("spec", {}).get("containers")
    if isinstance(containers, list):
        trimmed["spec"]["containers"] = [_trim_container(c) for c in containers]
    return trimmed


def _trim_container(container: Any) -> Any:
    """What pod_info reads of a container: its command and args, the env variables a JVM
    takes options from (probe.jvm.ENV_ORDER), envFrom, and the named ports."""
    from probe.jvm import ENV_ORDER

    if not isinstance(container, dict):
        return container
    kept = {k: container[k] for k in ("command", "args", "envFrom", "ports") if k in container}
    env = container.get("env")
    if isinstance(env, list):
        kept["env"] = [e for e in env if isinstance(e, dict) and e.get("name") in ENV_ORDER]
    return kept


RESOLVER_FIELDS = ("hostAliases", "dnsPolicy", "dnsConfig")


def resolver_settings(spec: Obj) -> str:
    """A pod spec's resolver settings as canonical JSON ('' when none is set): hostAliases
    land in /etc/hosts, dnsPolicy and dnsConfig shape /etc/resolv.conf
    (https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/)."""
    found = {key: spec[key] for key in RESOLVER_FIELDS if spec.get(key) not in (None, [], {})}
    return json.dumps(found, sort_keys=True) if found else ""


def pod_info(obj: Any) -> tuple[PodInfo, str]:
    """The pod, and an error text when its Multus annotation or podIPs are unreadable.

    `multus` holds the network-status addresses that are not in `status.podIPs`: a
    Service's endpoints come from podIPs only, whichever network Multus marks
    `default` (OVN-Kubernetes user-defined networks mark another interface default).
    """
    meta = _meta(obj)
    networks, error = multus_networks(meta.get("annotations"))
    ips, bad = pod_ips_checked(obj)
    own = {bare_address(ip) for ip in ips}
    secondary = tuple(dict.fromkeys(ip for n in networks for ip in n.ips if ip not in own))
    spec = _dict(_dict(obj).get("spec"))
    if bad:
        error = "; ".join(
            e
            for e in (error, f"status.podIPs entries that are not addresses: {', '.join(bad)}")
            if e
        )
    info = PodInfo(
        namespace=_str(meta.get("namespace")) or "",
        name=_str(meta.get("name")) or "",
        ips=ips,
        node=_str(spec.get("nodeName")),
        multus=secondary,
        networks=networks,
        host_network=spec.get("hostNetwork") is True,
        phase=_str(_dict(_dict(obj).get("status")).get("phase")),
        chart=_str(_dict(meta.get("labels")).get(CHART_LABEL)),
        # interned: thousands of pods of one StatefulSet share these texts, and the
        # inventory must stay far under the Job's memory limit (tests/test_scale.py)
        jvm_sources=tuple((intern(k), intern(v) if v else v) for k, v in pod_jvm_sources(obj)),
        labels=tuple(sorted((intern(k), intern(v)) for k, v in pod_labels(_dict(obj)).items())),
        named_ports=named_ports(_dict(obj)),
        resolver=intern(resolver_settings(spec)),
    )
    return info, error


def _ingress(entry: Any) -> LoadBalancerIngress:
    entry = _dict(entry)
    ip = _str(entry.get("ip"))
    return LoadBalancerIngress(
        ip=ip,
        hostname=_str(entry.get("hostname")),
        family=family_of(ip) if ip else None,  # by parsing, never by list position
        ip_mode=_str(entry.get("ipMode")),
    )


def _strict_family(value: Any) -> Family | None:
    """ "IPv4"/"IPv6" exactly as the API spells them; anything else is None."""
    try:
        return Family(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _service_families(spec: Obj, cluster_ips: tuple[str, ...]) -> tuple[tuple[Family, ...], str]:
    """spec.ipFamilies; else the legacy spec.ipFamily (before 1.20); else the ClusterIPs' own
    families (the apiserver infers ipFamilies from clusterIPs: k/k alloc.go)."""
    families = [f for f in (_strict_family(x) for x in _list(spec.get("ipFamilies"))) if f]
    if families:
        return tuple(dict.fromkeys(families)), "ipFamilies"
    legacy = _strict_family(spec.get("ipFamily"))
    if legacy is not None:
        return (legacy,), "ipFamily"
    from_ips = [f for f in (family_of(ip) for ip in cluster_ips) if f]
    if from_ips:
        return tuple(dict.fromkeys(from_ips)), "clusterIPs"
    return (), ""


def families_defaulted(meta: Obj) -> bool | None:
    """Did the Service get its families from the cluster's default (nobody set them)?

    True when managedFields exist and no manager owns spec.ipFamilies, ipFamily,
    clusterIP or clusterIPs (the allocator sets those after the field manager has
    recorded the creator's fields); False when one does; None without managedFields.
    """
    entries = _list(meta.get("managedFields"))
    if not entries:
        return None
    for entry in entries:
        spec = _dict(_dict(_dict(entry).get("fieldsV1")).get("f:spec"))
        if any(key in spec for key in _FAMILY_FIELDS):
            return False
    return True


def service_info(obj: Any, per_pod: bool) -> ServiceInfo:
    meta, spec = _meta(obj), _dict(_dict(obj).get("spec"))
    ports = []
    for raw in _list(spec.get("ports")):
        p = _dict(raw)
        port = _int(p.get("port"))
        if port is None:
            continue
        target = p.get("targetPort")
        ports.append(
            ServicePort(
                name=_str(p.get("name")) or None,
                port=port,
                target_port=None if target is None else str(target),
                node_port=_int(p.get("nodePort")),
                protocol=_str(p.get("protocol")) or "TCP",
            )
        )
    listed = [ip for ip in _list(spec.get("clusterIPs")) if isinstance(ip, str)]
    single = _str(spec.get("clusterIP"))
    cluster_ips = tuple(listed or ([single] if single else []))
    families, source = _service_families(spec, cluster_ips)
    ingress = _list(_dict(_dict(_dict(obj).get("status")).get("loadBalancer")).get("ingress"))
    selector = {str(k): str(v) for k, v in _dict(spec.get("selector")).items()}
    return ServiceInfo(
        namespace=_str(meta.get("namespace")) or "",
        name=_str(meta.get("name")) or "",
        type=_str(spec.get("type")) or "ClusterIP",
        ip_families=families,
        ip_family_policy=_str(spec.get("ipFamilyPolicy")),
        cluster_ips=cluster_ips,
        ports=tuple(ports),
        selector=selector,
        lb_ingress=tuple(_ingress(e) for e in ingress),
        external_traffic_policy=_str(spec.get("externalTrafficPolicy")),
        per_pod=per_pod,
        ip_families_source=source,
        families_defaulted=families_defaulted(meta),
        chart=_str(_dict(meta.get("labels")).get(CHART_LABEL)),
    )


def endpoint_slice_info(obj: Any) -> EndpointSliceInfo:
    meta = _meta(obj)
    endpoints = [_dict(e) for e in _list(_dict(obj).get("endpoints"))]
    addresses = tuple(a for e in endpoints for a in _list(e.get("addresses")) if isinstance(a, str))
    # "ready" unset means ready (EndpointConditions doc: nil should be read as true).
    ready = sum(1 for e in endpoints if _dict(e.get("conditions")).get("ready") is not False)
    return EndpointSliceInfo(
        namespace=_str(meta.get("namespace")) or "",
        name=_str(meta.get("name")) or "",
        service=_str(_dict(meta.get("labels")).get("kubernetes.io/service-name")) or "",
        address_type=_str(_dict(obj).get("addressType")) or "",
        addresses=addresses,
        ready=ready,
    )


def node_info(obj: Any) -> NodeInfo:
    spec, status = _dict(_dict(obj).get("spec")), _dict(_dict(obj).get("status"))
    cidrs = [c for c in _list(spec.get("podCIDRs")) if isinstance(c, str)]
    if not cidrs and _str(spec.get("podCIDR")):
        cidrs = [spec["podCIDR"]]
    addresses = []
    for raw in _list(status.get("addresses")):
        entry = _dict(raw)
        addresses.append((_str(entry.get("type")) or "", _str(entry.get("address")) or ""))
    return NodeInfo(name=_name(obj), addresses=tuple(addresses), pod_cidrs=tuple(cidrs))


def service_cidr_info(obj: Any) -> ServiceCidrInfo:
    """One ServiceCIDR: ranges that parse, the others, readiness and deletion."""
    raw = _list(_dict(_dict(obj).get("spec")).get("cidrs"))
    good = tuple(c for c in raw if isinstance(c, str) and cidr_family(c) is not None)
    bad = tuple(str(c) for c in raw if c not in good)
    conditions = [_dict(c) for c in _list(_dict(_dict(obj).get("status")).get("conditions"))]
    ready_conditions = [c for c in conditions if c.get("type") == "Ready"]
    ready = all(c.get("status") == "True" for c in ready_conditions)
    return ServiceCidrInfo(
        name=_name(obj),
        cidrs=good,
        ready=ready,
        deleting=bool(_meta(obj).get("deletionTimestamp")),
        unparsed=bad,
    )


def service_cidrs(objs: Any) -> tuple[tuple[str, ...], Family | None]:
    """Usable CIDRs, and the primary Service family (the first range of the `kubernetes`
    object, the one the apiserver builds from --service-cluster-ip-range)."""
    infos = [service_cidr_info(o) for o in _list(objs)]
    cidrs = tuple(c for i in infos if i.usable for c in i.cidrs)
    return cidrs, kubernetes_cidr_primary(infos)


def kubernetes_cidr_primary(infos: list[ServiceCidrInfo]) -> Family | None:
    for info in infos:
        if info.name == "kubernetes" and not info.deleting and info.cidrs and not info.unparsed:
            return cidr_family(info.cidrs[0])
    return None


def cidr_family(cidr: Any) -> Family | None:
    if not isinstance(cidr, str):
        return None
    try:
        return Family.IPV4 if ipaddress.ip_network(cidr, strict=False).version == 4 else Family.IPV6
    except ValueError:
        return None
