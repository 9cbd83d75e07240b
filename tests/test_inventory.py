"""The Kubernetes inventory against the fake API server, through the real client.

One test per cluster flavour, per failure mode, for paging, for each way of
loading the client, and for the fallbacks (POD_IPS, this host's interfaces).
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from typing import Any

from probe.inventory import Environment, gather, host_inventory
from probe.inventory.types import Inventory
from probe.kube.errors import ApiProblem
from probe.model import Family
from probe.options import KubeOptions
from tests.fakeapi import (
    FakeApiServer,
    Fault,
    KubeContext,
    objects,
    write_incluster_files,
    write_kubeconfig,
)
from tests.fakeapi.files import kubeconfig_for, make_self_signed

V4, V6 = Family.IPV4, Family.IPV6
NS = objects.NAMESPACE
DR = f"{objects.FULLNAME}-cluster-dr"


def env_for(flavour: objects.Flavour | None = None, **extra: str) -> Environment:
    """POD_NAME/POD_NAMESPACE as the downward API sets them; a resolver that never leaves the process."""
    environ = {"POD_NAME": objects.PROBE_POD, "POD_NAMESPACE": NS} if flavour else {}
    environ.update(extra)
    names = flavour.lb_hostnames if flavour else {}
    return Environment(
        environ=environ,
        serviceaccount_dir="/nonexistent/serviceaccount",
        resolve_host=lambda host, timeout: (
            names.get(host, ()),
            "" if host in names else "NXDOMAIN",
        ),
        interface_families=lambda: (V4,),
        home="/nonexistent-home",
    )


def run(
    api: FakeApiServer,
    tmp_path: Path,
    flavour: objects.Flavour | None,
    *,
    env: Environment | None = None,
    **options: object,
) -> Inventory:
    kubeconfig = kubeconfig_for(api, tmp_path / "kubeconfig", namespace=NS)
    opts = KubeOptions(kubeconfig=str(kubeconfig), **options)  # type: ignore[arg-type]
    return gather(opts, 5555, env or env_for(flavour))


def problem(inv: Inventory, resource: str) -> ApiProblem:
    found = [p for p in inv.problems if p.resource == resource]
    assert found, f"no problem for {resource}: {inv.problems}"
    return found[0]


def caps(inv: Inventory, family: Family) -> tuple[str, str, str]:
    cap = inv.families[family]
    return cap.pods, cap.services, cap.nodes


def dead_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- cluster flavours -----------------------------------------------------------


def test_dual_stack(fake_api: FakeApiServer, tmp_path: Path) -> None:
    flavour = objects.dual_stack()
    fake_api.load(flavour)
    inv = run(fake_api, tmp_path, flavour)

    assert inv.available and inv.source == "kubeconfig" and inv.namespace == NS
    assert inv.server_version == "v1.33.2"
    assert caps(inv, V4) == ("yes", "yes", "yes") and caps(inv, V6) == ("yes", "yes", "yes")
    assert inv.primary_family is V4  # first range of the `kubernetes` ServiceCIDR
    assert inv.service_cidrs == ("10.96.0.0/16", "fd00:10:96::/112")
    assert inv.pod_families == (V4, V6) and inv.pod_families_source == "api"
    assert inv.problems == ()

    names = {s.name: s for s in inv.dr_services}
    assert set(names) == {DR, *(f"{objects.FULLNAME}-cluster-{i}-dr" for i in range(3))}
    assert not names[DR].per_pod and names[f"{objects.FULLNAME}-cluster-1-dr"].per_pod
    lb = names[DR]
    assert lb.type == "LoadBalancer" and lb.ip_family_policy == "PreferDualStack"
    assert lb.ip_families == (V4, V6) and lb.cluster_ips == ("10.96.20.1", "fd00:10:96::1401")
    assert lb.external_traffic_policy == "Local"
    # The ingress lists IPv6 first: families come from parsing, not position.
    assert [(i.ip, i.family) for i in lb.lb_ingress] == [
        ("2001:db8:ff::55", V6),
        ("203.0.113.55", V4),
    ]
    assert [(p.name, p.port, p.node_port) for p in lb.ports] == [("replication", 5555, 30555)]
    assert names[f"{objects.FULLNAME}-cluster-2-dr"].ports[0].node_port == 32762

    assert [p.name for p in inv.volt_pods] == [
        objects.volt_pod_name(i) for i in range(3)
    ]  # no nginx
    slices = [
        (s.service, s.address_type, s.addresses) for s in inv.endpoint_slices if s.service == DR
    ]
    assert slices == [
        (DR, "IPv4", ("10.244.0.10", "10.244.1.10", "10.244.2.10")),
        (DR, "IPv6", ("fd12:3456:789a:0::10", "fd12:3456:789a:1::10", "fd12:3456:789a:2::10")),
    ]
    assert len(inv.endpoint_slices) == 8 and all(
        s.ready == len(s.addresses) for s in inv.endpoint_slices
    )
    assert {n.name: n.pod_cidrs for n in inv.nodes}["k8s-worker-2"] == (
        "10.244.1.0/24",
        "fd12:3456:789a:1::/64",
    )

    # Multus: secondary addresses with their /prefix stripped; the default network is not "secondary".
    pod0 = inv.volt_pods[0]
    assert pod0.multus == ("192.0.2.10", "2001:db8:100::10")
    assert [(n.name, n.interface, n.default) for n in pod0.networks] == [
        ("k8s-pod-network", "eth0", True),
        ("volt/macvlan-xdcr", "net1", False),
    ]

    local = inv.to_json()
    assert set(local) >= {
        "kubernetes",
        "pods",
        "services",
        "endpointSlices",
        "nodes",
        "serviceCIDRs",
        "multus",
        "families",
    }
    assert {
        f: {k: v for k, v in c.items() if k not in ("evidence", "rungs")}
        for f, c in local["families"].items()
    } == {
        "IPv4": {"pods": "yes", "services": "yes", "nodes": "yes"},
        "IPv6": {"pods": "yes", "services": "yes", "nodes": "yes"},
    }
    assert local["multus"][0]["addresses"] == ["192.0.2.10", "2001:db8:100::10"]
    assert local["families"]["IPv6"]["rungs"] == {
        "pods": "volt-pods",
        "services": "servicecidr",
        "nodes": "node-addresses",
    }
    assert local["primaryFamilyEvidence"]["rung"] == "servicecidr-kubernetes"
    assert local["services"][-1]["loadBalancerIngress"][0]["family"] == "IPv6"


def test_dual_stack_reads_are_get_or_list_one_call_per_kind(
    fake_api: FakeApiServer, tmp_path: Path
) -> None:
    flavour = objects.dual_stack()
    fake_api.load(flavour)
    run(fake_api, tmp_path, flavour)

    requests = fake_api.requests
    assert {r.method for r in requests} == {"GET"}
    lists = [r.resource for r in requests if r.verb == "list"]
    assert sorted(lists) == [
        "endpointslices", "networkpolicies", "nodes", "pods", "servicecidrs", "services",
    ]  # fmt: skip
    # API discovery (GET /apis): which policy kinds beyond NetworkPolicy are served
    gets = [(r.resource, r.path) for r in requests if r.verb == "get" and r.resource != "discovery"]
    assert gets == [
        ("version", "/version/"),
        ("pods", f"/api/v1/namespaces/{NS}/pods/{objects.PROBE_POD}"),
        ("services", "/api/v1/namespaces/default/services/kubernetes"),  # optional, primary family
    ]
    # Volt pods come from the DR Services' selector (the labels they share), not chart labels.
    pod_list = next(r for r in requests if r.verb == "list" and r.resource == "pods")
    assert (
        pod_list.query["labelSelector"]
        == "name=voltdb-cluster,release=mydb,voltdb-cluster-name=mydb-voltdb"
    )
    assert all(r.query.get("limit") == "500" for r in requests if r.verb == "list")
    assert all(r.authorization == "Bearer fake-api-token" for r in requests)


def test_a_servicecidr_the_typed_client_would_reject_is_still_read(
    fake_api: FakeApiServer, tmp_path: Path
) -> None:
    """A reduced dump's ServiceCIDR without lastTransitionTime: the typed client refuses the
    whole list for it; voltprobe reads the list as JSON and keeps the ranges."""
    from dataclasses import replace as replaced

    flavour = objects.dual_stack()
    stripped = []
    for obj in flavour.objects:
        if obj.get("kind") == "ServiceCIDR":
            obj = json.loads(json.dumps(obj))
            for condition in obj["status"]["conditions"]:
                condition.pop("lastTransitionTime", None)
        stripped.append(obj)
    flavour = replaced(flavour, objects=tuple(stripped))
    fake_api.load(flavour)
    inv = run(fake_api, tmp_path, flavour)
    assert inv.service_cidrs == ("10.96.0.0/16", "fd00:10:96::/112")
    assert inv.primary_family is V4 and not [
        p for p in inv.problems if p.resource == "servicecidrs"
    ]


def test_ipv4_only(fake_api: FakeApiServer, tmp_path: Path) -> None:
    flavour = objects.ipv4_only()
    fake_api.load(flavour)
    inv = run(fake_api, tmp_path, flavour)

    assert caps(inv, V4) == ("yes", "yes", "yes")
    assert caps(inv, V6) == ("no", "no", "no")  # every "no" comes from what the API said
    assert "services: no Ready IPv6 ServiceCIDR (ranges: 10.96.0.0/16)" in inv.families[V6].evidence
    assert inv.primary_family is V4 and inv.pod_families == (V4,)
    assert {s.ip_family_policy for s in inv.dr_services} == {"SingleStack"}
    assert {s.address_type for s in inv.endpoint_slices} == {"IPv4"}
    assert inv.problems == ()


def test_ipv6_only_reads_servicecidrs_through_v1beta1(
    fake_api: FakeApiServer, tmp_path: Path
) -> None:
    flavour = objects.ipv6_only()
    fake_api.load(flavour)
    inv = run(fake_api, tmp_path, flavour)

    assert caps(inv, V6) == ("yes", "yes", "yes") and caps(inv, V4) == ("no", "no", "no")
    assert inv.service_cidrs == ("fd00:10:96::/108",) and inv.primary_family is V6
    paths = [r.path for r in fake_api.requests if r.resource == "servicecidrs"]
    assert paths == [
        "/apis/networking.k8s.io/v1/servicecidrs",
        "/apis/networking.k8s.io/v1beta1/servicecidrs",
    ]
    assert inv.problems == ()  # the v1 404 was answered by the fallback
    assert inv.server_version == "v1.32.5"


def test_eks_like_single_stack_inside_dual_stack_nlb(
    fake_api: FakeApiServer, tmp_path: Path
) -> None:
    flavour = objects.eks_like()
    fake_api.load(flavour)
    inv = run(fake_api, tmp_path, flavour)

    (svc,) = inv.dr_services
    assert svc.type == "LoadBalancer" and svc.ip_families == (V4,)
    (ingress,) = svc.lb_ingress
    assert ingress.hostname == objects.EKS_NLB and ingress.ip is None and ingress.family is None
    assert ingress.resolved == ("203.0.113.80", "2001:db8:ee::80") and ingress.families == (V4, V6)
    # No ServiceCIDR API on this cluster: IPv6 Services are unknown, which does not rule IPv6 out...
    assert caps(inv, V4) == ("yes", "yes", "yes")
    assert inv.families[V6].services == "unknown"
    # ...but the pods and nodes have no IPv6: that is a "no".
    assert inv.families[V6].pods == "no" and inv.families[V6].nodes == "no"
    cidr_problem = problem(inv, "servicecidrs")
    assert (
        cidr_problem.status == 404
        and cidr_problem.cluster_scoped
        and "not served" in cidr_problem.message
    )
    assert (
        inv.nodes[0].addresses[1] == ("ExternalIP", "198.51.100.20")
        and inv.nodes[0].pod_cidrs == ()
    )
    assert inv.to_json()["services"][0]["loadBalancerIngress"][0]["resolvedFamilies"] == [
        "IPv4",
        "IPv6",
    ]


def test_lb_hostname_that_does_not_resolve_is_recorded(
    fake_api: FakeApiServer, tmp_path: Path
) -> None:
    flavour = objects.eks_like()
    fake_api.load(flavour)
    env = env_for(objects.dual_stack())  # a resolver that knows no names
    inv = run(fake_api, tmp_path, flavour, env=env)
    (ingress,) = inv.dr_services[0].lb_ingress
    assert ingress.resolved == () and ingress.resolve_error == "NXDOMAIN"


# -- failure modes ----------------------------------------------------------------


def test_unreachable_api_falls_back_to_interfaces(tmp_path: Path) -> None:
    kubeconfig = write_kubeconfig(
        tmp_path / "kc", [KubeContext("dead", f"http://127.0.0.1:{dead_port()}", "t")]
    )
    inv = gather(KubeOptions(kubeconfig=str(kubeconfig)), 5555, env_for())

    assert not inv.available and "not reachable" in inv.reason and "ConnectionRefused" in inv.reason
    assert (
        inv.source == "host"
        and inv.pod_families == (V4,)
        and inv.pod_families_source == "interfaces"
    )
    assert caps(inv, V4)[0] == "yes" and caps(inv, V6) == ("unknown", "unknown", "unknown")
    (p,) = inv.problems
    assert (p.resource, p.verb, p.status, p.reason) == ("version", "get", None, "ConnectionRefused")
    assert inv.to_json()["kubernetes"]["available"] is False


def test_unreachable_api_uses_pod_ips_when_set(tmp_path: Path) -> None:
    kubeconfig = write_kubeconfig(
        tmp_path / "kc", [KubeContext("dead", f"http://127.0.0.1:{dead_port()}", "t")]
    )
    env = env_for(POD_IPS="10.244.1.5,fd00::5")
    inv = gather(KubeOptions(kubeconfig=str(kubeconfig)), 5555, env)
    assert inv.pod_families == (V4, V6) and inv.pod_families_source == "POD_IPS"
    assert inv.families[V6].pods == "yes"


def test_slow_list_times_out_and_the_rest_goes_on(fake_api: FakeApiServer, tmp_path: Path) -> None:
    flavour = objects.dual_stack()
    fake_api.load(flavour)
    fake_api.add_fault(Fault(verb="list", resource="pods", delay=3.0))
    started = time.monotonic()
    inv = run(fake_api, tmp_path, flavour, request_timeout=0.3)
    assert time.monotonic() - started < 2.5

    p = problem(inv, "pods")
    assert p.reason == "Timeout" and p.status is None and p.namespace == NS and not p.cluster_scoped
    assert inv.available and inv.volt_pods == () and len(inv.dr_services) == 4
    assert inv.families[V6].pods == "yes"  # the probe pod (a get, not slow) still says so


def test_slow_version_means_not_reachable(fake_api: FakeApiServer, tmp_path: Path) -> None:
    fake_api.load(objects.dual_stack())
    fake_api.add_fault(Fault(resource="version", delay=3.0))
    inv = run(fake_api, tmp_path, objects.dual_stack(), request_timeout=0.3)
    assert not inv.available and "Timeout" in inv.reason
    assert [r.resource for r in fake_api.requests if r.resource != "version"] == []


def test_401_credentials_rejected(fake_api: FakeApiServer, tmp_path: Path) -> None:
    fake_api.load(objects.dual_stack())
    kubeconfig = kubeconfig_for(fake_api, tmp_path / "kc", token="expired-token")
    inv = gather(KubeOptions(kubeconfig=str(kubeconfig)), 5555, env_for(objects.dual_stack()))
    assert not inv.available and "credentials rejected" in inv.reason
    (p,) = inv.problems
    assert (p.status, p.reason, p.message) == (401, "Unauthorized", "Unauthorized")
    assert inv.pod_families_source == "interfaces"


def test_403_names_verb_resource_and_rule(fake_api: FakeApiServer, tmp_path: Path) -> None:
    flavour = objects.dual_stack()
    fake_api.load(flavour)
    fake_api.add_fault(Fault(verb="list", resource="pods", status=403))
    fake_api.add_fault(Fault(verb="list", resource="nodes", status=403))
    inv = run(fake_api, tmp_path, flavour)

    assert inv.available
    pods = problem(inv, "pods")
    assert (pods.verb, pods.status, pods.reason, pods.namespace) == ("list", 403, "Forbidden", NS)
    assert 'cannot list resource "pods" in API group "" in the namespace "volt"' in pods.message
    assert 'resources: ["pods"], verbs: ["list"]' in pods.rule and "Role rule" in pods.rule
    assert not pods.cluster_scoped
    nodes = problem(inv, "nodes")
    assert (
        nodes.cluster_scoped
        and "ClusterRole" in nodes.rule
        and 'resources: ["nodes"]' in nodes.rule
    )
    assert "at the cluster scope" in nodes.message
    assert inv.families[V4].nodes == "unknown"  # a failed read never says "no"
    assert inv.nodes == () and len(inv.dr_services) == 4


def test_403_on_servicecidrs_names_the_group(fake_api: FakeApiServer, tmp_path: Path) -> None:
    flavour = objects.dual_stack()
    fake_api.load(flavour)
    fake_api.add_fault(Fault(verb="list", resource="servicecidrs", status=403))
    inv = run(fake_api, tmp_path, flavour)
    p = problem(inv, "servicecidrs")
    assert 'apiGroups: ["networking.k8s.io"]' in p.rule and p.cluster_scoped
    # Existing dual-stack Services still show both families can be allocated.
    assert inv.families[V6].services == "yes" and "ClusterIP" in inv.families[V6].evidence[1]
    # No ServiceCIDR, no kubernetes Service: only the weakest rung (the podIPs order) names one.
    assert inv.primary_family is V4 and inv.primary is not None
    assert inv.primary.rung == "podIPs-order"


def test_404_probe_pod_falls_back_to_pod_ips(fake_api: FakeApiServer, tmp_path: Path) -> None:
    flavour = objects.ipv4_only()
    fake_api.load(flavour)
    env = env_for(flavour, POD_NAME="voltprobe-gone", POD_IPS="10.244.9.9,fd00:10:244:9::9")
    inv = run(fake_api, tmp_path, flavour, env=env)

    p = problem(inv, "pods/voltprobe-gone")
    assert (p.verb, p.status, p.reason) == ("get", 404, "NotFound")
    assert p.message == 'pods "voltprobe-gone" not found'
    assert (
        inv.probe_pod is None
        and inv.pod_families == (V4, V6)
        and inv.pod_families_source == "POD_IPS"
    )


def test_500_on_services(fake_api: FakeApiServer, tmp_path: Path) -> None:
    flavour = objects.dual_stack()
    fake_api.load(flavour)
    fake_api.add_fault(Fault(verb="list", resource="services", status=500))
    inv = run(fake_api, tmp_path, flavour)
    p = problem(inv, "services")
    assert (p.status, p.reason) == (500, "InternalError") and "etcdserver" in p.message
    assert inv.available and inv.dr_services == () and inv.volt_pods == ()
    assert inv.families[V6].nodes == "yes"  # other reads went on


def test_connection_reset(fake_api: FakeApiServer, tmp_path: Path) -> None:
    flavour = objects.dual_stack()
    fake_api.load(flavour)
    fake_api.add_fault(Fault(verb="list", resource="endpointslices", reset=True))
    inv = run(fake_api, tmp_path, flavour)
    p = problem(inv, "endpointslices")
    assert p.reason == "ConnectionReset" and p.status is None
    assert inv.endpoint_slices == () and len(inv.volt_pods) == 3


def test_one_reset_is_retried(fake_api: FakeApiServer, tmp_path: Path) -> None:
    flavour = objects.dual_stack()
    fake_api.load(flavour)
    fault = fake_api.add_fault(Fault(verb="list", resource="endpointslices", reset=True, times=1))
    inv = run(fake_api, tmp_path, flavour)
    assert fault.hits == 1 and inv.problems == () and len(inv.endpoint_slices) == 8


def test_response_the_client_cannot_parse_is_a_problem(
    fake_api: FakeApiServer, tmp_path: Path
) -> None:
    flavour = objects.dual_stack()
    fake_api.load(flavour)
    broken = objects.node("broken-node", [("InternalIP", "10.0.0.1")])
    del broken["status"]["addresses"][0]["type"]  # a required field the apiserver always sends
    fake_api.store.put(broken)
    inv = run(fake_api, tmp_path, flavour)
    p = problem(inv, "nodes")
    assert p.reason == "InvalidResponse" and p.cluster_scoped
    assert inv.available and len(inv.dr_services) == 4


# -- paging -----------------------------------------------------------------------------


def test_paging_reads_every_page(fake_api: FakeApiServer, tmp_path: Path) -> None:
    flavour = objects.scale(pods=450, services=250)
    fake_api.load(flavour)
    # Volt-labelled pods beyond the first page: the DR selector matches them too.
    for i in range(3, 130):
        fake_api.store.put(
            objects.volt_pods([[f"10.244.7.{i}"]], ["n"], [["10.0.0.1"]])[0]
            | {
                "metadata": {
                    "name": objects.volt_pod_name(i),
                    "namespace": NS,
                    "labels": {**objects.VOLT_LABELS},
                }
            }
        )
    env = Environment(**{**env_for(flavour).__dict__, "page_size": 50})
    inv = run(fake_api, tmp_path, flavour, env=env)

    assert inv.problems == ()
    assert len(inv.dr_services) == 4  # they sort after app-0000..app-0249: pages 6 and later
    assert len(inv.volt_pods) == 130
    service_lists = [r for r in fake_api.requests if r.verb == "list" and r.resource == "services"]
    assert len(service_lists) == 6  # 258 Services / 50 per page
    assert "continue" not in service_lists[0].query and all(
        "continue" in r.query for r in service_lists[1:]
    )
    slice_lists = [r for r in fake_api.requests if r.resource == "endpointslices"]
    assert len(slice_lists) == 6 and len(inv.endpoint_slices) == 8


# -- client loading -----------------------------------------------------------------------


def incluster_files(api: FakeApiServer, tmp_path: Path) -> Any:
    """A pod's service-account directory and env for `api` (token, CA, namespace volt)."""
    return write_incluster_files(
        tmp_path / "sa",
        host="127.0.0.1",
        port=api.port,
        token=api.token or "",
        ca_cert=_ca(api, tmp_path),
        namespace=NS,
    )


def test_in_cluster_https_with_token_and_ca(fake_api_tls: FakeApiServer, tmp_path: Path) -> None:
    flavour = objects.ipv6_only()
    fake_api_tls.load(flavour)
    files = incluster_files(fake_api_tls, tmp_path)
    env = Environment(
        **{
            **env_for(flavour).__dict__,
            "serviceaccount_dir": files.directory,
            "environ": {**files.environ, "POD_NAME": objects.PROBE_POD},
        }
    )
    inv = gather(KubeOptions(), 5555, env)  # POD_NAMESPACE unset: the namespace file says "volt"

    assert inv.available and inv.source == "in-cluster" and inv.namespace == NS
    assert fake_api_tls.url.startswith("https://")
    assert all(r.authorization == f"bearer {fake_api_tls.token}" for r in fake_api_tls.requests)
    assert inv.pod_families == (V6,) and inv.pod_families_source == "api"
    assert inv.families[V4].services == "no"


def test_kubernetes_service_host_names_the_primary_only_in_cluster(
    fake_api_tls: FakeApiServer, tmp_path: Path
) -> None:
    """EKS-like: no ServiceCIDR API, single-stack pods. In the pod, KUBERNETES_SERVICE_HOST
    (here the fake's 127.0.0.1, as the kubelet sets the kubernetes Service's ClusterIP)
    names the primary family; read through a kubeconfig, the same variable says nothing."""
    flavour = objects.eks_like()
    fake_api_tls.load(flavour)
    files = incluster_files(fake_api_tls, tmp_path)
    base = env_for(flavour).__dict__
    env = Environment(
        **{
            **base,
            "serviceaccount_dir": files.directory,
            "environ": {**base["environ"], **files.environ},
        }
    )
    inv = gather(KubeOptions(), 5555, env)
    assert inv.source == "in-cluster" and inv.primary is not None
    assert (inv.primary.value, inv.primary.rung) == ("IPv4", "KUBERNETES_SERVICE_HOST")

    kubeconfig = kubeconfig_for(
        fake_api_tls, tmp_path / "kubeconfig", ca_file=_ca(fake_api_tls, tmp_path)
    )
    outside = Environment(**{**base, "environ": {**base["environ"], **files.environ}})
    inv = gather(KubeOptions(kubeconfig=str(kubeconfig)), 5555, outside)
    assert inv.source == "kubeconfig"
    assert inv.primary is None or inv.primary.rung != "KUBERNETES_SERVICE_HOST"


def test_in_cluster_with_the_wrong_ca_is_a_tls_problem(
    fake_api_tls: FakeApiServer, tmp_path: Path
) -> None:
    fake_api_tls.load(objects.ipv4_only())
    other = make_self_signed(tmp_path / "other")
    files = write_incluster_files(
        tmp_path / "sa",
        host="127.0.0.1",
        port=fake_api_tls.port,
        token="t",
        ca_cert=other.cert,
        namespace=NS,
    )
    env = Environment(
        **{**env_for().__dict__, "serviceaccount_dir": files.directory, "environ": files.environ}
    )
    inv = gather(KubeOptions(), 5555, env)
    assert not inv.available and inv.problems[0].reason == "TLSError"
    assert "certificate" in inv.problems[0].message.lower()


def test_explicit_context_wins_over_in_cluster(fake_api: FakeApiServer, tmp_path: Path) -> None:
    flavour = objects.ipv4_only()
    fake_api.load(flavour)
    kubeconfig = write_kubeconfig(
        tmp_path / "kc",
        [
            KubeContext("dead", f"http://127.0.0.1:{dead_port()}", "t", NS),
            KubeContext("live", fake_api.url, fake_api.token, NS),
        ],
        current="dead",
    )
    env = env_for(
        flavour,
        KUBERNETES_SERVICE_HOST="127.0.0.1",
        KUBERNETES_SERVICE_PORT=str(dead_port()),
        KUBECONFIG=str(kubeconfig),
    )
    inv = gather(KubeOptions(context="live"), 5555, env)
    assert inv.available and inv.source == "kubeconfig" and "context live" in inv.reason


def test_kubeconfig_env_and_context_namespace(fake_api: FakeApiServer, tmp_path: Path) -> None:
    flavour = objects.ipv4_only()
    fake_api.load(flavour)
    kubeconfig = kubeconfig_for(fake_api, tmp_path / "kc", namespace=NS)
    env = env_for(
        None, KUBECONFIG=str(kubeconfig)
    )  # no POD_NAMESPACE: the context's namespace counts
    inv = gather(KubeOptions(), 5555, env)
    assert inv.available and inv.namespace == NS and len(inv.dr_services) == 4
    assert inv.probe_pod is None and inv.pod_families_source == "interfaces"


def test_in_cluster_files_missing_and_no_kubeconfig(tmp_path: Path) -> None:
    env = env_for(None, KUBERNETES_SERVICE_HOST="10.96.0.1", KUBERNETES_SERVICE_PORT="443")
    inv = gather(KubeOptions(), 5555, env)
    assert not inv.available and inv.source == "host"
    assert "Service token file does not exist" in inv.reason and "no kubeconfig" in inv.reason


def test_no_cluster_at_all(tmp_path: Path) -> None:
    inv = gather(KubeOptions(), 5555, env_for())
    assert not inv.available and inv.reason.startswith(
        "no kubeconfig at /nonexistent-home/.kube/config"
    )
    assert inv.problems == () and inv.source == "host"


def test_host_inventory_shape() -> None:
    inv = host_inventory("--no-kube given")
    assert (inv.available, inv.source, inv.pod_families_source) == (False, "host", "interfaces")
    assert all(c.services == "unknown" and c.nodes == "unknown" for c in inv.families.values())
    assert all(c.pods in ("yes", "unknown") for c in inv.families.values())


def _ca(server: FakeApiServer, tmp_path: Path) -> str:
    assert server._tls is not None
    return server._tls[0]


def test_release_found_in_another_namespace_when_none_was_named(
    fake_api: FakeApiServer, tmp_path: Path
) -> None:
    flavour = objects.dual_stack()
    fake_api.load(flavour)
    kubeconfig = kubeconfig_for(fake_api, tmp_path / "kc")  # the context names no namespace
    inv = gather(KubeOptions(kubeconfig=str(kubeconfig)), 5555, env_for(None))
    assert inv.namespace == NS and len(inv.dr_services) == 4 and len(inv.volt_pods) == 3
    assert "found DR Services in namespace volt" in inv.notes[0]
    all_ns = [r for r in fake_api.requests if r.path == "/api/v1/services"]
    assert len(all_ns) == 1 and inv.problems == ()


def test_cluster_wide_search_forbidden_is_a_note(fake_api: FakeApiServer, tmp_path: Path) -> None:
    fake_api.load(objects.dual_stack())
    kubeconfig = kubeconfig_for(fake_api, tmp_path / "kc")
    # Only the cluster-wide list is forbidden; "default" itself is readable (and empty).
    fake_api.add_fault(Fault(verb="list", resource="services", status=403, path="/api/v1/services"))
    inv = gather(KubeOptions(kubeconfig=str(kubeconfig)), 5555, env_for(None))
    assert inv.namespace == "default" and inv.dr_services == () and inv.problems == ()
    assert any(
        "could not look for DR Services in other namespaces (HTTP 403 Forbidden)" in n
        for n in inv.notes
    )


def test_release_filters_dr_services_and_names_are_cross_checked(
    fake_api: FakeApiServer, tmp_path: Path
) -> None:
    flavour = objects.ipv4_only()
    fake_api.load(flavour)
    # Another release's DR Service, selecting by labels the chart never uses.
    fake_api.store.put(
        objects.service(
            "other-voltdb-cluster-dr",
            selector={"tier": "xdcr"},
            ports=[objects.port("replication", 5555)],
            families=["IPv4"],
            cluster_ips=["10.96.50.1"],
        )
    )
    fake_api.store.put(
        objects.pod("other-voltdb-cluster-0", ["10.244.5.5"], labels={"tier": "xdcr"})
    )
    # Named like DR without the port, and the DR port without the name.
    fake_api.store.put(
        objects.service(
            "misc-cluster-dr",
            selector={"x": "y"},
            ports=[objects.port("http", 80)],
            families=["IPv4"],
            cluster_ips=["10.96.50.2"],
        )
    )
    fake_api.store.put(
        objects.service(
            "xdcr-gateway",
            selector={"tier": "xdcr"},
            ports=[objects.port("dr", 5555)],
            families=["IPv4"],
            cluster_ips=["10.96.50.3"],
        )
    )
    everything = run(fake_api, tmp_path, flavour)
    names = {s.name for s in everything.dr_services}
    assert "misc-cluster-dr" not in names and {"other-voltdb-cluster-dr", "xdcr-gateway"} <= names
    assert any("misc-cluster-dr is named like a Volt DR Service" in n for n in everything.notes)
    assert any("xdcr-gateway exposes the DR port" in n for n in everything.notes)
    assert any("several Volt releases" in n for n in everything.notes)

    other = run(fake_api, tmp_path, flavour, release="other")
    assert [s.name for s in other.dr_services] == ["other-voltdb-cluster-dr"]
    assert [p.name for p in other.volt_pods] == [
        "other-voltdb-cluster-0"
    ]  # via the selector it read
    pods_query = [
        r.query.get("labelSelector")
        for r in fake_api.requests
        if r.verb == "list" and r.resource == "pods"
    ]
    assert pods_query[-1] == "tier=xdcr"


def test_empty_family_slice_on_a_dual_stack_service_is_visible(
    fake_api: FakeApiServer, tmp_path: Path
) -> None:
    flavour = objects.dual_stack()
    fake_api.load(flavour)
    # Single-stack pods behind the dual-stack DR Service: the controller writes an empty IPv6 slice.
    fake_api.store.put(objects.endpoint_slice(DR, "IPv6", []))
    inv = run(fake_api, tmp_path, flavour)
    (empty,) = [s for s in inv.endpoint_slices if s.service == DR and s.address_type == "IPv6"]
    assert empty.addresses == () and empty.ready == 0
    svc = next(s for s in inv.dr_services if s.name == DR)
    assert len(svc.ip_families) == 2


def test_unreadable_multus_annotation_is_a_note(fake_api: FakeApiServer, tmp_path: Path) -> None:
    flavour = objects.ipv4_only()
    fake_api.load(flavour)
    pod = objects.volt_pods(
        [["10.244.1.5"]],
        ["worker-a"],
        [["172.18.0.2"]],
        [{"k8s.v1.cni.cncf.io/network-status": "[{not json"}],
    )[0]
    fake_api.store.put(pod)
    inv = run(fake_api, tmp_path, flavour)
    assert any(
        n.startswith("pod mydb-voltdb-cluster-0: k8s.v1.cni.cncf.io/network-status is not JSON")
        for n in inv.notes
    )
    assert inv.volt_pods[0].networks == ()
