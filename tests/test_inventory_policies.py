"""Reading NetworkPolicies through the real kubernetes client against the fake API server:
paging, the 403 (with the Role rule to add), a namespace without the API, and the policy
kinds that are served but not evaluated."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client

from probe.inventory.policies import read_policies
from probe.kube.errors import Read
from probe.kube.reader import ApiReader
from tests.fakeapi import FakeApiServer, Fault
from tests.fakeapi.resources import DEFAULT_SERVED

NS = "volt"


def network_policy(name: str, namespace: str = NS) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "podSelector": {"matchLabels": {"app": "voltdb"}},
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["192.0.2.0/25"]}}],
                    "ports": [{"protocol": "TCP", "port": 5555, "endPort": 5556}],
                }
            ],
        },
    }


@pytest.fixture
def api_client(fake_api: FakeApiServer) -> Iterator[client.ApiClient]:
    config = client.Configuration(host=fake_api.url)
    config.api_key = {"BearerToken": f"Bearer {fake_api.token}"}
    with client.ApiClient(config) as api:
        yield api


def reader(api: client.ApiClient, page_size: int = 2) -> ApiReader:
    return ApiReader(api, timeout=5.0, page_size=page_size)


def test_lists_the_namespaces_policies_page_by_page(
    fake_api: FakeApiServer, api_client: client.ApiClient
) -> None:
    fake_api.store.put_many(
        [network_policy(f"p{i}") for i in range(5)] + [network_policy("elsewhere", "other")]
    )
    read = read_policies(reader(api_client), api_client, NS)
    assert read.read and read.problem is None
    assert sorted(p["metadata"]["name"] for p in read.policies) == [f"p{i}" for i in range(5)]
    # Wire form, camelCase, as probe.policies reads it.
    rule = read.policies[0]["spec"]["egress"][0]
    assert rule["to"][0]["ipBlock"] == {"cidr": "0.0.0.0/0", "except": ["192.0.2.0/25"]}
    assert rule["ports"][0] == {"protocol": "TCP", "port": 5555, "endPort": 5556}
    lists = [r for r in fake_api.requests if r.resource == "networkpolicies" and r.verb == "list"]
    assert len(lists) == 3 and all(r.namespace == NS for r in lists)
    assert read.unevaluated == () and read.discovery_problems == ()
    assert sorted(read.to_json()["networkPolicies"]) == [f"p{i}" for i in range(5)]


def test_a_forbidden_list_is_a_problem_naming_the_role_rule(
    fake_api: FakeApiServer, api_client: client.ApiClient
) -> None:
    fake_api.store.put_many([network_policy("p0")])
    fake_api.add_fault(Fault(verb="list", resource="networkpolicies", status=403))
    read = read_policies(reader(api_client), api_client, NS)
    assert not read.read and read.policies == ()
    assert read.problem is not None and read.problem.status == 403
    assert read.problem.reason == "Forbidden"
    assert 'resources: ["networkpolicies"], verbs: ["list"]' in read.problem.rule
    assert 'apiGroups: ["networking.k8s.io"]' in read.problem.rule
    assert read.to_json()["problem"]["status"] == 403


def test_an_apiserver_without_networking_v1_is_a_404_problem(
    fake_api: FakeApiServer, api_client: client.ApiClient
) -> None:
    fake_api.served = DEFAULT_SERVED - {"networking.k8s.io/v1"}
    read = read_policies(reader(api_client), api_client, NS)
    assert read.problem is not None and read.problem.status == 404


def test_served_policy_kinds_it_does_not_evaluate_are_named(
    fake_api: FakeApiServer, api_client: client.ApiClient
) -> None:
    fake_api.served = DEFAULT_SERVED | {
        "cilium.io/v2",
        "k8s.cni.cncf.io/v1",
        "k8s.cni.cncf.io/v1beta1",
        "policy.networking.k8s.io/v1alpha1",
    }
    read = read_policies(reader(api_client), api_client, NS)
    assert read.read
    assert sorted(read.unevaluated) == [
        "AdminNetworkPolicy (policy.networking.k8s.io/v1alpha1)",
        "CiliumNetworkPolicy (cilium.io/v2)",
        "MultiNetworkPolicy (k8s.cni.cncf.io/v1beta1)",
    ]
    # One /apis, then one discovery GET per served version of a known policy group.
    discovery = [r.path for r in fake_api.requests if r.resource == "discovery"]
    assert discovery == [
        "/apis/",
        "/apis/cilium.io/v2",
        "/apis/k8s.cni.cncf.io/v1",
        "/apis/k8s.cni.cncf.io/v1beta1",
        "/apis/policy.networking.k8s.io/v1alpha1",
    ]


def test_multus_without_multi_networkpolicy_names_nothing(
    fake_api: FakeApiServer, api_client: client.ApiClient
) -> None:
    fake_api.served = DEFAULT_SERVED | {"k8s.cni.cncf.io/v1"}
    read = read_policies(reader(api_client), api_client, NS)
    assert read.unevaluated == ()


def test_failed_discovery_is_reported_and_the_policies_still_read(
    fake_api: FakeApiServer, api_client: client.ApiClient
) -> None:
    fake_api.store.put_many([network_policy("p0")])
    fake_api.add_fault(Fault(resource="discovery", path="/apis", status=500))
    read = read_policies(reader(api_client), api_client, NS)
    assert [p["metadata"]["name"] for p in read.policies] == ["p0"]
    assert len(read.discovery_problems) == 1 and read.discovery_problems[0].status == 500


# -- end to end: read through the client, evaluate for the Volt pods ---------------------


def test_ipv4_only_policy_blocks_ipv6_for_the_volt_pods_end_to_end(
    fake_api: FakeApiServer, api_client: client.ApiClient
) -> None:
    """The issue's case: Volt pods on a dual-stack cluster, a policy allowing egress to
    0.0.0.0/0 on 5555 only, a peer reachable in both families. The probing Job's pod is
    not selected, so its probe would pass IPv6; the Volt pods' IPv6 egress is dropped.
    (No probe runs here: the peer's endpoints are data.)"""
    from probe.checks.policies import PolicyFacts, PolicyPod, blocked_family, probe_not_like_volt
    from probe.inventory.policies import named_ports, pod_labels
    from tests.fakeapi import objects

    fake_api.load(objects.dual_stack())
    dr = network_policy("volt-dr")
    dr["spec"]["podSelector"] = {"matchLabels": {"release": "mydb"}}
    dr["spec"]["egress"][0]["to"][0]["ipBlock"] = {"cidr": "0.0.0.0/0"}
    dr["spec"]["egress"][0]["ports"] = [{"protocol": "TCP", "port": 5555}]
    fake_api.store.put_many([dr])

    read = reader(api_client)
    core = client.CoreV1Api(api_client)
    volt = read.list_all(
        Read("list", "pods", namespace=NS),
        core.list_namespaced_pod,
        NS,
        label_selector="release=mydb",
    )
    probe = read.call(
        Read("get", "pods", namespace=NS, name=objects.PROBE_POD),
        core.read_namespaced_pod,
        objects.PROBE_POD,
        NS,
    )
    assert isinstance(volt, list) and isinstance(probe, dict)
    policies = read_policies(read, api_client, NS)
    assert named_ports(volt[0]) == ()  # the fake's container ports have no names

    facts = PolicyFacts(
        namespace=NS,
        policies=policies.policies,
        volt_pods=tuple(PolicyPod(p["metadata"]["name"], pod_labels(p)) for p in volt),
        selector=objects.VOLT_LABELS,
        egress=(("192.0.2.10", 5555), ("2001:db8::10", 5555)),
        probe_pod=PolicyPod(objects.PROBE_POD, pod_labels(probe)),
        recommended=None,
    )
    (hit,) = blocked_family(facts)
    assert hit.message.startswith("IPv6 Egress of the Volt pods to [2001:db8::10]:5555")
    assert hit.subjects == ("networkpolicy/volt/volt-dr",)
    assert hit.remedy is not None and "cidr: 2001:db8::10/128" in hit.remedy
    job = [h for h in probe_not_like_volt(facts) if h.message.startswith("IPv6")]
    assert job and "the Job's pod not-isolated" in job[0].message


def test_pod_labels_and_named_ports_from_wire_dicts() -> None:
    from probe.inventory.policies import named_ports, pod_labels
    from probe.policies import ContainerPort

    pod = {
        "metadata": {"labels": {"app": "voltdb"}},
        "spec": {
            "containers": [
                {
                    "ports": [
                        {"name": "replication", "containerPort": 5555},
                        {"containerPort": 8080},
                    ]
                },
                {"ports": [{"name": "dns", "containerPort": 53, "protocol": "UDP"}]},
                {
                    "ports": [
                        {"name": "odd", "containerPort": "x"},
                        {"name": "icmp", "containerPort": 1, "protocol": "ICMP"},
                    ]
                },
                {},
            ]
        },
    }
    assert pod_labels(pod) == {"app": "voltdb"}
    assert pod_labels({"metadata": {"labels": None}}) == {} and pod_labels({}) == {}
    assert named_ports(pod) == (ContainerPort("replication", 5555), ContainerPort("dns", 53, "UDP"))
    assert named_ports({}) == ()
