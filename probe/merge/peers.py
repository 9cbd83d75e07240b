"""`check --peer-report B.json`: every DR endpoint cluster B advertises, as targets.

    peer_targets(name, document) -> tuple[Target, ...]   raises UsageError (exit 2)

Replication dials each per-node address a cluster advertises, not only its discovery
endpoint, so the check probes all of them, each in its own family (an IP literal) or both
(a load-balancer hostname). Each target carries the peer's cluster name, so that the
merge knows whose endpoint it is.
"""

from __future__ import annotations

from dataclasses import replace

from probe.documents import Document, InventoryReport
from probe.errors import UsageError
from probe.merge.advertised import advertised
from probe.model import DEFAULT_DR_PORT, Target, format_endpoint, parse_ip
from probe.targets import parse_endpoint


def peer_targets(name: str, document: Document, cluster: str) -> tuple[Target, ...]:
    """The endpoints `document` (read from file `name`) advertises, labelled `cluster`."""
    given = document.options.get("port")
    port = given if isinstance(given, int) else DEFAULT_DR_PORT
    kube = document.local.get("kubernetes") or {}
    if not kube.get("available"):
        raise UsageError(
            f"{name}: {cluster}'s inventory has no Kubernetes facts "
            f"({kube.get('reason') or 'the API was not read'}): it advertises nothing to probe"
        )
    offered = advertised(document.local, port)
    if not offered:
        kind = "inventory" if isinstance(document, InventoryReport) else "report"
        raise UsageError(
            f"{name}: the {kind} of {cluster} shows no DR endpoint another cluster can reach "
            "(no LoadBalancer ingress or NodePort DR Service)"
        )
    targets: dict[tuple[str, int], Target] = {}
    for entry in offered:
        target = parse_endpoint(format_endpoint(entry.host, entry.port), entry.port)
        targets.setdefault((target.host, target.port), replace(target, cluster=cluster))
    return tuple(targets.values())


def peer_sources(document: Document) -> tuple[str, ...]:
    """The addresses the peer's DR connections may come from, as its inventory shows
    them: its Volt pods' podIPs and its nodes' InternalIP/ExternalIP (pod egress is often
    SNATed to the node). What a NetworkPolicy on this side must let in on the DR port."""
    local = document.local if isinstance(document.local, dict) else {}
    found: list[str] = []
    pods = local.get("pods")
    for pod in (pods.get("volt") or []) if isinstance(pods, dict) else []:
        if isinstance(pod, dict):
            found += [str(ip) for ip in pod.get("ips") or [] if isinstance(ip, str)]
    for node in local.get("nodes") or []:
        for entry in (node.get("addresses") or []) if isinstance(node, dict) else []:
            if isinstance(entry, dict) and entry.get("type") in ("InternalIP", "ExternalIP"):
                found.append(str(entry.get("address")))
    return tuple(a for a in dict.fromkeys(found) if parse_ip(a) is not None)
