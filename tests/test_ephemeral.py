"""`voltprobe job run --from-volt-pod`: the check as an ephemeral container in a Volt pod,
against the fake API server through the real client.

The fake serves pods/ephemeralcontainers as the apiserver does (tests/fakeapi/ephemeral.py:
strategic merge by name, 422 validation, per-container logs); the kubelet's part (the
container runs and ends) is the `complete_ephemeral` update hook or `Kubelet` below.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from probe import cli
from probe.errors import CannotRunError
from probe.k8sjob import ephemeral, kube, runner
from probe.k8sjob.objects import (
    JobParams,
    ephemeral_container,
    restricted_container_security,
    restricted_pod_security,
    runner_role,
)
from probe.model import Family, Recommendation, Report, Vantage
from probe.options import KubeOptions
from probe.render.table import Style, header, render_table
from tests.fakeapi import FakeApiServer, Fault, objects, resources
from tests.fakeapi.fixtures import kubeconfig_for
from tests.fakeapi.hooks import complete_ephemeral
from tests.fakeapi.server import DEFAULT_TOKEN
from tests.test_job import IMAGE, NS, not_granted, report_log
from tests.test_manifests import pss_violations

Obj = dict[str, Any]
POD0, POD2 = objects.volt_pod_name(0), objects.volt_pod_name(2)
PODS = resources.find("v1", "pods")
assert PODS is not None


@pytest.fixture
def api() -> Iterator[FakeApiServer]:
    """A dual-stack cluster with three running Volt pods behind their DR Services."""
    with FakeApiServer(token=DEFAULT_TOKEN) as server:
        server.load(objects.dual_stack())
        yield server


@pytest.fixture
def kubeconfig(api: FakeApiServer, tmp_path: Path) -> str:
    return str(kubeconfig_for(api, tmp_path / "kubeconfig", namespace=NS))


def pod_cli(kubeconfig: str, *argv: str) -> list[str]:
    return [
        "job",
        "run",
        "--kubeconfig",
        kubeconfig,
        "--peer",
        "dr.peer.example.com",
        "--image",
        IMAGE,
        "--from-volt-pod",
        *argv,
    ]


def run_cli(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def pod(api: FakeApiServer, name: str) -> Obj:
    assert PODS is not None
    return api.store.get(PODS, NS, name)


def core(api: FakeApiServer, tmp_path: Path) -> client.CoreV1Api:
    """The real client, straight at the fake (to test the fake's own behaviour)."""
    config = client.Configuration(host=api.url)
    config.api_key = {"BearerToken": DEFAULT_TOKEN}
    config.api_key_prefix = {"BearerToken": "Bearer"}
    return client.CoreV1Api(client.ApiClient(config))


# -- the whole flow through the CLI ------------------------------------------------------


def test_adds_the_probe_to_the_first_volt_pod_waits_and_marks_the_report(
    api: FakeApiServer, kubeconfig: str, capsys: pytest.CaptureFixture[str]
) -> None:
    api.on_update("pods/ephemeralcontainers", complete_ephemeral(report_log()))

    code, out, err = run_cli(capsys, pod_cli(kubeconfig))

    assert code == 0, err
    first = out.splitlines()[0]
    assert first.endswith(f"from volt-pod {NS}/{POD0}"), first
    assert "PASS: XDCR can use IPv6" in out
    assert f"running Volt pods: {POD0}, " in err and f"probing from {POD0}" in err
    assert "until the pod restarts" in err
    # One container added to the first Volt pod by name, nothing created or deleted.
    (added,) = pod(api, POD0)["spec"]["ephemeralContainers"]
    name = added["name"]
    assert name.startswith("voltprobe-") and name != "voltprobe"
    params = JobParams(
        peers=("dr.peer.example.com",), name=name, namespace=NS, image=IMAGE, cluster="fake"
    )  # the pod has no kube context: the check is told the cluster's name
    assert added == ephemeral_container(params, name)
    assert "ephemeralContainers" not in pod(api, objects.volt_pod_name(1))["spec"]
    assert not [r for r in api.requests if r.verb in ("create", "delete", "update")]
    (patch,) = [r for r in api.requests if r.verb == "patch"]
    assert (patch.resource, patch.path) == (
        "pods/ephemeralcontainers",
        f"/api/v1/namespaces/{NS}/pods/{POD0}/ephemeralcontainers",
    )
    (log_read,) = [r for r in api.requests if r.resource == "pods/log"]
    assert log_read.query.get("container") == name
    # The container alone meets restricted: the Volt pod's securityContext is not ours.
    assert pss_violations({"ephemeralContainers": [added]}) == []
    # The opt-in runner Role grants every call; the default one lacks exactly the patch.
    assert not_granted(api, runner_role(NS, with_ephemeral=True)) == []
    assert not_granted(api, runner_role(NS)) == ["patch pods/ephemeralcontainers in core ns volt"]


def test_a_named_pod_and_the_vantage_in_json(
    api: FakeApiServer, kubeconfig: str, capsys: pytest.CaptureFixture[str]
) -> None:
    api.on_update("pods/ephemeralcontainers", complete_ephemeral(report_log((Family.IPV4,))))

    code, out, err = run_cli(capsys, pod_cli(kubeconfig, f"{POD2}", "-o", "json"))

    assert code == 0, err
    document = json.loads(out)
    (added,) = pod(api, POD2)["spec"]["ephemeralContainers"]
    assert document["vantage"] == {
        "kind": "volt-pod",
        "pod": POD2,
        "namespace": NS,
        "container": added["name"],
    }
    assert Report.from_json(document).vantage == Vantage("volt-pod", POD2, NS, added["name"])
    assert "ephemeralContainers" not in pod(api, POD0)["spec"]


def test_403_names_the_missing_rule_in_one_line(
    api: FakeApiServer, kubeconfig: str, capsys: pytest.CaptureFixture[str]
) -> None:
    api.add_fault(Fault(verb="patch", resource="pods/ephemeralcontainers", status=403))

    code, out, err = run_cli(capsys, pod_cli(kubeconfig))

    assert code == 3 and out == ""
    assert "Traceback" not in err
    (line,) = [line for line in err.splitlines() if "error" in line]
    assert "patch pods/ephemeralcontainers in namespace volt" in line
    assert 'resources ["pods/ephemeralcontainers"], verbs ["patch"]' in line
    assert "voltprobe manifest runner-role --with-ephemeral --namespace volt" in line
    # the apiserver's own words, with the subresource, as a real 403 reads
    assert 'cannot patch resource "pods/ephemeralcontainers" in API group ""' in line


def test_pod_security_admission(
    api: FakeApiServer, kubeconfig: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A restricted namespace admits the probe into a restricted Volt pod; a Volt pod that
    predates the namespace's label is refused as a whole, and the error says Pod Security,
    not RBAC."""
    api.pod_security[NS] = ("restricted", pss_violations)
    api.on_update("pods/ephemeralcontainers", complete_ephemeral(report_log()))
    compliant = pod(api, POD2)
    compliant["spec"]["securityContext"] = restricted_pod_security()
    compliant["spec"]["containers"][0]["securityContext"] = restricted_container_security()
    api.store.put(compliant)

    code, _, err = run_cli(capsys, pod_cli(kubeconfig, POD2))
    assert code == 0, err

    code, out, err = run_cli(capsys, pod_cli(kubeconfig, POD0))
    assert code == 3 and out == ""
    (line,) = [line for line in err.splitlines() if "error" in line]
    assert "Pod Security admission rejected the probe" in line
    assert 'violates PodSecurity "restricted:latest": main: ' in line and "RBAC" not in line
    assert "ephemeralContainers" not in pod(api, POD0)["spec"]


def test_a_missing_pod_and_no_running_volt_pod(
    api: FakeApiServer, kubeconfig: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(capsys, pod_cli(kubeconfig, "mydb-voltdb-cluster-9"))
    assert code == 3 and out == ""
    assert "no pod 'mydb-voltdb-cluster-9' in namespace volt" in err

    for i in range(3):
        pending = pod(api, objects.volt_pod_name(i))
        pending["status"]["phase"] = "Pending" if i else "Failed"
        api.store.put(pending)
    code, out, err = run_cli(capsys, pod_cli(kubeconfig))
    assert code == 3
    assert f"no running Volt pod in namespace volt (Volt pods: {POD0} Failed, " in err
    code, out, err = run_cli(capsys, pod_cli(kubeconfig, POD2))
    assert code == 3 and f"pod {POD2} is Pending" in err
    assert not [r for r in api.requests if r.verb == "patch"]


def test_a_container_of_that_name_exists_422(
    api: FakeApiServer,
    kubeconfig: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(runner, "unique_name", lambda prefix="voltprobe": "voltprobe-dup")
    earlier = pod(api, POD0)
    earlier["spec"]["ephemeralContainers"] = [
        {"name": "voltprobe-dup", "image": "busybox", "args": ["sleep", "1"]}
    ]
    api.store.put(earlier)

    code, out, err = run_cli(capsys, pod_cli(kubeconfig))

    assert code == 3 and out == ""
    assert "the API server rejected the ephemeral container" in err
    assert 'existing ephemeral containers "voltprobe-dup" may not be changed' in err
    assert pod(api, POD0)["spec"]["ephemeralContainers"] == earlier["spec"]["ephemeralContainers"]


def test_a_log_without_a_report_is_exit_3_with_what_it_said(
    api: FakeApiServer, kubeconfig: str, capsys: pytest.CaptureFixture[str]
) -> None:
    api.on_update(
        "pods/ephemeralcontainers",
        complete_ephemeral(
            "voltprobe: error: bad --peer\n", exit_code=2, message="voltprobe: error: bad --peer"
        ),
    )
    code, out, err = run_cli(capsys, pod_cli(kubeconfig))
    assert code == 3 and out == ""
    assert "no report marker" in err and "container exit code 2 (Error)" in err
    assert "log ends: voltprobe: error: bad --peer" in err


def test_bad_input_is_exit_2_before_any_api_call(
    api: FakeApiServer, kubeconfig: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for extra in (
        ["--raw"],
        ["--keep"],
        ["--cluster-read"],
        ["other-ctx=" + POD0],  # not this run's --context
        ["Bad_Pod"],
    ):
        code, out, err = run_cli(capsys, pod_cli(kubeconfig, *extra))
        assert code == 2, (extra, err)
        assert out == "" and "Traceback" not in err
    assert api.requests == []


def test_ctx_equals_pod_names_the_context(
    api: FakeApiServer, kubeconfig: str, capsys: pytest.CaptureFixture[str]
) -> None:
    api.on_update("pods/ephemeralcontainers", complete_ephemeral(report_log()))
    contexts = json.loads(Path(kubeconfig).read_text())["contexts"]
    context = contexts[0]["name"]
    argv = pod_cli(kubeconfig, f"{context}={POD2}", "--context", context)
    code, out, err = run_cli(capsys, argv)
    assert code == 0, err
    assert f"from volt-pod {NS}/{POD2}" in out.splitlines()[0]


# -- waiting: progress, a container that never starts, a stuck image -------------------------


class Kubelet:
    """Plays the kubelet: each poll interval moves the ephemeral container one state on."""

    def __init__(self, server: FakeApiServer, states: list[Obj], log: str) -> None:
        self.server, self.states, self.log = server, list(states), log
        self.pod: Obj | None = None
        self.now = 0.0

    def on_update(self, server: FakeApiServer, updated: Obj) -> None:
        self.pod = updated
        self.advance()

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.advance()

    def advance(self) -> None:
        if not self.states or self.pod is None:
            return
        state = self.states.pop(0)
        current = pod(self.server, self.pod["metadata"]["name"])
        (container,) = current["spec"]["ephemeralContainers"]
        current["status"]["ephemeralContainerStatuses"] = [
            {
                "name": container["name"],
                "image": IMAGE,
                "imageID": "",
                "ready": False,
                "restartCount": 0,
                "state": state,
            }
        ]
        self.server.store.put(current)
        if "terminated" in state:
            self.server.set_log(NS, POD0, self.log, container=container["name"])

    def clock(self) -> runner.Clock:
        return runner.Clock(now=lambda: self.now, sleep=self.sleep)


def direct_run(kubeconfig: str, clock: runner.Clock, wait: float = 600) -> tuple[Any, list[str]]:
    api, _, _ = kube.connect(KubeOptions(kubeconfig=kubeconfig))
    params = JobParams(
        peers=("dr.peer.example.com",), name=runner.unique_name(), namespace=NS, image=IMAGE
    )
    lines: list[str] = []
    opts = ephemeral.EphemeralOptions(params, pod=None, wait_seconds=wait, poll_seconds=2.0)
    try:
        found: Any = ephemeral.run_from_volt_pod(api, opts, lines.append, clock)
    except CannotRunError as exc:
        found = exc
    return found, lines


def test_progress_follows_the_container_and_prints_each_change_once(
    api: FakeApiServer, kubeconfig: str
) -> None:
    kubelet = Kubelet(
        api,
        [
            {"waiting": {"reason": "ContainerCreating"}},
            {"waiting": {"reason": "ContainerCreating"}},
            {"running": {"startedAt": "2025-05-01T10:00:05Z"}},
            {"terminated": {"exitCode": 0, "reason": "Completed"}},
        ],
        report_log(),
    )
    api.on_update("pods/ephemeralcontainers", kubelet.on_update)

    found, lines = direct_run(kubeconfig, kubelet.clock())

    assert isinstance(found, Report), found
    assert found.vantage is not None and found.vantage.pod == POD0
    states = [line.split(": ", 1)[1] for line in lines if line.startswith("pod ")]
    assert states == ["waiting (ContainerCreating)", "running", "terminated (exit code 0)"]
    assert kubelet.now == 6.0  # three poll intervals, no real sleeping


def test_a_container_that_never_starts_times_out_cleanly(
    api: FakeApiServer, kubeconfig: str
) -> None:
    kubelet = Kubelet(api, [], "")  # the kubelet never reports the container
    api.on_update("pods/ephemeralcontainers", kubelet.on_update)

    found, lines = direct_run(kubeconfig, kubelet.clock(), wait=10)

    assert isinstance(found, CannotRunError), found
    text = str(found)
    assert "did not finish within 10s" in text and "waiting for the kubelet to start it" in text
    assert "stays in the pod until the pod restarts" in text and "\n" not in text
    assert 10 < kubelet.now <= 14  # gave up at the deadline, not long after
    assert sum("waiting for the kubelet" in line for line in lines) == 1
    polls = [r for r in api.requests if r.verb == "get" and r.resource == "pods"]
    assert len(polls) == 7  # bounded: one read per 2 s poll up to 12 s
    assert not [r for r in api.requests if r.resource == "pods/log"]  # not started: no log read


def test_an_image_that_cannot_be_pulled_fails_fast(api: FakeApiServer, kubeconfig: str) -> None:
    kubelet = Kubelet(
        api,
        [
            {"waiting": {"reason": "ErrImagePull"}},
            {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image"}},
        ],
        "",
    )
    api.on_update("pods/ephemeralcontainers", kubelet.on_update)
    found, _ = direct_run(kubeconfig, kubelet.clock())
    assert isinstance(found, CannotRunError)
    assert "ImagePullBackOff" in str(found) and "--image" in str(found)
    assert kubelet.now == 2.0


# -- the fake's pods/ephemeralcontainers and per-container logs, as the apiserver answers --


def test_fake_validates_ephemeral_containers_like_the_apiserver(
    api: FakeApiServer, tmp_path: Path
) -> None:
    core_api = core(api, tmp_path)
    strategic = "application/strategic-merge-patch+json"

    def patch(container: Obj, name: str = POD0, content_type: str = strategic) -> Any:
        body = {"spec": {"ephemeralContainers": [container]}}
        return core_api.patch_namespaced_pod_ephemeralcontainers(
            name, NS, body, _content_type=content_type
        )

    with pytest.raises(ApiException) as no_pod:
        patch({"name": "x", "image": "i"}, name="nope")
    assert no_pod.value.status == 404
    assert json.loads(no_pod.value.body)["message"] == 'pods "nope" not found'

    with pytest.raises(ApiException) as bad:
        patch({"name": "main", "image": "i", "ports": [{"containerPort": 1}], "resources": {}})
    body = json.loads(bad.value.body)
    assert bad.value.status == 422 and body["reason"] == "Invalid"
    assert body["message"] == (
        f'Pod "{POD0}" is invalid: [spec.ephemeralContainers[0].name: Duplicate value: "main", '
        "spec.ephemeralContainers[0].ports: Forbidden: cannot be set for an Ephemeral Container, "
        "spec.ephemeralContainers[0].resources: Forbidden: cannot be set for an Ephemeral "
        "Container]"
    )
    assert {c["reason"] for c in body["details"]["causes"]} == {
        "FieldValueDuplicate",
        "FieldValueForbidden",
    }

    # a JSON patch is a list of operations
    add = [{"op": "add", "path": "/spec/ephemeralContainers/-", "value": {"name": "x"}}]
    with pytest.raises(ApiException) as no_image:
        core_api.patch_namespaced_pod_ephemeralcontainers(POD0, NS, add)
    assert json.loads(no_image.value.body)["message"] == (
        f'Pod "{POD0}" is invalid: spec.ephemeralContainers[0].image: Required value'
    )

    first = {"name": "debug", "image": "busybox"}
    patch(first)
    assert patch(first).spec.ephemeral_containers[0].name == "debug"  # same spec: no change
    with pytest.raises(ApiException) as changed:
        patch({"name": "debug", "image": "alpine"})
    assert changed.value.status == 422 and "may not be changed" in changed.value.body

    # PUT: removing one is refused; a duplicate name is refused
    current = api.store.get(PODS, NS, POD0)
    current["spec"]["ephemeralContainers"] = []
    with pytest.raises(ApiException) as removed:
        core_api.replace_namespaced_pod_ephemeralcontainers(POD0, NS, current)
    assert removed.value.status == 422 and "may not be removed" in removed.value.body
    current["spec"]["ephemeralContainers"] = [first, {"name": "debug", "image": "i"}]
    with pytest.raises(ApiException) as duplicate:
        core_api.replace_namespaced_pod_ephemeralcontainers(POD0, NS, current)
    assert 'spec.ephemeralContainers[1].name: Duplicate value: \\"debug\\"' in duplicate.value.body


def test_fake_logs_are_per_container(api: FakeApiServer, tmp_path: Path) -> None:
    core_api = core(api, tmp_path)
    api.set_log(NS, POD0, "volt main log\n")
    assert core_api.read_namespaced_pod_log(POD0, NS) == "volt main log\n"
    body = {"spec": {"ephemeralContainers": [{"name": "probe", "image": "i"}]}}
    core_api.patch_namespaced_pod_ephemeralcontainers(
        POD0, NS, body, _content_type="application/strategic-merge-patch+json"
    )
    with pytest.raises(ApiException) as waiting:
        core_api.read_namespaced_pod_log(POD0, NS, container="probe")
    assert waiting.value.status == 400
    assert json.loads(waiting.value.body)["message"] == (
        f'container "probe" in pod "{POD0}" is waiting to start: ContainerCreating'
    )
    complete_ephemeral("probe log\n")(api, api.store.get(PODS, NS, POD0))
    assert core_api.read_namespaced_pod_log(POD0, NS, container="probe") == "probe log\n"
    assert core_api.read_namespaced_pod_log(POD0, NS, container="main") == "volt main log\n"
    with pytest.raises(ApiException) as unknown:
        core_api.read_namespaced_pod_log(POD0, NS, container="nope")
    assert unknown.value.status == 400 and "not valid for pod" in unknown.value.body


# -- the report's vantage point, the Role ------------------------------------------------------


def test_vantage_round_trips_and_is_absent_when_not_set() -> None:
    plain = Report(
        targets=(),
        dns=(),
        probes=(),
        findings=(),
        recommendation=Recommendation((), "cluster.serviceSpec.dr.ipFamilies", {}),
        version="0.1.0",
    )
    assert "vantage" not in plain.to_json()
    assert Report.from_json(plain.to_json()).vantage is None
    marked = Report(**{**plain.__dict__, "vantage": Vantage("volt-pod", POD0, NS, "voltprobe-a")})
    assert Report.from_json(json.loads(json.dumps(marked.to_json()))) == marked
    assert header(marked, Style()).endswith(f"from volt-pod {NS}/{POD0}")
    assert "from volt-pod" not in header(plain, Style())
    assert render_table(marked).splitlines()[0].endswith(f"{POD0}")


def test_runner_role_with_ephemeral_is_opt_in_and_says_what_it_costs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, default, _ = run_cli(capsys, ["manifest", "runner-role", "--namespace", NS])
    assert code == 0
    assert "pods/ephemeralcontainers" not in default.split("---", 1)[1]
    assert "--with-ephemeral" in default  # the comment says how to get it
    code, opted, _ = run_cli(
        capsys, ["manifest", "runner-role", "--namespace", NS, "--with-ephemeral"]
    )
    assert code == 0
    comments = " ".join(line for line in opted.splitlines() if line.startswith("#"))
    assert "cannot be removed" in comments and "until the pod is deleted or restarted" in comments
    assert "Rendered by: voltprobe manifest runner-role --namespace volt --with-ephemeral" in opted
    rules = runner_role(NS, with_ephemeral=True)["rules"]
    assert {
        "apiGroups": [""],
        "resources": ["pods/ephemeralcontainers"],
        "verbs": ["patch"],
    } in rules
    assert not [r for r in runner_role(NS)["rules"] if "pods/ephemeralcontainers" in r["resources"]]
    code, _, err = run_cli(capsys, ["manifest", "--peer", "x.example", "--with-ephemeral"])
    assert code == 2 and "runner-role" in err


def test_several_contexts_each_probe_from_their_first_volt_pod(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 18: `job run --context a --context b --from-volt-pod` adds the probe to a Volt
    pod of each cluster (the first running one, or CTX=POD's) instead of a Job, and
    merges; nothing else is created. (The containers' logs are canned reports.)"""
    from tests.fakeapi.files import KubeContext, write_kubeconfig

    with FakeApiServer(token=DEFAULT_TOKEN) as a, FakeApiServer(token=DEFAULT_TOKEN) as b:
        for server in (a, b):
            server.load(objects.dual_stack())
            server.on_update("pods/ephemeralcontainers", complete_ephemeral(report_log()))
        kubeconfig = write_kubeconfig(
            tmp_path / "kubeconfig",
            [
                KubeContext("a", a.url, DEFAULT_TOKEN, objects.NAMESPACE),
                KubeContext("b", b.url, DEFAULT_TOKEN, objects.NAMESPACE),
            ],
        )
        argv = ["job", "run", "--kubeconfig", str(kubeconfig), "--context", "a"]
        argv += ["--context", "b", "--image", IMAGE, "-o", "json"]
        code, out, err = run_cli(capsys, [*argv, "--from-volt-pod", f"b={POD2}"])
        patched = {
            name: [
                r.path.split("/")[-2]
                for r in server.requests
                if r.resource.endswith("ephemeralcontainers")
            ]
            for name, server in (("a", a), ("b", b))
        }
        created = [r for s in (a, b) for r in s.requests if r.verb == "create"]
    assert code != 2, err
    assert patched == {"a": [POD0], "b": [POD2]}, err
    assert not created  # no Job, no RBAC objects: an ephemeral container in each
    assert json.loads(out)["kind"] == "merge"
    code, _out, err = run_cli(capsys, [*argv, "--from-volt-pod", "c=x"])
    assert code == 2 and "CTX=POD" in err
