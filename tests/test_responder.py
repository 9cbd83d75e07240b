"""`job run --responder` without a lab: the responder's plan (Service type and families),
what its wait reads, and how the merge tells its endpoints from the DR Service's.
The end-to-end runs are in tests/lab/test_multi_cluster.py."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from probe import cli
from probe.documents import parse_document
from probe.k8sjob.objects import ResponderParams
from probe.k8sjob.responder import _waiting_on, plan, responder_objects, service_entry
from probe.merge.matrix import Input, merge
from probe.model import Family
from probe.render.merged import render_merged
from tests.support.reports import V4, V6, lb_service, local, report

Obj = dict[str, Any]
A4, B4, RB4, RB6 = "198.51.100.1", "203.0.113.1", "203.0.113.9", "2001:db8:0:b::9"


def node_port_service() -> Obj:
    service = lb_service()
    service["type"] = "NodePort"
    return service


@pytest.mark.parametrize(
    ("services", "primary", "kind", "families"),
    [
        ([lb_service(A4, families=(V4,))], "IPv4", "LoadBalancer", (Family.IPV4,)),
        ([node_port_service()], "IPv6", "NodePort", (Family.IPV6,)),
        ([node_port_service(), lb_service(A4)], None, "LoadBalancer", ()),
        ([], None, "LoadBalancer", ()),  # nothing advertised yet: reachable from outside
    ],
)
def test_the_responder_is_shaped_like_the_dr_service(
    services: list[Obj], primary: str | None, kind: str, families: tuple[Family, ...]
) -> None:
    own = local(*services)
    own["primaryFamily"] = primary
    r = plan(own, "voltprobe-responder-1a2b3", "volt", "registry.example/voltprobe:1", 5555)
    assert (r.service_type, r.ip_family_policy, r.ip_families) == (
        kind,
        "PreferDualStack",
        families,
    )
    service, pod = responder_objects(r)
    # only the primary listed: both families fail with 422 on a single-stack cluster
    assert service["spec"].get("ipFamilies", []) == [f.value for f in families]
    assert service["spec"]["ports"][0]["port"] == 5555
    assert pod["spec"]["containers"][0]["args"] == ["serve", "--port", "5555"]
    assert pod["spec"]["automountServiceAccountToken"] is False
    for obj in (service, pod):  # what the runner policy lets the run delete
        assert obj["metadata"]["labels"]["app.kubernetes.io/name"] == "voltprobe"
        assert obj["metadata"]["labels"]["app.kubernetes.io/component"] == "responder"
    assert service["spec"]["selector"] == pod["metadata"]["labels"]


def the_service(ingress: list[Obj], families: list[str]) -> Obj:
    return {
        "metadata": {"name": "voltprobe-responder-1a2b3", "namespace": "volt"},
        "spec": {
            "type": "LoadBalancer",
            "ipFamilies": families,
            "ipFamilyPolicy": "PreferDualStack",
            "ports": [{"name": "dr", "port": 5555, "nodePort": 31555, "protocol": "TCP"}],
        },
        "status": {"loadBalancer": {"ingress": ingress}},
    }


READY_POD = {"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}
R = ResponderParams(name="voltprobe-responder-1a2b3", namespace="volt", app="voltprobe")


def test_the_wait_names_what_it_waits_on() -> None:
    pending = the_service([], [V4, V6])
    waiting, stuck = _waiting_on(pending, {"status": {"phase": "Pending"}}, R)
    assert stuck == ""
    assert waiting == [
        "the load balancer's address (Service volt/voltprobe-responder-1a2b3 "
        "status.loadBalancer.ingress)",
        "Pod voltprobe-responder-1a2b3 to be Ready (phase Pending)",
    ]
    # one family's address so far: keep waiting for the other
    half = the_service([{"ip": RB4}], [V4, V6])
    assert _waiting_on(half, READY_POD, R)[0] == [
        "the load balancer's IPv6 address (Service volt/voltprobe-responder-1a2b3 "
        "status.loadBalancer.ingress)"
    ]
    assert _waiting_on(the_service([{"ip": RB4}, {"ip": RB6}], [V4, V6]), READY_POD, R)[0] == []
    # a hostname (AWS) stands for every family: the Jobs resolve it
    named = the_service([{"hostname": "k8s-volt.elb.example"}], [V4, V6])
    assert _waiting_on(named, READY_POD, R)[0] == []
    pulling = {
        "status": {
            "phase": "Pending",
            "containerStatuses": [{"state": {"waiting": {"reason": "ImagePullBackOff"}}}],
        }
    }
    assert _waiting_on(half, pulling, R)[1].startswith("ImagePullBackOff")


def merged_with_responder() -> Any:
    """a and b with IPv4-only DR Services; b's responder is dual-stack; a reaches the
    responder over IPv4 only, b reaches a's DR Service over IPv4."""
    entry = service_entry(the_service([{"ip": RB4}, {"ip": RB6}], [V4, V6]))
    own_a = local(lb_service(A4, families=(V4,), name="a-dr"))
    own_b = local(lb_service(B4, families=(V4,), name="b-dr"), entry)
    doc_a = report("a", "b", {B4: "open", RB4: "open", RB6: "filtered"}, own_a, recommended=(V4,))
    doc_b = report("b", "a", {A4: "open"}, own_b, recommended=(V4,))
    inputs = [
        Input("a.json", parse_document(json.dumps(doc_a), "a.json")),
        Input("b.json", parse_document(json.dumps(doc_b), "b.json")),
    ]
    return merge(inputs, "test")


def test_the_merge_marks_the_responders_endpoints() -> None:
    merged = merged_with_responder()
    v4, v6 = merged.direction("a", "b").cells
    assert (v4.status.value, v4.open, v4.total, v4.responder) == ("ok", 2, 2, 1)
    assert v4.summary() == "ok 2/2 (1 responder)"
    assert (v6.status.value, v6.total, v6.responder) == ("fail", 1, 1)
    assert v6.summary() == "FAIL tcp 0/1 responder"
    assert merged.direction("b", "a").cell(Family.IPV4).responder == 0
    assert merged.responder
    b = merged.cluster("b")
    # the responder's Service is no DR Service: no disagreement, no connection.source entry
    assert not any("voltprobe-responder" in d for d in b.disagreements)
    assert merged.cluster("a").connection_source == f"{B4}:5555"
    assert any("the voltprobe responder's endpoints included" in r for r in b.rationale)
    assert "responder: endpoints of the voltprobe responder" in render_merged(merged, "table")
    assert merged.to_json()["directions"][0]["families"][0]["responder"] == 1


def test_an_unmeasured_cluster_makes_every_direction_into_it_unknown() -> None:
    entry = service_entry(the_service([{"ip": RB4}], [V4]))
    own_a = local(lb_service(A4, families=(V4,)))
    own_b = local(lb_service(B4, families=(V4,)), entry)
    doc_a = report("a", "b", {B4: "open"}, own_a, recommended=(V4,))
    doc_b = report("b", "a", {A4: "open"}, copy.deepcopy(own_b), recommended=(V4,))
    inputs = [
        Input(n, parse_document(json.dumps(d), n))
        for n, d in (("a.json", doc_a), ("b.json", doc_b))
    ]
    why = "the responder was not ready within 3s: still waiting for the load balancer"
    merged = merge(inputs, "test", unmeasured={"b": why})
    assert [c.status.value for c in merged.direction("a", "b").cells] == ["unknown", "unknown"]
    assert merged.direction("a", "b").cells[0].detail == why
    assert merged.direction("b", "a").cell(Family.IPV4).ok
    assert merged.exit_code == 3 and "a->b" in merged.verdict


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--context", "a", "--peer", "dr.example:5555", "--responder"], "needs several --context"),
        (["--context", "a", "--context", "b", "--responder-wait", "5"], "goes with --responder"),
    ],
)
def test_responder_misuse_is_exit_2(
    argv: list[str], says: str, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.fakeapi.files import KubeContext, write_kubeconfig

    config = write_kubeconfig(
        tmp_path / "kubeconfig",
        [KubeContext(c, "http://127.0.0.1:9", "t", "volt") for c in ("a", "b")],
    )
    code = cli.main(
        ["job", "run", *argv, "--kubeconfig", str(config), "--image", "registry.example/v:1"]
    )
    err = capsys.readouterr().err
    assert code == 2, err
    assert says in err and "Traceback" not in err
