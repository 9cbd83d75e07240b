"""Published cluster states voltprobe once misread (tests/data/field_cases/README.md), end
to end: each file served by the fake API server with its API conditions, and
`voltprobe check --namespace voltdb` run as a process through the real kubernetes client.

The peer is always a loopback responder (open in both families unless the case says the
peer answers on IPv6 only: then the IPv4 peer is a closed loopback port). Addresses in
the files are served, never probed.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.fakeapi import FakeApiServer, Fault
from tests.fakeapi.fieldcase import FieldCase, load_case, parse_case, serve_case
from tests.fakeapi.files import kubeconfig_for
from tests.support.processes import closed_port, responder, run_cli

CASES_DIR = Path(__file__).parent / "data" / "field_cases"
# Nothing from the machine running the tests may stand in for the case's evidence.
CLEAN_ENV = {"KUBERNETES_SERVICE_HOST": "", "POD_NAME": "", "POD_IPS": "", "POD_IP": ""}


def dr_values(*families: str) -> dict[str, Any]:
    return {"cluster": {"serviceSpec": {"dr": {"ipFamilies": list(families)}}}}


def perpod_values(*families: str) -> dict[str, Any]:
    return {"cluster": {"serviceSpec": {"perpod": {"dr": {"ipFamilies": list(families)}}}}}


@dataclass(frozen=True)
class Expect:
    families: list[str]
    values: dict[str, Any]
    findings: set[str]  # every finding id, all severities
    v6_only_peer: bool = False
    skipped: dict[str, str] = field(default_factory=dict)  # id -> part of the skip reason


EXPECTED = {
    # IPv6-first k3s, ServiceCIDRs 403: IPv6 from the evidence there is; the working IPv6
    # DR Service is left alone; nothing shows IPv4 can be allocated.
    "m1_primary": Expect(["IPv6"], dr_values("IPv6"), {"VP103", "VP104", "VP502"}),
    # podCIDRs say dual, the pods are IPv4 only, the peer IPv6 only: nothing qualifies.
    "m2_podcidr": Expect(
        [],
        {},
        {"VP103", "VP104", "VP300", "VP302"},  # VP300: a FAIL always has an error finding
        v6_only_peer=True,
        skipped={"VP401": "no family"},
    ),
    # every Service IPv6, pods IPv4, ServiceCIDRs 404: no confident IPv4, no VP401.
    "m4_v6only_unknown_v4": Expect(
        [], {}, {"VP103", "VP104", "VP300"}, skipped={"VP401": "no family"}
    ),
    # NodePort per-pod DR Service [IPv6, IPv4], nodes IPv4 only: IPv6 cannot serve it.
    "m6_nodeport": Expect(["IPv4"], perpod_values("IPv4"), {"VP104", "VP401", "VP405", "VP502"}),
    # both DR Service kinds, IPv4; peer IPv6 only: both keys, VP401 lists both Services.
    "m7_both_dr": Expect(
        ["IPv6"],
        {
            "cluster": {
                "serviceSpec": {
                    "dr": {"ipFamilies": ["IPv6"]},
                    "perpod": {"dr": {"ipFamilies": ["IPv6"]}},
                }
            }
        },
        {"VP302", "VP401", "VP502"},
        v6_only_peer=True,
    ),
    # IPv4 LoadBalancer advertising an IPv6 ingress (ServiceLB): suspect, never counted.
    "m11_lb_wrong_family": Expect(
        ["IPv4"], dr_values("IPv4"), {"VP103", "VP104", "VP404", "VP502"}
    ),
    # EndpointSlices 403: VP402 skipped with that reason; only the 403 finding.
    "m12_eps_forbidden": Expect(
        ["IPv4"], dr_values("IPv4"), {"VP104", "VP502"}, skipped={"VP402": "were not read"}
    ),
}


def test_every_case_file_has_an_expectation() -> None:
    assert sorted(p.stem for p in CASES_DIR.glob("*.yaml")) == sorted(EXPECTED)


@contextmanager
def peer(v6_only: bool) -> Iterator[list[str]]:
    """--peer values on loopback: ::1 open; 127.0.0.1 open, or closed for an IPv6-only peer."""
    with ExitStack() as stack:
        v6 = stack.enter_context(responder("::1"))
        v4 = closed_port() if v6_only else stack.enter_context(responder("127.0.0.1"))
        yield ["--peer", f"127.0.0.1:{v4}", "--peer", f"[::1]:{v6}"]


def check_case(
    case: FieldCase, tmp_path: Path, v6_only: bool, *extra: str, faults: tuple[Fault, ...] = ()
) -> dict[str, Any]:
    with FakeApiServer() as api, peer(v6_only) as peers:
        serve_case(api, case)
        for fault in faults:
            api.add_fault(fault)
        kubeconfig = kubeconfig_for(api, tmp_path / "kubeconfig")
        done = run_cli(
            "check", "--namespace", "voltdb", "--kubeconfig", str(kubeconfig), *peers,
            "--mode", "connect", "--timeout", "1", "-o", "json", *extra,
            env=CLEAN_ENV,
        )  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    assert done.returncode == report["exitCode"]
    return report


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_field_case(name: str, tmp_path: Path) -> None:
    expect = EXPECTED[name]
    report = check_case(load_case(CASES_DIR / f"{name}.yaml"), tmp_path, expect.v6_only_peer)
    rec = report["recommendation"]
    assert rec["ipFamilies"] == expect.families, rec["rationale"]
    assert rec["helmValues"] == expect.values
    assert report["exitCode"] == (0 if expect.families else 1)
    assert {f["id"] for f in report["findings"]} == expect.findings, report["findings"]
    skipped = {s["id"]: s["reason"] for s in report["skippedChecks"]}
    for check_id, reason in expect.skipped.items():
        assert reason in skipped[check_id]
    # never destructive advice on unknown evidence
    for finding in report["findings"]:
        if finding["id"] == "VP401" and "elete" in finding["remedy"]:
            family = expect.families[0]
            assert report["local"]["families"][family]["rungs"]["services"] in (
                "servicecidr",
                "clusterip",
                "dry-run",
            )


def test_m1_says_which_rungs_decided(tmp_path: Path) -> None:
    report = check_case(load_case(CASES_DIR / "m1_primary.yaml"), tmp_path, False)
    local = report["local"]
    assert local["primaryFamily"] == "IPv6"
    assert local["primaryFamilyEvidence"]["rung"] == "podIPs-order"
    assert local["families"]["IPv6"]["rungs"] == {
        "pods": "volt-pods",
        "services": "clusterip",
        "nodes": "",
    }
    assert local["families"]["IPv4"]["services"] == "unknown"
    rationale = " ".join(report["recommendation"]["rationale"])
    assert "--dry-run-service" in rationale and "list servicecidrs" in rationale


def test_m4_with_a_dry_run_that_the_cluster_refuses(tmp_path: Path) -> None:
    """The apiserver can allocate only IPv6: the dry-run settles IPv4 as "no" (VP101)."""
    case = dataclasses.replace(
        load_case(CASES_DIR / "m4_v6only_unknown_v4.yaml"), service_families=("IPv6",)
    )
    report = check_case(case, tmp_path, False, "--dry-run-service")
    assert report["recommendation"]["ipFamilies"] == []
    ipv4 = report["local"]["families"]["IPv4"]
    assert (ipv4["services"], ipv4["rungs"]["services"]) == ("no", "dry-run")
    # only the family the other evidence left unknown was dry-run (IPv6 has a ClusterIP)
    assert [(d["family"], d["value"]) for d in report["local"]["dryRuns"]] == [("IPv4", "no")]
    (vp101,) = [f for f in report["findings"] if f["id"] == "VP101"]
    assert "not configured on this cluster" in vp101["message"]
    assert "pods:" not in vp101["message"]  # VP101 quotes only the Service evidence


def test_m4_with_a_dry_run_that_the_cluster_accepts(tmp_path: Path) -> None:
    """Dual-stack apiserver: the dry-run is positive evidence, so IPv4 is recommended and
    VP401 may say to recreate the IPv6 DR Service."""
    case = dataclasses.replace(
        load_case(CASES_DIR / "m4_v6only_unknown_v4.yaml"), service_families=("IPv6", "IPv4")
    )
    report = check_case(case, tmp_path, False, "--dry-run-service")
    assert report["recommendation"]["ipFamilies"] == ["IPv4"]
    assert report["local"]["families"]["IPv4"]["rungs"]["services"] == "dry-run"
    (vp401,) = [f for f in report["findings"] if f["id"] == "VP401"]
    assert vp401["severity"] == "warning" and "Delete" in vp401["remedy"]


def test_m4_dry_run_without_create_rights_stays_unknown_and_names_the_rule(
    tmp_path: Path,
) -> None:
    case = load_case(CASES_DIR / "m4_v6only_unknown_v4.yaml")
    report = check_case(
        case, tmp_path, False, "--dry-run-service",
        faults=(Fault(verb="create", resource="services", status=403),),
    )  # fmt: skip
    assert report["recommendation"]["ipFamilies"] == []
    assert report["local"]["families"]["IPv4"]["services"] == "unknown"
    denied = [
        f for f in report["findings"] if f["id"] == "VP104" and "create services" in f["message"]
    ]
    assert denied and 'verbs: ["create"]' in denied[0]["remedy"]
    assert not [f for f in report["findings"] if f["id"] == "VP401"]


def test_chart_1_3_gets_no_values_and_says_why(tmp_path: Path) -> None:
    text = (
        (CASES_DIR / "m7_both_dr.yaml")
        .read_text()
        .replace(
            "metadata: {name: mydb-voltdb-cluster-dr, namespace: voltdb}",
            "metadata: {name: mydb-voltdb-cluster-dr, namespace: voltdb, labels: {helm.sh/chart: voltdb-1.3.5}}",
        )
    )
    report = check_case(parse_case("m7_chart13", text), tmp_path, True)
    rec = report["recommendation"]
    assert rec["ipFamilies"] == ["IPv6"] and rec["helmValues"] == {}
    assert "voltdb-1.3.5" in rec["rationale"][-1] and "servicePerPod" in rec["rationale"][-1]
    assert report["verdict"].startswith("PASS") and "no Helm values" in report["verdict"]


def test_kubernetes_service_names_the_primary_and_the_working_dr_service_is_kept(
    tmp_path: Path,
) -> None:
    """m1 plus a readable default/kubernetes Service (IPv4): IPv4 becomes allocatable
    (an existing ClusterIP) and primary, yet both families work and the DR Service is
    IPv6: it is kept, nothing is recreated."""
    kubernetes = (
        "---\napiVersion: v1\nkind: Service\nmetadata: {name: kubernetes, namespace: default}\n"
        "spec: {ipFamilyPolicy: SingleStack, ipFamilies: [IPv4], clusterIPs: [10.43.0.1],\n"
        "       ports: [{name: https, port: 443}]}\n"
    )
    text = (CASES_DIR / "m1_primary.yaml").read_text() + kubernetes
    report = check_case(parse_case("m1_kubernetes", text), tmp_path, False)
    local = report["local"]
    assert local["primaryFamilyEvidence"]["rung"] == "kubernetes-service"
    assert local["primaryFamily"] == "IPv4"
    assert local["families"]["IPv4"]["rungs"]["services"] == "clusterip"
    assert report["recommendation"]["ipFamilies"] == ["IPv6"]
    assert "VP401" not in {f["id"] for f in report["findings"]}


def test_chart_1_3_label_on_the_pods_is_enough(tmp_path: Path) -> None:
    text = (
        (CASES_DIR / "m11_lb_wrong_family.yaml")
        .read_text()
        .replace("labels: {app: db}", "labels: {app: db, helm.sh/chart: voltdb-1.3.2}")
    )
    report = check_case(parse_case("m11_chart13", text), tmp_path, False)
    assert report["recommendation"]["ipFamilies"] == ["IPv4"]
    assert report["recommendation"]["helmValues"] == {}
