"""The evidence ladders (probe/inventory/capability.py), one rung at a time, from literal
API objects (wire dicts as the apiserver sends them)."""

from __future__ import annotations

from typing import Any

from probe.inventory import parse
from probe.inventory.capability import (
    Evidence,
    dr_reach,
    pods_ladder,
    primary_ladder,
    services_ladder,
    summarize,
)
from probe.inventory.types import DryRun
from probe.model import Family

V4, V6 = Family.IPV4, Family.IPV6


def pod(name: str, *ips: str, annotations: dict[str, str] | None = None) -> Any:
    meta: dict[str, Any] = {"name": name, "namespace": "voltdb"}
    if annotations:
        meta["annotations"] = annotations
    return parse.pod_info({"metadata": meta, "status": {"podIPs": [{"ip": ip} for ip in ips]}})[0]


def service(
    name: str = "mydb-voltdb-cluster-dr",
    families: list[str] | None = None,
    ips: list[str] | None = None,
    type: str = "ClusterIP",
    managed: list[dict[str, Any]] | None = None,
    **spec: Any,
) -> Any:
    body: dict[str, Any] = {"type": type, "clusterIPs": ips or [], **spec}
    if families is not None:
        body["ipFamilies"] = families
    meta: dict[str, Any] = {"name": name, "namespace": "voltdb"}
    if managed is not None:
        meta["managedFields"] = managed
    return parse.service_info({"metadata": meta, "spec": body}, False)


def cidr(name: str, *ranges: str, ready: str | None = None, deleting: bool = False) -> Any:
    obj: dict[str, Any] = {"metadata": {"name": name}, "spec": {"cidrs": list(ranges)}}
    if ready is not None:
        obj["status"] = {"conditions": [{"type": "Ready", "status": ready}]}
    if deleting:
        obj["metadata"]["deletionTimestamp"] = "2025-05-01T10:00:00Z"
    return parse.service_cidr_info(obj)


def node(*addresses: tuple[str, str], cidrs: tuple[str, ...] = ()) -> Any:
    return parse.node_info(
        {
            "metadata": {"name": "n1"},
            "spec": {"podCIDRs": list(cidrs)},
            "status": {"addresses": [{"type": t, "address": a} for t, a in addresses]},
        }
    )


# -- can the Volt pods use F? ------------------------------------------------------------


def test_pods_volt_podips_decide_and_node_podcidrs_do_not_overrule_them() -> None:
    ev = Evidence(
        pods=(pod("db-0", "10.42.0.10"),), nodes=(node(cidrs=("10.42.0.0/24", "2001:db8:42::/64")),)
    )
    assert pods_ladder(V4, ev).value == "yes"
    v6 = pods_ladder(V6, ev)
    assert (v6.value, v6.rung) == ("no", "volt-pods")


def test_pods_multus_secondary_never_counts_and_default_true_is_not_the_podips_network() -> None:
    status = (
        '[{"name":"ovn-kubernetes","interface":"eth0","ips":["10.244.0.5"],"default":false},'
        '{"name":"udn","interface":"ovn-udn1","ips":["2001:db8:9::5"],"default":true}]'
    )
    p = pod("db-0", "10.244.0.5", annotations={parse.NETWORK_STATUS: status})
    assert p.multus == ("2001:db8:9::5",)  # the "default" network is not in podIPs: secondary
    decided = pods_ladder(V6, Evidence(pods=(p,)))
    assert decided.value == "no" and "Multus secondary" in decided.evidence


def test_pods_probe_pod_then_pod_ips_then_node_podcidrs_then_unknown() -> None:
    probe = pod("voltprobe-x", "2001:db8::9")
    assert pods_ladder(V6, Evidence(probe_pod=probe)).rung == "probe-pod"
    assert pods_ladder(V4, Evidence(probe_pod=probe)).value == "no"
    downward = pods_ladder(V4, Evidence(downward_ips=("10.0.0.3",)))
    assert (downward.value, downward.rung) == ("yes", "POD_IPS")
    cidrs = Evidence(nodes=(node(cidrs=("10.244.0.0/24",)),))
    assert (pods_ladder(V4, cidrs).value, pods_ladder(V4, cidrs).rung) == ("yes", "node-podCIDRs")
    assert pods_ladder(V6, cidrs).value == "unknown"  # a missing CIDR says nothing
    assert pods_ladder(V6, Evidence()).value == "unknown"


# -- can this cluster allocate a Service in F? ------------------------------------------


def test_services_ready_servicecidr_decides_both_ways() -> None:
    ev = Evidence(service_cidrs=(cidr("kubernetes", "10.96.0.0/16", ready="True"),))
    assert (services_ladder(V4, ev).value, services_ladder(V4, ev).rung) == ("yes", "servicecidr")
    assert (services_ladder(V6, ev).value, services_ladder(V6, ev).rung) == ("no", "servicecidr")


def test_services_deleting_or_not_ready_servicecidrs_do_not_count() -> None:
    ev = Evidence(
        service_cidrs=(
            cidr("kubernetes", "10.96.0.0/16", ready="True"),
            cidr("extra-v6", "fd00:10:96::/112", ready="False"),
            cidr("old-v6", "fd00:20:96::/112", deleting=True),
        )
    )
    v6 = services_ladder(V6, ev)
    assert v6.value == "no" and "not counted" in v6.evidence


def test_services_unparseable_servicecidr_never_rules_both_families_out() -> None:
    ev = Evidence(service_cidrs=(cidr("kubernetes", "10.96.0.0/16", "fd00:10:96::/999"),))
    assert services_ladder(V4, ev).value == "yes"
    assert services_ladder(V6, ev).value == "unknown"
    garbage = Evidence(service_cidrs=(cidr("kubernetes", "not-a-cidr"),))
    assert {services_ladder(f, garbage).value for f in (V4, V6)} == {"unknown"}


def test_services_dry_run_beats_servicecidr_and_clusterip_only_says_yes() -> None:
    ev = Evidence(
        service_cidrs=(cidr("kubernetes", "10.96.0.0/16"),),
        dry_runs=(DryRun(V6, "yes", "a dry-run create of an IPv6 Service succeeded"),),
    )
    assert services_ladder(V6, ev).rung == "dry-run"
    only_ips = Evidence(services=(service(families=["IPv6"], ips=["fd00::5"]),))
    assert (services_ladder(V6, only_ips).value, services_ladder(V6, only_ips).rung) == (
        "yes",
        "clusterip",
    )
    assert services_ladder(V4, only_ips).value == "unknown"  # never "no" from ClusterIPs alone


def test_services_positive_only_for_direct_evidence() -> None:
    caps = summarize(Evidence(services=(service(families=["IPv6"], ips=["fd00::5"]),)))
    assert caps[V6].services_positive and not caps[V4].services_positive


# -- which family is primary? -------------------------------------------------------------


def test_primary_kubernetes_servicecidr_first() -> None:
    ev = Evidence(
        service_cidrs=(cidr("kubernetes", "fd00:10:96::/112", "10.96.0.0/16"),),
        pods=(pod("db-0", "10.244.0.1", "fd00::1"),),
    )
    decided = primary_ladder(ev, summarize(ev))
    assert decided is not None and (decided.value, decided.rung) == (
        "IPv6",
        "servicecidr-kubernetes",
    )


def test_primary_kubernetes_service_beats_kubernetes_service_host_and_podips_order() -> None:
    kube = service("kubernetes", families=["IPv4"], ips=["10.96.0.1"])
    ev = Evidence(
        kubernetes_service=kube, service_host="fd00::1", pods=(pod("db-0", "fd00::9", "10.0.0.9"),)
    )
    decided = primary_ladder(ev, summarize(ev))
    assert decided is not None and (decided.value, decided.rung) == ("IPv4", "kubernetes-service")
    no_kube = Evidence(service_host="fd00::1", pods=(pod("db-0", "10.0.0.9", "fd00::9"),))
    decided = primary_ladder(no_kube, summarize(no_kube))
    assert decided is not None and (decided.value, decided.rung) == (
        "IPv6",
        "KUBERNETES_SERVICE_HOST",
    )


def test_primary_from_services_whose_creator_did_not_set_families() -> None:
    creator_chose = [
        {"manager": "helm", "operation": "Update", "fieldsV1": {"f:spec": {"f:ipFamilies": {}}}}
    ]
    defaulted = [
        {
            "manager": "kubectl-create",
            "operation": "Update",
            "fieldsV1": {"f:spec": {"f:ports": {}}},
        }
    ]
    chosen = service("dr", families=["IPv4"], ips=["10.96.0.5"], managed=creator_chose)
    plain = service(
        "web", families=["IPv6", "IPv4"], ips=["fd00::7", "10.96.0.7"], managed=defaulted
    )
    assert chosen.families_defaulted is False and plain.families_defaulted is True
    ev = Evidence(services=(chosen, plain), pods=(pod("db-0", "10.0.0.9", "fd00::9"),))
    decided = primary_ladder(ev, summarize(ev))
    assert decided is not None and (decided.value, decided.rung) == ("IPv6", "defaulted-services")
    # the chosen one alone says nothing about the default: the podIPs order decides
    ev = Evidence(services=(chosen,), pods=(pod("db-0", "fd00::9", "10.0.0.9"),))
    decided = primary_ladder(ev, summarize(ev))
    assert decided is not None and (decided.value, decided.rung) == ("IPv6", "podIPs-order")


def test_primary_only_family_and_none() -> None:
    ev = Evidence(service_cidrs=(cidr("extra", "10.96.0.0/16"),))
    decided = primary_ladder(ev, summarize(ev))
    assert decided is not None and (decided.value, decided.rung) == ("IPv4", "only-family")
    single = Evidence(pods=(pod("db-0", "10.0.0.9"),))  # one family says nothing about order
    assert primary_ladder(single, summarize(single)) is None


# -- can a peer reach this DR Service in F? ------------------------------------------------


def reach(svc: Any, nodes: Any = None) -> dict[Family, tuple[str, str]]:
    return {r.family: (r.value, r.rung) for r in dr_reach((svc,), nodes)}


def test_reach_load_balancer_ingress_cross_checked_with_ipfamilies() -> None:
    svc = parse.service_info(
        {
            "metadata": {"name": "dr", "namespace": "voltdb"},
            "spec": {"type": "LoadBalancer", "ipFamilies": ["IPv4"], "clusterIPs": ["10.43.0.5"]},
            "status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.5"}, {"ip": "2001:db8::5"}]}},
        },
        False,
    )
    assert reach(svc) == {V4: ("yes", "lb-ingress"), V6: ("suspect", "lb-ingress")}
    pending = service(type="LoadBalancer", families=["IPv4"])
    assert reach(pending)[V4] == ("unknown", "lb-ingress")


def test_reach_nodeport_by_node_addresses() -> None:
    svc = service(type="NodePort", families=["IPv6", "IPv4"])
    nodes = (node(("InternalIP", "192.168.66.101"), ("Hostname", "node01")),)
    assert reach(svc, nodes) == {V4: ("yes", "node-addresses"), V6: ("no", "node-addresses")}
    assert reach(svc, None)[V6] == ("unknown", "node-addresses")


def test_reach_clusterip_is_in_cluster_unless_exported() -> None:
    svc = service(families=["IPv4"], ips=["10.96.0.5"])
    assert reach(svc)[V4] == ("in-cluster", "clusterip")
    from dataclasses import replace

    assert reach(replace(svc, exported=True))[V4] == ("unknown", "service-export")


def test_legacy_ipfamily_and_clusterip_family_stand_in() -> None:
    legacy = service(ips=["fd00::5"], ipFamily="IPv6")
    assert (legacy.ip_families, legacy.ip_families_source) == ((V6,), "ipFamily")
    from_ip = service(ips=["10.96.0.5"])
    assert (from_ip.ip_families, from_ip.ip_families_source) == ((V4,), "clusterIPs")
    headless = service(ips=["None"])
    assert (headless.ip_families, headless.ip_families_source) == ((), "")
