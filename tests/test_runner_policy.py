"""The runner policy (k8s/runner-policy.yaml) evaluated with a CEL interpreter (cel-python)
over voltprobe's own objects, which it must admit, and over what a holder of the runner
Role could otherwise do with `create jobs` and its delete rights, which it must refuse.

The `authorizer` of the match condition exists only in the apiserver: its expression is
compiled here, not run."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import celpy
import pytest

from probe.k8sjob.objects import JobParams, job_objects, runner_role
from probe.k8sjob.policy import MARKER_GROUP, MARKER_RESOURCE, runner_policy
from probe.k8sjob.responder import plan, responder_objects

IMAGE = "registry.example.com/voltprobe@sha256:" + "0" * 64
Obj = dict[str, Any]
RESOURCES = {
    "Job": "jobs",
    "ServiceAccount": "serviceaccounts",
    "Role": "roles",
    "RoleBinding": "rolebindings",
    "Pod": "pods",
    "Service": "services",
}
ENV = celpy.Environment()
POLICY = runner_policy(IMAGE)[0]
PROGRAMS = [
    (ENV.program(ENV.compile(v["expression"])), v["message"]) for v in POLICY["spec"]["validations"]
]


def refusals(operation: str, obj: Obj) -> list[str]:
    """The messages of the validations `obj` fails, as the apiserver would evaluate them."""
    activation = {
        "request": celpy.json_to_cel(
            {
                "operation": operation,
                "namespace": "volt",
                "resource": {"resource": RESOURCES[obj["kind"]]},
            }
        ),
        "object": celpy.json_to_cel(obj if operation == "CREATE" else None),
        "oldObject": celpy.json_to_cel(obj if operation == "DELETE" else None),
    }
    return [message for program, message in PROGRAMS if not admitted(program.evaluate(activation))]


def admitted(result: Any) -> bool:
    """A validation admits when it evaluates to true; false or an error refuses."""
    return isinstance(result, celpy.celtypes.BoolType) and bool(result)


def own_objects() -> list[Obj]:
    params = JobParams(
        peers=("dr.peer.example:5555",), name="voltprobe-ab12c", namespace="volt", image=IMAGE
    )
    return [o for o in job_objects(params, cluster_read=False) if o["kind"] in RESOURCES]


def the_job() -> Obj:
    return copy.deepcopy(next(o for o in own_objects() if o["kind"] == "Job"))


def pod(job: Obj) -> Obj:
    spec: Obj = job["spec"]["template"]["spec"]
    return spec


@pytest.mark.parametrize("operation", ["CREATE", "DELETE"])
def test_voltprobes_own_objects_are_admitted(operation: str) -> None:
    for obj in own_objects():
        assert refusals(operation, obj) == [], obj["kind"]


HOSTILE_JOBS: dict[str, Callable[[Obj], None]] = {
    "another image": lambda j: pod(j)["containers"][0].update(image="alpine"),
    "a second container": lambda j: pod(j)["containers"].append({"name": "x", "image": "alpine"}),
    "the default ServiceAccount": lambda j: pod(j).update(serviceAccountName="default"),
    "a Secret volume": lambda j: pod(j)["volumes"].append(
        {"name": "s", "secret": {"secretName": "db-password"}}
    ),
    "a projected volume": lambda j: pod(j)["volumes"].append(
        {"name": "p", "projected": {"sources": []}}
    ),
    "a hostPath volume": lambda j: pod(j)["volumes"].append(
        {"name": "h", "hostPath": {"path": "/"}}
    ),
    "env from a Secret": lambda j: pod(j)["containers"][0].update(
        envFrom=[{"secretRef": {"name": "db-password"}}]
    ),
    "an env value from a Secret": lambda j: pod(j)["containers"][0]["env"].append(
        {"name": "P", "valueFrom": {"secretKeyRef": {"name": "db", "key": "p"}}}
    ),
    "an init container": lambda j: pod(j).update(initContainers=[{"name": "i", "image": IMAGE}]),
}


@pytest.mark.parametrize("name", list(HOSTILE_JOBS))
def test_a_job_that_could_read_secrets_is_refused(name: str) -> None:
    job = the_job()
    HOSTILE_JOBS[name](job)
    assert refusals("CREATE", job), name


def test_a_binding_to_another_role_or_subject_is_refused() -> None:
    binding = next(o for o in own_objects() if o["kind"] == "RoleBinding")
    to_admin = copy.deepcopy(binding)
    to_admin["roleRef"] = {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "admin"}
    assert refusals("CREATE", to_admin)
    to_user = copy.deepcopy(binding)
    to_user["subjects"] = [
        {"kind": "User", "name": "mallory", "apiGroup": "rbac.authorization.k8s.io"}
    ]
    assert refusals("CREATE", to_user)
    other_namespace = copy.deepcopy(binding)
    other_namespace["subjects"][0]["namespace"] = "kube-system"
    assert refusals("CREATE", other_namespace)


@pytest.mark.parametrize("kind", list(RESOURCES))
def test_deleting_what_voltprobe_did_not_create_is_refused(kind: str) -> None:
    theirs = {
        "apiVersion": "v1",
        "kind": kind,
        "metadata": {"name": "volt-db", "labels": {"app": "voltdb"}},
    }
    assert refusals("DELETE", theirs)
    unlabelled = {"apiVersion": "v1", "kind": kind, "metadata": {"name": "voltprobe-x"}}
    assert refusals("DELETE", unlabelled)


def test_the_runner_role_carries_the_marker_and_the_condition_compiles() -> None:
    rules = runner_role("volt")["rules"]
    assert {"apiGroups": [MARKER_GROUP], "resources": [MARKER_RESOURCE], "verbs": ["use"]} in rules
    condition = POLICY["spec"]["matchConditions"][0]["expression"]
    ENV.compile(condition)  # a syntax error raises
    assert "unrestricted" in condition and condition.count("check('use')") == 2


def the_responder() -> list[Obj]:
    """What `job run --responder` creates: the Pod and the Service."""
    local = {"services": [{"type": "LoadBalancer"}], "primaryFamily": "IPv4"}
    return responder_objects(plan(local, "voltprobe-responder-ab12c", "volt", IMAGE, 5555))


@pytest.mark.parametrize("operation", ["CREATE", "DELETE"])
def test_the_responder_is_admitted(operation: str) -> None:
    for obj in the_responder():
        assert refusals(operation, obj) == [], obj["kind"]


HOSTILE_PODS: dict[str, Callable[[Obj], None]] = {
    "another image": lambda p: p["spec"]["containers"][0].update(image="alpine"),
    "a service account token": lambda p: p["spec"].pop("automountServiceAccountToken"),
    "the token asked for": lambda p: p["spec"].update(automountServiceAccountToken=True),
    "the host's network": lambda p: p["spec"].update(hostNetwork=True),
    "a Secret volume": lambda p: p["spec"]["volumes"].append(
        {"name": "s", "secret": {"secretName": "db-password"}}
    ),
    "env from a Secret": lambda p: p["spec"]["containers"][0].update(
        envFrom=[{"secretRef": {"name": "db-password"}}]
    ),
    "an init container": lambda p: p["spec"].update(initContainers=[{"name": "i", "image": IMAGE}]),
    "another name": lambda p: p["metadata"].update(name="volt-db-0"),
}


@pytest.mark.parametrize("name", list(HOSTILE_PODS))
def test_a_pod_that_could_read_secrets_or_sniff_is_refused(name: str) -> None:
    pod_obj = copy.deepcopy(next(o for o in the_responder() if o["kind"] == "Pod"))
    HOSTILE_PODS[name](pod_obj)
    assert refusals("CREATE", pod_obj), name


def test_a_service_with_external_ips_is_refused() -> None:
    service = copy.deepcopy(next(o for o in the_responder() if o["kind"] == "Service"))
    service["spec"]["externalIPs"] = ["192.0.2.10"]
    assert refusals("CREATE", service) == [
        "a voltprobe Service sets no externalIPs (they capture traffic to any address)"
    ]
    service["metadata"]["name"] = "volt-db-cluster-dr"
    del service["spec"]["externalIPs"]
    assert refusals("CREATE", service)


def test_the_responder_rights_are_opt_in() -> None:
    plain = runner_role("volt")["rules"]
    wider = runner_role("volt", with_responder=True)["rules"]
    grant = {"apiGroups": [""], "resources": ["pods", "services"], "verbs": ["create", "delete"]}
    assert grant not in plain and grant in wider
