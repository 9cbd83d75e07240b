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
from probe.model import DEFAULT_DR_PORT, Target, format_endpoint
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
