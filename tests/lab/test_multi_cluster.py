"""`voltprobe job run --context a --context b` end to end: two simulated clusters, each a
fake API server plus a network namespace whose Jobs run as local processes there
(tests/lab/kubelet.py), with a one-way firewall rule between them. The matrix shows the
asymmetry, each cluster gets its own values, nothing is left behind, and a Job that
hangs leaves a partial matrix that says which direction is unknown.

    cluster a  ns "ca": va0 192.0.2.41/29 2001:db8:1:5::1/64 <-> vb0 .42 ::2  ns "cb"  cluster b
               lo: 198.51.100.1, 2001:db8:0:a::1               lo: 203.0.113.1, 2001:db8:0:b::1
               (the DR LoadBalancer ingress; voltprobe serve on 5555 behind it)
    cb drops IPv6 to 2001:db8:0:b::1 port 5555: a -> b works over IPv4 only, b -> a both.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.fakeapi import objects, resources
from tests.fakeapi.files import KubeContext, write_kubeconfig
from tests.fakeapi.server import DEFAULT_TOKEN, FakeApiServer
from tests.support.processes import run_cli

from . import firewall
from .kubelet import run_jobs_in
from .netns import Namespace, add_address, add_route, add_veth
from .resources import LabRun, Resources
from .responder import start_serve
from .topology import NO_DAD, NO_ICMP_RATE_LIMIT

pytestmark = pytest.mark.lab

DR_PORT = 5555
A4, A6, B4, B6 = "198.51.100.1", "2001:db8:0:a::1", "203.0.113.1", "2001:db8:0:b::1"
OWNED = ("serviceaccounts", "roles", "rolebindings", "jobs")
RBAC = "rbac.authorization.k8s.io/v1"


@dataclass
class Clusters:
    resources: Resources
    a: Namespace
    b: Namespace


@pytest.fixture(scope="module")
def clusters(lab_run: LabRun) -> Iterator[Clusters]:
    made = Resources(lab_run)
    try:
        built = _build(made)
        yield built
    finally:
        errors = made.close()
        if errors:
            pytest.fail("lab teardown: " + "; ".join(errors), pytrace=False)


def _build(made: Resources) -> Clusters:
    a, b = made.namespace("ca"), made.namespace("cb")
    for ns in (a, b):
        ns.sysctl(NO_DAD)
        ns.sysctl({k: v for k, v in NO_ICMP_RATE_LIMIT.items() if ns.has_sysctl(k)})
    add_veth(a, "va0", b, "vb0")
    add_address(a, "192.0.2.41/29", "va0")
    add_address(b, "192.0.2.42/29", "vb0")
    add_address(a, "2001:db8:1:5::1/64", "va0")
    add_address(b, "2001:db8:1:5::2/64", "vb0")
    for ns, v4, v6 in ((a, A4, A6), (b, B4, B6)):
        add_address(ns, f"{v4}/32", "lo")
        add_address(ns, f"{v6}/128", "lo")
    add_route(a, "203.0.113.0/24", "192.0.2.42")
    add_route(a, "2001:db8:0:b::/64", "2001:db8:1:5::2")
    add_route(b, "198.51.100.0/24", "192.0.2.41")
    add_route(b, "2001:db8:0:a::/64", "2001:db8:1:5::1")
    start_serve(made, a, DR_PORT, ready_address=A4)
    start_serve(made, b, DR_PORT, ready_address=B4)
    firewall.apply(b, [firewall.drop(address=B6)])  # one way: a cannot reach b over IPv6
    return Clusters(made, a, b)


def flavour(name: str, v4: str, v6: str) -> objects.Flavour:
    """A Volt cluster whose DR Service is a dual-stack LoadBalancer at (v4, v6)."""
    pods = objects.volt_pods([["10.244.0.10", "fd12::10"]], ["node-1"], [["10.240.0.4"]])
    dr = objects.service(
        f"{objects.FULLNAME}-cluster-dr",
        selector=objects.VOLT_LABELS,
        ports=[objects.port("replication", DR_PORT, node_port=30555)],
        families=["IPv4", "IPv6"],
        cluster_ips=["10.96.20.1", "fd00:10:96::1401"],
        policy="PreferDualStack",
        type_="LoadBalancer",
        ingress=[{"ip": v4, "ipMode": "VIP"}, {"ip": v6, "ipMode": "VIP"}],
    )
    return objects.Flavour(name, (*objects.common(), *pods, dr))


@pytest.fixture
def apis(clusters: Clusters, tmp_path: Path) -> Iterator[tuple[FakeApiServer, FakeApiServer, Path]]:
    with FakeApiServer(token=DEFAULT_TOKEN) as api_a, FakeApiServer(token=DEFAULT_TOKEN) as api_b:
        api_a.load(flavour("xdcr-a", A4, A6))
        api_b.load(flavour("xdcr-b", B4, B6))
        kubeconfig = write_kubeconfig(
            tmp_path / "kubeconfig",
            [
                KubeContext("a", api_a.url, DEFAULT_TOKEN, objects.NAMESPACE),
                KubeContext("b", api_b.url, DEFAULT_TOKEN, objects.NAMESPACE),
            ],
        )
        yield api_a, api_b, kubeconfig


def stored(api: FakeApiServer, plural: str) -> list[dict[str, Any]]:
    group_version = {"serviceaccounts": "v1", "jobs": "batch/v1"}.get(plural, RBAC)
    rt = resources.find(group_version, plural)
    assert rt is not None
    return list(api.store.list(rt, objects.NAMESPACE, lambda obj: True).items)


def cell(document: dict[str, Any], source: str, target: str, family: str) -> dict[str, Any]:
    (direction,) = [d for d in document["directions"] if (d["from"], d["to"]) == (source, target)]
    (found,) = [c for c in direction["families"] if c["family"] == family]
    return found


def test_both_directions_measured_by_a_job_in_each_cluster(
    clusters: Clusters, apis: tuple[FakeApiServer, FakeApiServer, Path], tmp_path: Path
) -> None:
    api_a, api_b, kubeconfig = apis
    runs: list[tuple[float, float]] = []
    api_a.on_create("jobs", run_jobs_in(clusters.a, tmp_path / "a", runs=runs))
    api_b.on_create("jobs", run_jobs_in(clusters.b, tmp_path / "b", runs=runs))
    done = run_cli(
        "job", "run", "--context", "a", "--context", "b", "--kubeconfig", str(kubeconfig),
        "--image", "registry.example/voltprobe:lab",
        "--timeout", "1", "-o", "json", timeout=120,
    )  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert cell(document, "a", "b", "IPv4")["status"] == "ok"
    assert cell(document, "a", "b", "IPv6")["status"] == "fail"
    assert cell(document, "a", "b", "IPv6")["stage"] == "tcp"
    assert "filtered" in cell(document, "a", "b", "IPv6")["detail"]
    assert cell(document, "b", "a", "IPv4")["status"] == "ok"
    assert cell(document, "b", "a", "IPv6")["status"] == "ok"
    by_name = {c["name"]: c for c in document["clusters"]}
    assert by_name["b"]["ipFamilies"] == ["IPv4"]  # a reaches b over IPv4 only
    assert by_name["a"]["ipFamilies"] == ["IPv4"]  # both work; its DR Service's primary
    assert by_name["a"]["connectionSource"] == f"{B4}:5555"
    assert any(
        s.startswith("b -> a works over IPv6, a -> b does not") for s in document["asymmetries"]
    )
    assert "[a] advertises" in done.stderr and "[b] advertises" in done.stderr
    (first, second) = sorted(runs)
    assert second[0] < first[1], "the two Jobs ran one after the other, not concurrently"
    for api in (api_a, api_b):
        for plural in OWNED:
            assert stored(api, plural) == [], f"{plural} left behind"


def test_a_job_that_hangs_leaves_its_direction_unknown(
    clusters: Clusters, apis: tuple[FakeApiServer, FakeApiServer, Path], tmp_path: Path
) -> None:
    api_a, api_b, kubeconfig = apis
    api_a.on_create("jobs", run_jobs_in(clusters.a, tmp_path / "a"))
    api_b.on_create("jobs", run_jobs_in(clusters.b, tmp_path / "b", hang=True))
    done = run_cli(
        "job", "run", "--context", "a", "--context", "b", "--kubeconfig", str(kubeconfig),
        "--image", "registry.example/voltprobe:lab",
        "--timeout", "1", "--wait", "4", "-o", "json", timeout=120,
    )  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 3, done.stderr
    document = json.loads(done.stdout)
    assert cell(document, "a", "b", "IPv4")["status"] == "ok"
    unknown = cell(document, "b", "a", "IPv4")
    assert unknown["status"] == "unknown" and "did not finish" in unknown["detail"]
    assert "b->a" in document["verdict"]
    by_name = {c["name"]: c for c in document["clusters"]}
    assert by_name["b"]["ipFamilies"] == ["IPv4"]
    assert by_name["a"]["ipFamilies"] == [] and by_name["a"]["undecided"]
    for api in (api_a, api_b):
        for plural in OWNED:
            assert stored(api, plural) == [], f"{plural} left behind"
