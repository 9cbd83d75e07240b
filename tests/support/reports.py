"""Hand-made voltprobe/v1 report documents (JSON dicts, as a file would hold them), for
the merge: each cluster's DR Service, and what its check saw of its peer."""

from __future__ import annotations

from typing import Any

from probe.model import Family, format_endpoint

V4, V6 = "IPv4", "IPv6"


def lb_service(
    *ingress: str, families: tuple[str, ...] = (V4, V6), name: str = "volt-dr", port: int = 5555
) -> dict[str, Any]:
    """A LoadBalancer DR Service with these ingress IPs."""
    return {
        "namespace": "volt",
        "name": name,
        "type": "LoadBalancer",
        "ipFamilies": list(families),
        "ipFamilyPolicy": "PreferDualStack" if len(families) > 1 else "SingleStack",
        "clusterIPs": [],
        "perPod": False,
        "ports": [{"name": "dr", "port": port, "targetPort": "5555", "nodePort": 30555}],
        "loadBalancerIngress": [{"ip": ip, "hostname": None, "resolved": []} for ip in ingress],
    }


def local(
    *services: dict[str, Any],
    services_cap: dict[str, str] | None = None,
    available: bool = True,
    version: str = "v1.31.2",
) -> dict[str, Any]:
    caps = services_cap or {V4: "yes", V6: "yes"}
    return {
        "kubernetes": {
            "available": available,
            "reason": "kubeconfig" if available else "--no-kube given",
            "source": "kubeconfig" if available else "host",
            "namespace": "volt",
            "version": version if available else None,
        },
        "pods": {"probeFamilies": [V4, V6], "probeFamiliesSource": "api"},
        "services": list(services),
        "endpointSlices": [],
        "nodes": [],
        "serviceCIDRs": [],
        "primaryFamily": None,
        "families": {
            f: {"pods": "yes", "services": caps.get(f, "yes"), "nodes": "unknown"} for f in (V4, V6)
        },
    }


def report(
    cluster: str | None,
    peer: str | None,
    states: dict[str, str],
    own: dict[str, Any],
    *,
    error: str | None = None,
    findings: list[dict[str, Any]] | None = None,
    recommended: tuple[str, ...] = (),
    port: int = 5555,
) -> dict[str, Any]:
    """A check report from `cluster` that probed `peer`'s addresses with these states
    ({address: state}); each address is an IP literal target."""
    targets, dns, probes = [], [], []
    for address, state in states.items():
        family = Family.of(address).value
        targets.append(
            {
                "target": address,
                "host": address,
                "port": port,
                "literal": True,
                "literalFamily": family,
            }
        )
        dns.append(
            {
                "target": address,
                "family": family,
                "outcome": "literal",
                "addresses": [address],
                "detail": "",
            }
        )
        reason = {"open": "syn-ack", "filtered": "no-response", "closed": "reset"}.get(state, state)
        probes.append(
            {
                "target": address,
                "address": address,
                "family": family,
                "port": port,
                "state": state,
                "reason": reason,
                "method": "connect",
                "rttMs": 0.5 if state == "open" else None,
            }
        )
    key = "cluster.serviceSpec.dr.ipFamilies"
    doc: dict[str, Any] = {
        "schema": "voltprobe/v1",
        "version": "0.1.0",
        "verdict": "hand-made",
        "exitCode": 0 if recommended else (3 if error else 1),
        "error": error,
        "options": {"port": port, "timeout": 2.0, "dnsTimeout": 3.0, "mode": "connect"},
        "targets": targets,
        "dns": dns,
        "probes": [] if error else probes,
        "local": own,
        "findings": findings or [],
        "skippedChecks": [],
        "recommendation": {
            "ipFamilies": list(recommended),
            "helmKey": key,
            "helmValues": {},
            "rationale": ["hand-made"],
            "connectionSource": None,
        },
        "timings": {"probe": 1.0},
    }
    if cluster is not None or peer is not None:
        doc["cluster"] = {"name": cluster, "peer": peer, "context": cluster}
    return doc


def endpoint(address: str, port: int = 5555) -> str:
    return format_endpoint(address, port)
