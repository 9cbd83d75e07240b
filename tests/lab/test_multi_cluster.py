"""`voltprobe job run --context a --context b` end to end: two simulated clusters, each a
fake API server plus a network namespace whose Jobs run as local processes there
(tests/lab/kubelet.py), with a one-way firewall rule between them. The matrix shows the
asymmetry, each cluster gets its own values, nothing is left behind, and a Job that
hangs leaves a partial matrix that says which direction is unknown. With `--responder`,
each cluster's responder Pod runs as `voltprobe serve` in its namespace and a fake
load-balancer controller gives its Service one ingress address per family
(tests/fakeapi/hooks.py provision_load_balancers).

    cluster a  ns "ca": va0 192.0.2.41/29 2001:db8:1:5::1/64 <-> vb0 .42 ::2  ns "cb"  cluster b
               lo: 198.51.100.1, 2001:db8:0:a::1               lo: 203.0.113.1, 2001:db8:0:b::1
               (the DR LoadBalancer ingress; voltprobe serve on 5555 behind it)
               lo: 198.51.100.9, 2001:db8:0:a::9               lo: 203.0.113.9, 2001:db8:0:b::9
               (the responder's load balancer ingress, bound by its serve process)
    cb drops IPv6 to 2001:db8:0:b::1 and ::9 port 5555: a -> b works over IPv4 only, b -> a
    both.
"""

from __future__ import annotations

import itertools
import json
import signal
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from probe.k8sjob.objects import runner_role
from tests.fakeapi import objects, resources
from tests.fakeapi.files import KubeContext, write_kubeconfig
from tests.fakeapi.hooks import provision_load_balancers
from tests.fakeapi.server import DEFAULT_TOKEN, FakeApiServer, Fault
from tests.support.processes import VOLTPROBE, run_cli, wait_until
from tests.support.rbac import grants

from . import firewall
from .kubelet import ResponderKubelet, run_jobs_in
from .netns import Namespace, add_address, add_route, add_veth
from .resources import LabRun, Resources
from .responder import start_serve
from .topology import NO_DAD, NO_ICMP_RATE_LIMIT

pytestmark = pytest.mark.lab

DR_PORT = 5555
A4, A6, B4, B6 = "198.51.100.1", "2001:db8:0:a::1", "203.0.113.1", "2001:db8:0:b::1"
RA4, RA6, RB4, RB6 = "198.51.100.9", "2001:db8:0:a::9", "203.0.113.9", "2001:db8:0:b::9"
C4, C6, RC4, RC6 = "192.0.2.129", "2001:db8:0:c::1", "192.0.2.137", "2001:db8:0:c::9"
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
    spaces = build_clusters(made, ("a", "b"))
    a, b = spaces["a"], spaces["b"]
    # one way: a cannot reach b over IPv6
    firewall.apply(b, [firewall.drop(address=B6), firewall.drop(address=RB6)])
    return Clusters(made, a, b)


@dataclass(frozen=True)
class Site:
    """One simulated cluster's addresses on its loopback: the DR load balancer ingress
    (v4, v6), the responder's (r4, r6), and the prefixes routed to it."""

    v4: str
    v6: str
    r4: str
    r6: str
    prefixes: tuple[str, str]


SITES = {
    "a": Site(A4, A6, RA4, RA6, ("198.51.100.0/24", "2001:db8:0:a::/64")),
    "b": Site(B4, B6, RB4, RB6, ("203.0.113.0/24", "2001:db8:0:b::/64")),
    "c": Site(C4, C6, RC4, RC6, ("192.0.2.128/25", "2001:db8:0:c::/64")),
}


def link_name(names: Sequence[str], here: str, there: str) -> str:
    """The interface in `here`'s namespace on its link to `there` (see build_clusters)."""
    pairs = list(itertools.combinations(names, 2))
    k = pairs.index((here, there) if (here, there) in pairs else (there, here))
    return f"v{here}{k}"


def build_clusters(made: Resources, names: Sequence[str]) -> dict[str, Namespace]:
    """A namespace per cluster of `names` (keys of SITES), each pair joined by its own
    veth: pair k (in itertools.combinations order) on 192.0.2.(40+8k)/29 and
    2001:db8:1:(5+k)::/64, the first cluster .1/::1, interfaces v<name><k>; routes to
    the other clusters' prefixes, and `voltprobe serve` on each cluster's DR addresses."""
    spaces = {name: made.namespace(f"c{name}") for name in names}
    for ns in spaces.values():
        ns.sysctl(NO_DAD)
        ns.sysctl({k: v for k, v in NO_ICMP_RATE_LIMIT.items() if ns.has_sysctl(k)})
    for k, (x, y) in enumerate(itertools.combinations(names, 2)):
        add_veth(spaces[x], link_name(names, x, y), spaces[y], link_name(names, y, x))
        ends = {
            x: (f"192.0.2.{41 + 8 * k}", f"2001:db8:1:{5 + k}::1"),
            y: (f"192.0.2.{42 + 8 * k}", f"2001:db8:1:{5 + k}::2"),
        }
        for here, there in ((x, y), (y, x)):
            v4, v6 = ends[here]
            add_address(spaces[here], f"{v4}/29", link_name(names, here, there))
            add_address(spaces[here], f"{v6}/64", link_name(names, here, there))
            for prefix, via in zip(SITES[there].prefixes, ends[there], strict=True):
                add_route(spaces[here], prefix, via)
    for name, ns in spaces.items():
        site = SITES[name]
        for address in (f"{site.v4}/32", f"{site.v6}/128", f"{site.r4}/32", f"{site.r6}/128"):
            add_address(ns, address, "lo")
        # the DR listeners bind their own addresses only: the responder's are its process's
        start_serve(made, ns, DR_PORT, ready_address=site.v4, binds=(site.v4, site.v6))
    return spaces


def flavour(name: str, v4: str, v6: str | None) -> objects.Flavour:
    """A Volt cluster whose DR Service is a dual-stack LoadBalancer at (v4, v6), or an
    IPv4-only one at v4 (v6 None: what the cluster advertises before any change)."""
    pods = objects.volt_pods([["10.244.0.10", "fd12::10"]], ["node-1"], [["10.240.0.4"]])
    dr = objects.service(
        f"{objects.FULLNAME}-cluster-dr",
        selector=objects.VOLT_LABELS,
        ports=[objects.port("replication", DR_PORT, node_port=30555)],
        families=["IPv4", "IPv6"] if v6 else ["IPv4"],
        cluster_ips=["10.96.20.1", "fd00:10:96::1401"] if v6 else ["10.96.20.1"],
        policy="PreferDualStack" if v6 else "SingleStack",
        type_="LoadBalancer",
        ingress=[{"ip": v4, "ipMode": "VIP"}, *([{"ip": v6, "ipMode": "VIP"}] if v6 else [])],
    )
    return objects.Flavour(name, (*objects.common(), *pods, dr))


@contextmanager
def fake_apis(
    tmp_path: Path, flavours: Mapping[str, objects.Flavour]
) -> Iterator[tuple[dict[str, FakeApiServer], Path]]:
    """A fake API server per context (the keys of `flavours`) and one kubeconfig naming them."""
    with ExitStack() as stack:
        apis = {name: stack.enter_context(FakeApiServer(token=DEFAULT_TOKEN)) for name in flavours}
        for name, loaded in flavours.items():
            apis[name].load(loaded)
        kubeconfig = write_kubeconfig(
            tmp_path / "kubeconfig",
            [
                KubeContext(name, api.url, DEFAULT_TOKEN, objects.NAMESPACE)
                for name, api in apis.items()
            ],
        )
        yield apis, kubeconfig


@contextmanager
def two_apis(
    tmp_path: Path, dual_stack_dr: bool
) -> Iterator[tuple[FakeApiServer, FakeApiServer, Path]]:
    with fake_apis(
        tmp_path,
        {
            "a": flavour("xdcr-a", A4, A6 if dual_stack_dr else None),
            "b": flavour("xdcr-b", B4, B6 if dual_stack_dr else None),
        },
    ) as (apis, kubeconfig):
        yield apis["a"], apis["b"], kubeconfig


@pytest.fixture
def apis(clusters: Clusters, tmp_path: Path) -> Iterator[tuple[FakeApiServer, FakeApiServer, Path]]:
    with two_apis(tmp_path, dual_stack_dr=True) as found:
        yield found


@pytest.fixture
def apis_v4(
    clusters: Clusters, tmp_path: Path
) -> Iterator[tuple[FakeApiServer, FakeApiServer, Path]]:
    """Both clusters' DR Services IPv4-only: IPv6 can be probed only through a responder."""
    with two_apis(tmp_path, dual_stack_dr=False) as found:
        yield found


def stored(api: FakeApiServer, plural: str) -> list[dict[str, Any]]:
    group_version = {
        "serviceaccounts": "v1", "jobs": "batch/v1", "pods": "v1", "services": "v1"
    }.get(plural, RBAC)  # fmt: skip
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
    assert_nothing_stored(api_a, api_b)


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
    assert_nothing_stored(api_a, api_b)


# -- job run --responder -----------------------------------------------------------


def assert_cleaned(done: Any) -> None:
    """Every delete answered: nothing reported as left behind."""
    assert "could not delete" not in done.stderr and "left behind" not in done.stderr, done.stderr


def assert_nothing_stored(*apis: FakeApiServer) -> None:
    """No Job, pod, ConfigMap... of the run and no responder object left in any cluster."""
    for api in apis:
        assert responder_objects(api) == []
        for plural in OWNED:
            assert stored(api, plural) == [], f"{plural} left behind"


def responder_objects(api: FakeApiServer) -> list[str]:
    """Names of the responder Pods and Services left in `api` (labelled component=responder)."""
    found = []
    for plural in ("pods", "services"):
        for obj in stored(api, plural):
            labels = obj["metadata"].get("labels") or {}
            if labels.get("app.kubernetes.io/component") == "responder":
                found.append(f"{plural}/{obj['metadata']['name']}")
    return found


def with_responders(
    clusters: Clusters,
    api_a: FakeApiServer,
    api_b: FakeApiServer,
    tmp_path: Path,
    ingress_b: bool = True,
    hang_jobs: bool = False,
) -> tuple[ResponderKubelet, ResponderKubelet]:
    """Jobs (that never finish when `hang_jobs`) and responder Pods run in each cluster's
    namespace; load balancers answer (in b only when `ingress_b`)."""
    kubelets = []
    for api, ns, name, v4, v6, answers in (
        (api_a, clusters.a, "a", RA4, RA6, True),
        (api_b, clusters.b, "b", RB4, RB6, ingress_b),
    ):
        api.on_create("jobs", run_jobs_in(ns, tmp_path / name, hang=hang_jobs))
        kubelet = ResponderKubelet(clusters.resources, ns, (v4, v6), lifetime=90)
        api.on_create("pods", kubelet.on_create)
        api.on_delete("pods", kubelet.on_delete)
        api.on_create(
            "services", provision_load_balancers({"IPv4": v4, "IPv6": v6} if answers else None)
        )
        kubelets.append(kubelet)
    return kubelets[0], kubelets[1]


RUN_RESPONDER = (
    "job", "run", "--context", "a", "--context", "b", "--image", "registry.example/voltprobe:lab",
    "--timeout", "1", "--responder",
)  # fmt: skip


def test_the_responder_probes_both_families_before_the_dr_service_has_them(
    clusters: Clusters, apis_v4: tuple[FakeApiServer, FakeApiServer, Path], tmp_path: Path
) -> None:
    api_a, api_b, kubeconfig = apis_v4
    kubelets = with_responders(clusters, api_a, api_b, tmp_path)
    done = run_cli(*RUN_RESPONDER, "--kubeconfig", str(kubeconfig), "-o", "json", timeout=150)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    # IPv4: the DR Service and the responder; IPv6: the responder alone
    assert cell(document, "a", "b", "IPv4")["status"] == "ok"
    assert (
        cell(document, "a", "b", "IPv4")["total"],
        cell(document, "a", "b", "IPv4")["responder"],
    ) == (2, 1)
    v6 = cell(document, "a", "b", "IPv6")
    assert (v6["status"], v6["stage"], v6["total"], v6["responder"]) == ("fail", "tcp", 1, 1)
    assert f"[{RB6}]:5555 filtered" in v6["detail"]
    back = cell(document, "b", "a", "IPv6")
    assert (back["status"], back["open"], back["total"], back["responder"]) == ("ok", 1, 1, 1)
    assert any(
        s.startswith("b -> a works over IPv6, a -> b does not") for s in document["asymmetries"]
    )
    by_name = {c["name"]: c for c in document["clusters"]}
    assert by_name["b"]["ipFamilies"] == ["IPv4"]
    assert by_name["a"]["ipFamilies"] == ["IPv4"]
    assert any("only through the voltprobe responder" in r for r in by_name["a"]["rationale"])
    # connection.source names the DR Service only: the responder is gone after the run
    assert by_name["a"]["connectionSource"] == f"{B4}:5555"
    assert "[b] responder reachable at" in done.stderr and RB6 in done.stderr
    assert_cleaned(done)
    assert_nothing_stored(api_a, api_b)
    for kubelet in kubelets:
        assert len(kubelet.started) == 1, "one responder Pod per cluster"
        assert kubelet.running() == [], "a responder process outlived the run"
    # `manifest runner-role --with-responder` grants every write and responder read made
    granted = grants(runner_role(objects.NAMESPACE, with_responder=True))
    plain = grants(runner_role(objects.NAMESPACE))
    for api in (api_a, api_b):
        calls = {
            (r.group_version.rpartition("/")[0], r.resource, r.verb)
            for r in api.requests
            if r.verb in ("create", "delete") or r.resource in ("pods", "services")
        }
        assert calls - granted == set()
        assert {("", "pods", "create"), ("", "services", "delete")} <= calls - plain


def test_the_matrix_says_which_rows_are_the_responders(
    clusters: Clusters, apis_v4: tuple[FakeApiServer, FakeApiServer, Path], tmp_path: Path
) -> None:
    api_a, api_b, kubeconfig = apis_v4
    with_responders(clusters, api_a, api_b, tmp_path)
    done = run_cli(*RUN_RESPONDER, "--kubeconfig", str(kubeconfig), "-o", "markdown", timeout=150)
    assert done.returncode == 0, done.stderr
    assert "| b -> a | ok 2/2 (1 responder) | ok 1/1 responder |" in done.stdout
    assert "not of the DR Service" in done.stdout
    assert_cleaned(done)


def test_a_403_on_the_responder_leaves_nothing_behind(
    clusters: Clusters, apis_v4: tuple[FakeApiServer, FakeApiServer, Path], tmp_path: Path
) -> None:
    api_a, api_b, kubeconfig = apis_v4
    kubelets = with_responders(clusters, api_a, api_b, tmp_path)
    # b lets the user create the Service, not the Pod: the Service must go again
    api_b.add_fault(Fault(verb="create", resource="pods", status=403))
    done = run_cli(*RUN_RESPONDER, "--kubeconfig", str(kubeconfig), "-o", "json", timeout=150)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 3, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert "cluster b: the responder could not be created: forbidden" in last
    assert 'resources ["pods"], verbs ["create"]' in last
    assert done.stdout == ""
    assert_cleaned(done)
    assert_nothing_stored(api_a, api_b)
    assert kubelets[0].running() == [] and kubelets[1].started == []


def test_a_load_balancer_that_never_answers_leaves_the_direction_unknown(
    clusters: Clusters, apis_v4: tuple[FakeApiServer, FakeApiServer, Path], tmp_path: Path
) -> None:
    api_a, api_b, kubeconfig = apis_v4
    kubelets = with_responders(clusters, api_a, api_b, tmp_path, ingress_b=False)
    done = run_cli(
        *RUN_RESPONDER, "--responder-wait", "3", "--kubeconfig", str(kubeconfig), "-o", "json",
        timeout=150,
    )  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 3, done.stderr
    document = json.loads(done.stdout)
    for family in ("IPv4", "IPv6"):
        into_b = cell(document, "a", "b", family)
        assert into_b["status"] == "unknown"
        assert "status.loadBalancer.ingress" in into_b["detail"]
        assert "within 3s" in into_b["detail"]
    assert cell(document, "b", "a", "IPv6")["status"] == "ok"
    assert "a->b" in document["verdict"] and "b->a" not in document["verdict"]
    assert_cleaned(done)
    assert_nothing_stored(api_a, api_b)
    for kubelet in kubelets:
        assert kubelet.running() == []


def test_sigterm_while_the_jobs_run_deletes_the_responders(
    clusters: Clusters, apis_v4: tuple[FakeApiServer, FakeApiServer, Path], tmp_path: Path
) -> None:
    api_a, api_b, kubeconfig = apis_v4
    kubelets = with_responders(clusters, api_a, api_b, tmp_path, hang_jobs=True)
    process = subprocess.Popen(
        [VOLTPROBE, *RUN_RESPONDER, "--kubeconfig", str(kubeconfig), "-o", "json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert wait_until(lambda: len(stored(api_a, "jobs")) + len(stored(api_b, "jobs")) == 2, 60)
        assert responder_objects(api_a) and responder_objects(api_b)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert "Traceback" not in err, err
    assert process.returncode == 3, err
    assert "stopped by SIGTERM" in err
    assert "could not delete" not in err and "left behind" not in err, err
    assert_nothing_stored(api_a, api_b)
    for kubelet in kubelets:
        assert kubelet.running() == []
