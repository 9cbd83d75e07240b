"""Literal Facts for check and recommendation tests (no sockets, no cluster)."""

from __future__ import annotations

from probe.facts import Facts
from probe.inventory.types import FamilyCapability, Inventory, ServiceInfo, ServicePort
from probe.model import (
    DnsAnswer,
    DnsOutcome,
    Family,
    IcmpError,
    Method,
    ProbeResult,
    ProbeState,
    Target,
)
from probe.options import CheckOptions, KubeOptions
from probe.targets import parse_endpoint

V4, V6 = Family.IPV4, Family.IPV6


def dns(
    target: str, family: Family, *addresses: str, outcome: DnsOutcome | None = None
) -> DnsAnswer:
    if outcome is None:
        outcome = DnsOutcome.OK if addresses else DnsOutcome.NO_ADDRESS
    return DnsAnswer(target, family, outcome, tuple(addresses))


def row(
    target: str,
    address: str | None,
    state: ProbeState,
    reason: str = "",
    *,
    port: int = 5555,
    icmp: IcmpError | None = None,
    family: Family | None = None,
) -> ProbeResult:
    family = family or (Family.of(address) if address else V4)
    return ProbeResult(
        target,
        family,
        port,
        state,
        reason or state.value,
        Method.CONNECT,
        address,
        1.0 if state is ProbeState.OPEN else None,
        icmp,
    )


def no_cluster() -> Inventory:
    return Inventory(
        available=False,
        reason="--no-kube given",
        source="host",
        pod_families=(V4, V6),
        pod_families_source="interfaces",
    )


def cluster(
    services: dict[Family, str] | None = None,
    pods: dict[Family, str] | None = None,
    primary: Family | None = V4,
    dr_services: tuple[ServiceInfo, ...] = (),
    **fields: object,
) -> Inventory:
    services = services or {V4: "yes", V6: "yes"}
    pods = pods or {V4: "yes", V6: "yes"}
    families = {
        f: FamilyCapability(
            pods=pods.get(f, "unknown"),
            services=services.get(f, "unknown"),  # type: ignore[arg-type]
            nodes="unknown",
            # as if read from Ready ServiceCIDRs and the Volt pods' podIPs
            pods_rung="volt-pods" if pods.get(f, "unknown") != "unknown" else "",
            services_rung="servicecidr" if services.get(f, "unknown") != "unknown" else "",
        )
        for f in (V4, V6)
    }
    pod_families = tuple(f for f in (V4, V6) if pods.get(f) == "yes")
    return Inventory(
        available=True,
        reason="kubeconfig",
        source="kubeconfig",
        namespace="volt",
        pod_families=pod_families,
        pod_families_source="api",
        families=families,
        primary_family=primary,
        dr_services=dr_services,
        **fields,
    )  # type: ignore[arg-type]


def dr_service(
    name: str = "volt-voltdb-cluster-dr",
    families: tuple[Family, ...] = (V4,),
    policy: str = "SingleStack",
    type: str = "ClusterIP",
    per_pod: bool = False,
    **fields: object,
) -> ServiceInfo:
    return ServiceInfo(
        namespace="volt",
        name=name,
        type=type,
        ip_families=families,
        ip_family_policy=policy,
        cluster_ips=(),
        ports=(ServicePort("replication", 5555),),
        per_pod=per_pod,
        **fields,
    )  # type: ignore[arg-type]


def make_facts(
    peers: str,
    answers: list[DnsAnswer] | None = None,
    rows: list[ProbeResult] | None = None,
    inventory: Inventory | None = None,
    per_pod: bool = False,
) -> Facts:
    targets: tuple[Target, ...] = tuple(parse_endpoint(p) for p in peers.split(","))
    options = CheckOptions(targets=targets, per_pod=per_pod, kube=KubeOptions(enabled=False))
    literal_answers = [
        DnsAnswer(t.text, t.literal_family, DnsOutcome.LITERAL, (t.host,))
        for t in targets
        if t.literal_family is not None
    ]
    return Facts(
        targets,
        tuple(literal_answers + (answers or [])),
        tuple(rows or []),
        inventory or no_cluster(),
        options,
    )
