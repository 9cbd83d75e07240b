"""What a cluster advertises to the other clusters as its DR endpoints, read from a
report's or an inventory's `local` section (JSON, as `probe/inventory/types.py` writes it).

    advertised(local, dr_port) -> tuple[Advertised, ...]

This is the one place that reads the inventory's JSON for the merge and `--peer-report`:
when the inventory learns more (what each DR Service advertises), only this function
changes. The rules (from the Volt chart, reference/voltdb-xdcr.md):
- a LoadBalancer DR Service offers its ingress IPs (a hostname: the addresses it resolved
  to) on the Service port;
- a NodePort DR Service offers each node's address (ExternalIP when the node has one in
  that family, else InternalIP) on the node port; a per-pod one (selecting one pod by
  statefulset.kubernetes.io/pod-name) only its pod's node's;
- a ClusterIP Service is not reachable from another cluster: it offers nothing.
Per-pod DR Services follow the same rules, one Service per pod.
A Service entry marked `"responder": true` (added by `job run --responder`, never by the
inventory) is the voltprobe responder's: its endpoints are marked `responder`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from probe.model import DEFAULT_DR_PORT, Family, format_endpoint, parse_ip

POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"  # set by the StatefulSet controller


@dataclass(frozen=True)
class Advertised:
    """One DR endpoint a cluster offers: an IP address (or an unresolved hostname) and port."""

    host: str
    port: int
    family: Family | None  # None: a load-balancer hostname that did not resolve
    via: str  # "LoadBalancer volt/volt-dr", "NodePort volt/volt-dr on node-1 (InternalIP)"
    per_pod: bool = False
    # the voltprobe responder's stand-in Service (`job run --responder`), not a DR Service:
    # what the network carries to the cluster in a family its DR Service may not offer yet
    responder: bool = False

    @property
    def key(self) -> tuple[str, int]:
        return (self.host, self.port)

    @property
    def endpoint(self) -> str:
        return format_endpoint(self.host, self.port)


def advertised(local: dict[str, Any], dr_port: int = DEFAULT_DR_PORT) -> tuple[Advertised, ...]:
    """Every DR endpoint the cluster described by `local` offers, deduplicated, in the
    order of its Services. Malformed entries are skipped (the schema checked the types)."""
    found: dict[tuple[str, int], Advertised] = {}
    nodes = [n for n in local.get("nodes") or [] if isinstance(n, dict)]
    for service in local.get("services") or []:
        if not isinstance(service, dict):
            continue
        name = f"{service.get('namespace') or '-'}/{service.get('name') or '-'}"
        per_pod = bool(service.get("perPod"))
        port, node_port = _ports(service, dr_port)
        kind = service.get("type")
        mark = service.get("responder") is True
        entries: list[Advertised] = []
        if kind == "LoadBalancer":
            entries = _ingress(service, port, f"LoadBalancer {name}", per_pod)
        elif kind == "NodePort" and node_port is not None:
            serving = _pod_node(local, service)
            used = [n for n in nodes if n.get("name") == serving] if serving else nodes
            entries = _node_ports(used, node_port, f"NodePort {name}", per_pod)
        for entry in entries:
            if mark:
                entry = replace(entry, via=f"{entry.via} (voltprobe responder)", responder=True)
            found.setdefault(entry.key, entry)
    return tuple(found.values())


def _pod_node(local: dict[str, Any], service: dict[str, Any]) -> str | None:
    """The node of the one pod a per-pod Service selects, when the inventory knows it."""
    selector = service.get("selector") or {}
    pod = selector.get(POD_NAME_LABEL) if isinstance(selector, dict) else None
    if not pod:
        return None
    for entry in (local.get("pods") or {}).get("volt") or []:
        if isinstance(entry, dict) and entry.get("name") == pod and entry.get("node"):
            return str(entry["node"])
    return None


def _ports(service: dict[str, Any], dr_port: int) -> tuple[int, int | None]:
    """The Service port that carries DR (the one equal to the DR port, else the first)
    and its node port."""
    ports = [p for p in service.get("ports") or [] if isinstance(p, dict)]
    chosen = next((p for p in ports if p.get("port") == dr_port), ports[0] if ports else None)
    if chosen is None:
        return dr_port, None
    port = chosen.get("port")
    node_port = chosen.get("nodePort")
    return (
        port if isinstance(port, int) else dr_port,
        node_port if isinstance(node_port, int) else None,
    )


def _ingress(service: dict[str, Any], port: int, via: str, per_pod: bool) -> list[Advertised]:
    entries = []
    for ingress in service.get("loadBalancerIngress") or []:
        if not isinstance(ingress, dict):
            continue
        addresses = [ingress.get("ip")] if ingress.get("ip") else ingress.get("resolved") or []
        parsed = [p for p in (parse_ip(a) for a in addresses if isinstance(a, str)) if p]
        for family, address in parsed:
            entries.append(Advertised(address, port, family, via, per_pod))
        hostname = ingress.get("hostname")
        if not parsed and isinstance(hostname, str) and hostname:
            entries.append(Advertised(hostname, port, None, via, per_pod))
    return entries


def _node_ports(
    nodes: list[dict[str, Any]], node_port: int, via: str, per_pod: bool
) -> list[Advertised]:
    entries = []
    for node in nodes:
        by_family: dict[Family, dict[str, str]] = {}
        for item in node.get("addresses") or []:
            if not isinstance(item, dict) or not isinstance(item.get("address"), str):
                continue
            parsed = parse_ip(item["address"])
            if parsed:
                by_family.setdefault(parsed[0], {}).setdefault(str(item.get("type")), parsed[1])
        for family, kinds in by_family.items():
            kind = "ExternalIP" if "ExternalIP" in kinds else "InternalIP"
            if kind in kinds:
                where = f"{via} on {node.get('name') or '-'} ({kind})"
                entries.append(Advertised(kinds[kind], node_port, family, where, per_pod))
    return entries
