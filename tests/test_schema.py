"""The published voltprobe/v1 schema: every document the tool writes validates against it
and reads back equal; what is not a v1 document is refused with the field named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from probe.documents import InventoryReport, parse_document
from probe.errors import CannotRunError, UsageError
from probe.model import REPORT_BEGIN, REPORT_END, ClusterLabel, Family, ProbeState, Report
from probe.options import CheckOptions
from probe.pipeline import Probing, run_check
from probe.probers.plan import ProbePrep
from probe.render import render
from probe.schema import schema, validate
from tests.fakeapi import objects
from tests.fakeapi.files import kubeconfig_for
from tests.fakeapi.server import FakeApiServer
from tests.support.processes import closed_port, responder, run_cli
from tests.test_pipeline import OPTIONS, FakeProbing


def reads_back_equal(document: dict[str, Any]) -> Report:
    """Validate, read typed, write again: the same document."""
    validate(document)
    again = parse_document(json.dumps(document), "report.json")
    assert isinstance(again, Report)
    assert again.to_json() == document
    return again


def test_the_schema_states_its_evolution_rule_and_is_a_valid_schema() -> None:
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(schema())
    assert "grows only by new optional fields" in schema()["description"]
    assert "voltprobe/v2" in schema()["description"]


@pytest.mark.parametrize(
    "states",
    [
        {Family.IPV4: ProbeState.OPEN, Family.IPV6: ProbeState.FILTERED},
        {Family.IPV4: ProbeState.CLOSED, Family.IPV6: ProbeState.UNREACHABLE},
    ],
)
def test_pipeline_reports_validate_and_read_back_equal(states: dict[Family, ProbeState]) -> None:
    from dataclasses import replace

    options = replace(OPTIONS, cluster=ClusterLabel("a", "b", "kind-a"))
    report = run_check(options, probing=FakeProbing(states).stage())
    again = reads_back_equal(json.loads(render(report, "json")))
    assert again.cluster == ClusterLabel("a", "b", "kind-a")
    assert again.probes == report.probes and again.targets == report.targets


def test_a_stopped_run_validates_too() -> None:
    def refuse(options: CheckOptions) -> ProbePrep:
        raise CannotRunError("no raw sockets here")

    report = run_check(OPTIONS, probing=Probing(refuse))
    again = reads_back_equal(json.loads(render(report, "json")))
    assert again.error == "no raw sockets here" and again.exit_code == 3


def test_cli_reports_on_loopback_validate_in_every_machine_format(tmp_path: Path) -> None:
    with responder() as port:
        peer = f"127.0.0.1:{port},127.0.0.1:{closed_port()}"
        args = ["check", "--no-kube", "--mode", "connect", "--peer", peer, "--cluster", "a"]
        done = run_cli(*args, "--peer-cluster", "b", "-o", "json", "--log-json")
        as_yaml = run_cli(*args, "-o", "yaml")
    assert done.returncode == 1, done.stderr
    document = json.loads(done.stdout.split(REPORT_BEGIN)[0])
    again = reads_back_equal(document)
    assert (again.cluster.name, again.cluster.peer) == ("a", "b")
    logged = parse_document(done.stdout, "job.log")  # the marker form of the same report
    assert isinstance(logged, Report) and logged.to_json() == document
    from_yaml = parse_document(as_yaml.stdout, "report.yaml")
    assert isinstance(from_yaml, Report)
    assert [(p.address, p.state) for p in from_yaml.probes] == [
        (p.address, p.state) for p in again.probes
    ]
    assert REPORT_END in done.stdout


def test_demo_report_validates() -> None:
    done = run_cli("demo", "-o", "json")
    assert done.returncode == 0, done.stderr
    reads_back_equal(json.loads(done.stdout))


def test_inventory_of_a_fake_cluster_validates_and_lists_what_it_advertises(
    fake_api: FakeApiServer, tmp_path: Path
) -> None:
    from probe.merge.advertised import advertised

    fake_api.load(objects.dual_stack())
    kubeconfig = kubeconfig_for(fake_api, tmp_path / "kc", namespace=objects.NAMESPACE)
    done = run_cli("inventory", "--kubeconfig", str(kubeconfig), "-o", "json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    validate(document)
    inventory = parse_document(done.stdout, "a.json")
    assert isinstance(inventory, InventoryReport) and inventory.to_json() == document
    assert inventory.cluster.name == "fake"  # the kubeconfig context
    offered = {e.endpoint for e in advertised(inventory.local, 5555)}
    assert {"[2001:db8:ff::55]:5555", "203.0.113.55:5555"} <= offered
    # per-pod NodePort Services: each on its own pod's node, in both families
    assert len([e for e in offered if e.endswith((":32760", ":32761", ":32762"))]) == 6
    table = run_cli("inventory", "--kubeconfig", str(kubeconfig), "-o", "table")
    assert "203.0.113.55:5555" in table.stdout and "LoadBalancer" in table.stdout


def test_peer_report_probes_every_endpoint_the_peer_advertises(tmp_path: Path) -> None:
    from tests.support.reports import lb_service, local

    with responder() as port, responder("::1") as port6:
        peer_local = local(
            lb_service("127.0.0.1", port=port), lb_service("::1", name="volt-dr-0", port=port6)
        )
        inventory = {
            "schema": "voltprobe/v1",
            "kind": "inventory",
            "version": "0.2.0",
            "cluster": {"name": "b"},
            "options": {"port": port},
            "local": peer_local,
        }
        path = tmp_path / "b.json"
        path.write_text(json.dumps(inventory))
        done = run_cli(
            "check",
            "--no-kube",
            "--mode",
            "connect",
            "--cluster",
            "a",
            "--peer-report",
            str(path),
            "-o",
            "json",
        )
    assert "Traceback" not in done.stderr
    report = reads_back_equal(json.loads(done.stdout))
    assert report.cluster.peer == "b"
    assert {(t.host, t.port, t.cluster) for t in report.targets} == {
        ("127.0.0.1", port, "b"),
        ("::1", port6, "b"),
    }
    assert {(p.address, p.state) for p in report.probes} == {
        ("127.0.0.1", ProbeState.OPEN),
        ("::1", ProbeState.OPEN),
    }


def test_a_peer_report_with_nothing_to_probe_is_exit_2(tmp_path: Path) -> None:
    from tests.support.reports import local

    inventory = {
        "schema": "voltprobe/v1",
        "kind": "inventory",
        "version": "0.2.0",
        "local": local(),
    }
    path = tmp_path / "b.json"
    path.write_text(json.dumps(inventory))
    done = run_cli("check", "--no-kube", "--peer-report", str(path))
    assert done.returncode == 2 and str(path) in done.stderr
    assert "no DR endpoint another cluster can reach" in done.stderr
    missing = run_cli("check", "--no-kube")
    assert missing.returncode == 2 and "--peer-report" in missing.stderr


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ({"schema": "voltprobe/v1", "kind": "merge"}, "version is missing"),
        (
            {
                "schema": "voltprobe/v1",
                "kind": "merge",
                "version": "x",
                "exitCode": 0,
                "clusters": [],
                "directions": [],
            },
            "a merged result, not a report",
        ),
        ({"schema": "voltprobe/v1", "kind": "inventory", "version": "x"}, "local is missing"),
        (
            {
                "schema": "voltprobe/v1",
                "kind": "inventory",
                "version": "x",
                "local": {"services": [{"ipFamilies": ["IPv5"]}]},
            },
            "local.services[0].ipFamilies[0]",
        ),
        ({"version": "0.1.0"}, "no `schema` field"),
    ],
)
def test_documents_that_are_not_v1_are_refused_naming_the_field(
    document: dict[str, Any], problem: str
) -> None:
    with pytest.raises(UsageError, match=r"^x\.json: ") as caught:
        parse_document(json.dumps(document), "x.json")
    assert problem in str(caught.value)


def test_the_schema_enums_are_the_models() -> None:
    """Every state and DNS outcome the model can write is one the schema accepts (a new
    state must be added to both, or reports holding it would not read back)."""
    from probe.model import DnsOutcome, Method, ProbeState, Severity
    from probe.schema import schema

    text = json.dumps(schema())
    for enum in (ProbeState, DnsOutcome, Method, Severity):
        values = [v.value for v in enum]
        assert json.dumps(values)[1:-1] in text or all(f'"{v}"' in text for v in values), enum
        for value in values:
            assert f'"{value}"' in text, (enum.__name__, value)
