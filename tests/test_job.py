"""`voltprobe job run` / `job logs` against the fake API server, through the real client.

Job "completion" comes from
create hooks: the fake's `complete_jobs`, or `Controller` below, which moves the pod
through Pending -> Running -> finished each time the runner sleeps between polls.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from probe import cli
from probe.k8sjob import kube, logs, runner
from probe.k8sjob.objects import CONTAINER, JobParams, job_objects, runner_role
from probe.model import REPORT_BEGIN, REPORT_END, Family, Recommendation, Report
from probe.options import KubeOptions
from probe.render import render_json
from probe.render.table import render_table
from tests.fakeapi import FakeApiServer, Fault, resources
from tests.fakeapi.fixtures import kubeconfig_for
from tests.fakeapi.hooks import complete_jobs
from tests.fakeapi.server import DEFAULT_TOKEN
from tests.support.rbac import grants
from tests.test_manifests import pss_violations

NS = "volt"
RBAC = "rbac.authorization.k8s.io/v1"
OWNED = ("serviceaccounts", "roles", "rolebindings", "jobs")

Obj = dict[str, Any]


# -- fixtures ----------------------------------------------------------------------


@pytest.fixture
def rbac_api() -> Iterator[FakeApiServer]:
    """The fake API server (it serves rbac.authorization.k8s.io/v1 among the rest)."""
    with FakeApiServer(token=DEFAULT_TOKEN) as server:
        yield server


@pytest.fixture
def kubeconfig(rbac_api: FakeApiServer, tmp_path: Path) -> str:
    return str(kubeconfig_for(rbac_api, tmp_path / "kubeconfig", namespace=NS))


def report_log(families: tuple[Family, ...] = (Family.IPV6,), error: str | None = None) -> str:
    """A pod log exactly as `voltprobe check --log-json` writes it, with a stderr line mixed in."""
    values = {"cluster": {"serviceSpec": {"dr": {"ipFamilies": [f.value for f in families]}}}}
    report = Report(
        targets=(),
        dns=(),
        probes=(),
        findings=(),
        recommendation=Recommendation(
            ip_families=families,
            helm_key="cluster.serviceSpec.dr.ipFamilies",
            helm_values=values if families else {},
            rationale=() if families else ("IPv4: refused; IPv6: no answer",),
        ),
        version="0.1.0",
        error=error,
    )
    return (
        render_table(report)
        + "voltprobe: resolving peers\n"
        + f"{REPORT_BEGIN}\n{render_json(report)}{REPORT_END}\n"
    )


IMAGE = "registry.example/voltprobe:test"


def job_cli(kubeconfig: str, *argv: str) -> list[str]:
    peer = ["--peer", "dr.peer.example.com"]
    return ["job", "run", "--kubeconfig", kubeconfig, *peer, "--image", IMAGE, *argv]


def run_cli(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def writes(api: FakeApiServer) -> list[tuple[str, str, str | None]]:
    return [
        (r.verb, r.resource, r.namespace) for r in api.requests if r.verb in ("create", "delete")
    ]


def stored(api: FakeApiServer, plural: str) -> list[Obj]:
    group_version = {"serviceaccounts": "v1", "jobs": "batch/v1", "pods": "v1"}.get(plural, RBAC)
    rt = resources.find(group_version, plural)
    assert rt is not None
    return list(api.store.list(rt, NS, lambda obj: True).items)


# -- the whole flow through the CLI ------------------------------------------------


def test_run_creates_waits_reports_and_cleans_up(
    rbac_api: FakeApiServer, kubeconfig: str, capsys: pytest.CaptureFixture[str]
) -> None:
    created: list[Obj] = []
    rbac_api.on_create("jobs", lambda server, job: created.append(copy.deepcopy(job)))
    rbac_api.on_create("jobs", complete_jobs(report_log()))

    code, out, err = run_cli(capsys, job_cli(kubeconfig))

    assert code == 0, err
    assert out.startswith("voltprobe 0.1.0 ") and "PASS: XDCR can use IPv6" in out
    # the report read back and rendered here: the pod's stderr lines are not part of it
    assert REPORT_BEGIN not in out and "resolving peers" not in out
    assert out == render_table(logs.extract(report_log()))
    assert "verdict: PASS: XDCR can use IPv6" in err
    # Created in the context's namespace, Job last; deleted in reverse, nothing left over.
    assert writes(rbac_api) == [
        ("create", "serviceaccounts", NS),
        ("create", "roles", NS),
        ("create", "rolebindings", NS),
        ("create", "jobs", NS),
        ("delete", "jobs", NS),
        ("delete", "rolebindings", NS),
        ("delete", "roles", NS),
        ("delete", "serviceaccounts", NS),
    ]
    for plural in OWNED:
        assert stored(rbac_api, plural) == [], f"{plural} left behind"
    (job_delete,) = [r for r in rbac_api.requests if r.verb == "delete" and r.resource == "jobs"]
    assert job_delete.query.get("propagationPolicy") == "Background"  # the pod goes too
    (log_read,) = [r for r in rbac_api.requests if r.resource == "pods/log"]
    assert log_read.query.get("container") == CONTAINER
    (pod_list,) = {r.query.get("labelSelector") for r in rbac_api.requests if r.resource == "pods"}
    (job,) = created
    assert pod_list == f"job-name={job['metadata']['name']}"
    # What was posted is the rendered manifest with a unique name, still restricted.
    name = job["metadata"]["name"]
    assert name.startswith("voltprobe-") and name != "voltprobe"
    expected = next(
        o
        for o in job_objects(
            # the pod has no kube context: the Job names its cluster after the one used here
            JobParams(
                peers=("dr.peer.example.com",), name=name, namespace=NS, image=IMAGE, cluster="fake"
            )
        )
        if o["kind"] == "Job"
    )
    assert job["spec"] == expected["spec"]
    assert job["spec"]["template"]["spec"]["containers"][0]["args"][-2:] == ["--cluster", "fake"]
    assert pss_violations(job["spec"]["template"]["spec"]) == []
    # `voltprobe manifest runner-role` grants every call the run made, and nothing cluster-wide.
    assert not_granted(rbac_api, runner_role(NS)) == []


def test_run_names_its_job_once_in_the_context_namespace(
    rbac_api: FakeApiServer,
    kubeconfig: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    names: list[str] = []

    def unique_name(prefix: str = "voltprobe") -> str:
        names.append(f"{prefix}-n{len(names)}")
        return names[-1]

    monkeypatch.setattr(runner, "unique_name", unique_name)
    created: list[Obj] = []
    rbac_api.on_create("jobs", lambda server, job: created.append(copy.deepcopy(job)))
    rbac_api.on_create("jobs", complete_jobs(report_log()))
    code, _, err = run_cli(capsys, job_cli(kubeconfig, "--wait", "120"))
    assert code == 0, err
    assert names == ["voltprobe-n0"]  # one run, one name (validated once, before the API)
    assert [(j["metadata"]["namespace"], j["metadata"]["name"]) for j in created] == [
        (NS, "voltprobe-n0")
    ]


def not_granted(api: FakeApiServer, role: Obj) -> list[str]:
    """The requests `role` would not allow (RBAC: group, resource[/subresource], verb)."""
    granted = grants(role)
    missing = []
    for r in api.requests:
        group = r.group_version.rpartition("/")[0]
        if (
            r.namespace != role["metadata"]["namespace"]
            or (group, r.resource, r.verb) not in granted
        ):
            missing.append(f"{r.verb} {r.resource} in {group or 'core'} ns {r.namespace}")
    return missing


def test_run_uses_the_check_exit_code_and_prints_json(
    rbac_api: FakeApiServer, kubeconfig: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rbac_api.on_create("jobs", complete_jobs(report_log(families=()), succeeded=False))

    code, out, err = run_cli(capsys, job_cli(kubeconfig, "-o", "json", "--namespace", "other"))

    assert code == 1
    report = json.loads(out)  # stdout is only the JSON report
    assert report["exitCode"] == 1 and report["verdict"].startswith("FAIL:")
    assert "verdict: FAIL:" in err
    assert {ns for _, _, ns in writes(rbac_api)} == {"other"}  # --namespace beats the context


def test_run_values_output(
    rbac_api: FakeApiServer, kubeconfig: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rbac_api.on_create("jobs", complete_jobs(report_log(families=(Family.IPV4, Family.IPV6))))
    code, out, _ = run_cli(capsys, job_cli(kubeconfig, "-o", "values"))
    assert code == 0
    assert out.splitlines()[0].startswith("# voltprobe 0.1.0: PASS")
    assert "ipFamilies:\n      - IPv4\n      - IPv6\n" in out


def test_403_on_create_names_the_missing_rule_and_undoes_the_rest(
    rbac_api: FakeApiServer, kubeconfig: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rbac_api.add_fault(Fault(verb="create", resource="roles", status=403))

    code, out, err = run_cli(capsys, job_cli(kubeconfig))

    assert code == 3
    assert out == ""
    lines = [line for line in err.splitlines() if "error" in line]
    assert len(lines) == 1 and "Traceback" not in err
    assert "create roles.rbac.authorization.k8s.io in namespace volt" in lines[0]
    assert 'verbs ["create"]' in lines[0]
    assert writes(rbac_api) == [
        ("create", "serviceaccounts", NS),
        ("create", "roles", NS),
        ("delete", "serviceaccounts", NS),  # the one object it did create
    ]


def test_403_on_job_create(
    rbac_api: FakeApiServer, kubeconfig: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rbac_api.add_fault(Fault(verb="create", resource="jobs", status=403))
    code, _, err = run_cli(capsys, job_cli(kubeconfig))
    assert code == 3
    assert "create jobs.batch in namespace volt" in err
    for plural in OWNED:
        assert stored(rbac_api, plural) == []


def test_keep_leaves_everything_and_job_logs_reads_it_back(
    rbac_api: FakeApiServer, kubeconfig: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rbac_api.on_create("jobs", complete_jobs(report_log(families=(Family.IPV4,))))

    code, out, err = run_cli(capsys, job_cli(kubeconfig, "--keep"))

    assert code == 0
    assert not [w for w in writes(rbac_api) if w[0] == "delete"]
    (job,) = stored(rbac_api, "jobs")
    name = job["metadata"]["name"]
    assert f"kubectl -n {NS} delete job/{name} rolebinding/{name}" in err

    code, out, err = run_cli(capsys, ["job", "logs", "--kubeconfig", kubeconfig, name])
    assert code == 0
    report = json.loads(out)
    assert report["recommendation"]["ipFamilies"] == ["IPv4"]
    assert report["schema"] == "voltprobe/v1"


def test_kubectl_flags_reach_the_api(
    rbac_api: FakeApiServer, kubeconfig: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rbac_api.clear_requests()
    argv = ["job", "logs", "--kubeconfig", kubeconfig, "-n", NS, "nope"]
    code, _out, _err = run_cli(capsys, [*argv, "--as", "alice", "--as-group", "ops"])
    assert code == 3  # no such Job; what matters is who asked
    assert {r.impersonate for r in rbac_api.requests} == {("alice", "ops")}
    code, _out, err = run_cli(
        capsys, ["job", "logs", "--kubeconfig", kubeconfig, "--context", "x", "j"]
    )
    assert code == 2 and 'context "x" does not exist' in err


def test_job_logs_of_a_missing_job(
    rbac_api: FakeApiServer, kubeconfig: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(capsys, ["job", "logs", "--kubeconfig", kubeconfig, "nope"])
    assert code == 3 and out == ""
    assert "no Job 'nope' in namespace volt" in err


def test_a_pod_without_a_report_is_exit_3_with_what_it_said(
    rbac_api: FakeApiServer, kubeconfig: str, capsys: pytest.CaptureFixture[str]
) -> None:
    def crash(server: FakeApiServer, job: Obj) -> None:
        pod = stored(server, "pods")[0]
        pod["status"]["containerStatuses"] = [
            container_status(
                terminated={
                    "exitCode": 2,
                    "reason": "Error",
                    "message": "voltprobe: error: bad --peer",
                }
            )
        ]
        server.store.put(pod)

    rbac_api.on_create("jobs", complete_jobs("voltprobe: error: bad --peer\n", succeeded=False))
    rbac_api.on_create("jobs", crash)

    code, out, err = run_cli(capsys, job_cli(kubeconfig))

    assert code == 3 and out == ""
    assert "no report marker" in err and "container exit code 2" in err
    assert "bad --peer" in err
    for plural in OWNED:
        assert stored(rbac_api, plural) == []  # cleaned up on failure too


def test_bad_input_is_exit_2_before_any_api_call(
    rbac_api: FakeApiServer, kubeconfig: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv in (
        ["job", "run", "--kubeconfig", kubeconfig, "--peer", "bad peer!"],
        job_cli(kubeconfig, "--image", ""),
        job_cli(kubeconfig, "--namespace", "A_B"),
        job_cli(kubeconfig, "--namespace", "volt\n"),  # `$` would let the newline through
        *(job_cli(kubeconfig, "--wait", wait) for wait in ("nan", "inf", "-1", "0", "86401")),
        ["job"],
    ):
        code, out, err = run_cli(capsys, argv)
        assert code == 2, argv
        assert out == ""
        assert "Traceback" not in err
    assert rbac_api.requests == []


def test_unreachable_and_unauthorized_api(
    tmp_path: Path, rbac_api: FakeApiServer, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong_token = kubeconfig_for(rbac_api, tmp_path / "bad", namespace=NS, token="nope")
    code, _, err = run_cli(capsys, job_cli(str(wrong_token)))
    assert code == 3 and "401 Unauthorized" in err

    url = rbac_api.url
    rbac_api.stop()
    (tmp_path / "dead").write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "x",
                "clusters": [{"name": "x", "cluster": {"server": url}}],
                "users": [{"name": "x", "user": {"token": "t"}}],
                "contexts": [{"name": "x", "context": {"cluster": "x", "user": "x"}}],
            }
        )
    )
    code, _, err = run_cli(capsys, job_cli(str(tmp_path / "dead")))
    assert code == 3 and "cannot reach the Kubernetes API" in err


# -- waiting: progress, stuck pods, Pod Security, the deadline --------------------


def container_status(**state: Obj) -> Obj:
    return {
        "name": CONTAINER,
        "image": "voltprobe",
        "imageID": "",
        "ready": False,
        "restartCount": 0,
        "started": False,
        "state": state,
    }


class Controller:
    """Plays the Job controller and kubelet: each poll interval moves the pod one step."""

    def __init__(self, server: FakeApiServer, steps: list[tuple[str, Obj]], log: str) -> None:
        self.server, self.steps, self.log = server, list(steps), log
        self.job: Obj | None = None
        self.now = 0.0

    def on_job(self, server: FakeApiServer, job: Obj) -> None:
        self.job = job
        self.advance()

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.advance()

    def advance(self) -> None:
        if not self.steps or self.job is None:
            return
        phase, state = self.steps.pop(0)
        name = self.job["metadata"]["name"]
        self.server.store.put(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": f"{name}-abcde",
                    "namespace": NS,
                    "labels": {"job-name": name, "batch.kubernetes.io/job-name": name},
                },
                "spec": {
                    "containers": [{"name": CONTAINER, "image": "voltprobe"}],
                    "restartPolicy": "Never",
                },
                "status": {"phase": phase, "containerStatuses": [container_status(**state)]},
            }
        )
        self.server.set_log(NS, f"{name}-abcde", self.log if phase != "Pending" else "")

    def clock(self) -> runner.Clock:
        return runner.Clock(now=lambda: self.now, sleep=self.sleep)


def direct_run(
    kubeconfig: str,
    clock: runner.Clock,
    *,
    wait: float = 600,
    raw: bool = False,
) -> tuple[Report | BaseException, list[str]]:
    api, _, _ = kube.connect(KubeOptions(kubeconfig=kubeconfig))
    params = JobParams(
        peers=("dr.peer.example.com",), name=runner.unique_name(), namespace=NS, raw=raw
    )
    lines: list[str] = []
    try:
        found: Report | BaseException = runner.run_job(
            api, runner.RunOptions(params, wait_seconds=wait, poll_seconds=2.0), lines.append, clock
        )
    except Exception as exc:  # noqa: BLE001 - the test inspects it
        found = exc
    return found, lines


def test_progress_follows_the_pod_and_prints_each_change_once(
    rbac_api: FakeApiServer, kubeconfig: str
) -> None:
    controller = Controller(
        rbac_api,
        [
            ("Pending", {"waiting": {"reason": "ContainerCreating"}}),
            ("Pending", {"waiting": {"reason": "ContainerCreating"}}),
            ("Running", {"running": {"startedAt": "2025-05-01T10:00:05Z"}}),
            (
                "Succeeded",
                {
                    "terminated": {
                        "exitCode": 0,
                        "reason": "Completed",
                        "message": "PASS: XDCR can use IPv6",
                    }
                },
            ),
        ],
        report_log(),
    )
    rbac_api.on_create("jobs", controller.on_job)

    found, lines = direct_run(kubeconfig, controller.clock())

    assert isinstance(found, Report), found
    assert found.exit_code == 0 and found.verdict.startswith("PASS")
    states = [line.split(": ", 1)[1] for line in lines if line.startswith("pod ")]
    assert states == ["Pending (ContainerCreating)", "Running", "Succeeded"]
    assert controller.now == 6.0  # three poll intervals, no real sleeping
    assert lines[-1].startswith("deleted Job, RoleBinding, Role, ServiceAccount")


def test_image_pull_backoff_fails_fast_and_cleans_up(
    rbac_api: FakeApiServer, kubeconfig: str
) -> None:
    controller = Controller(
        rbac_api,
        [
            ("Pending", {"waiting": {"reason": "ErrImagePull"}}),
            (
                "Pending",
                {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image"}},
            ),
        ],
        "",
    )
    rbac_api.on_create("jobs", controller.on_job)

    found, _ = direct_run(kubeconfig, controller.clock())

    assert isinstance(found, runner.CannotRunError)
    assert "ImagePullBackOff" in str(found) and "--image" in str(found)
    assert controller.now == 2.0
    for plural in OWNED:
        assert stored(rbac_api, plural) == []


def test_pod_security_rejection_is_reported_from_the_job_events(
    rbac_api: FakeApiServer, kubeconfig: str
) -> None:
    message = (
        'pods "voltprobe-x-abcde" is forbidden: violates PodSecurity "baseline:latest": '
        'non-default capabilities (container "voltprobe" must not include "NET_RAW")'
    )

    def forbid(server: FakeApiServer, job: Obj) -> None:
        server.store.put(
            {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {"name": f"{job['metadata']['name']}.1", "namespace": NS},
                "involvedObject": {"kind": "Job", "name": job["metadata"]["name"], "namespace": NS},
                "reason": "FailedCreate",
                "type": "Warning",
                "message": message,
            }
        )

    rbac_api.on_create("jobs", forbid)
    clock = runner.Clock(now=lambda: 0.0, sleep=lambda s: None)

    found, _ = direct_run(kubeconfig, clock, raw=True)

    assert isinstance(found, runner.CannotRunError)
    assert "Pod Security level forbids" in str(found)
    assert "pod-security.kubernetes.io/enforce=privileged" in str(found)


def test_wait_gives_up_at_its_deadline(rbac_api: FakeApiServer, kubeconfig: str) -> None:
    controller = Controller(
        rbac_api, [("Pending", {"waiting": {"reason": "ContainerCreating"}})] * 100, ""
    )
    rbac_api.on_create("jobs", controller.on_job)

    found, _ = direct_run(kubeconfig, controller.clock(), wait=10)

    assert isinstance(found, runner.CannotRunError)
    assert "did not finish within 10s" in str(found)
    assert 10 < controller.now <= 14
    for plural in OWNED:
        assert stored(rbac_api, plural) == []


# -- the report between the markers ----------------------------------------------


def test_extract_takes_the_json_between_whole_marker_lines() -> None:
    text = report_log()
    found = logs.extract(text)
    assert isinstance(found, Report)  # typed, not a dictionary
    assert found.verdict.startswith("PASS") and found.exit_code == 0
    assert found.recommendation.ip_families == (Family.IPV6,)
    # A second (later) report wins; CRLF line ends are fine.
    later = report_log(families=()).replace("\n", "\r\n")
    assert logs.extract(text + later).exit_code == 1


@pytest.mark.parametrize(
    ("log", "why"),
    [
        ("", "no report marker"),
        (f'{REPORT_BEGIN}\n{{"schema": "voltprobe/v1"', "cut off"),
        (f"{REPORT_BEGIN}\nnot json\n{REPORT_END}\n", "not valid JSON"),
        (f'{REPORT_BEGIN}\n{{"a": 1}}\n{REPORT_END}\n', "not 'voltprobe/v1'"),
        (f"x {REPORT_BEGIN}\n{{}}\n{REPORT_END}\n", "no report marker"),
    ],
)
def test_extract_says_what_is_missing(log: str, why: str) -> None:
    with pytest.raises(logs.NoReport, match=why):
        logs.extract(log)


def test_kubectl_logs_timestamps_are_read_through() -> None:
    """`kubectl logs --timestamps` prefixes every line with an RFC 3339 time."""
    text = report_log()
    stamped = "\n".join(
        f"2026-11-30T17:00:0{i % 10}.123456789Z {line}" for i, line in enumerate(text.split("\n"))
    )
    assert logs.extract(stamped) == logs.extract(text)


def test_a_malformed_field_names_its_path() -> None:
    odd = report_log().replace('"exitCode": 0', '"exitCode": "0"')
    with pytest.raises(logs.NoReport, match="exitCode is missing or not a number"):
        logs.extract(odd)


# -- error translation: classified by the inventory's, worded for `job` -------------


def _api_exception(status: int, body: Obj | None = None, reason: str = "") -> Exception:
    from kubernetes.client.exceptions import ApiException

    exc = ApiException(status=status, reason=reason)
    exc.body = json.dumps(body) if body is not None else None
    return exc


@pytest.mark.parametrize(
    ("exc", "status", "reason", "words"),
    [
        (
            _api_exception(403, {"reason": "Forbidden", "message": "roles is forbidden: x"}),
            403,
            "Forbidden",
            (
                "may not create roles.rbac.authorization.k8s.io in namespace volt (RBAC rule: "
                'apiGroups ["rbac.authorization.k8s.io"], resources ["roles"], verbs ["create"])'
                ". The apiserver said: roles is forbidden: x"
            ),
        ),
        (
            _api_exception(
                403, {"message": "user attempting to grant RBAC permissions not currently held"}
            ),
            403,
            "Forbidden",
            "(RBAC escalation check)",
        ),
        (_api_exception(401), 401, "Unauthorized", "rejected the credentials (401 Unauthorized)"),
        (
            _api_exception(409, {"reason": "AlreadyExists", "message": "exists"}),
            409,
            "AlreadyExists",
            "create roles.rbac.authorization.k8s.io in namespace volt failed: 409 exists",
        ),
        (
            _api_exception(0, reason="SSLError(certificate verify failed)"),
            None,
            "TLSError",
            "cannot reach the Kubernetes API at https://k8s.example:6443 (TLSError): SSLError",
        ),
        (
            ConnectionRefusedError(111, "Connection refused"),
            None,
            "ConnectionRefused",
            "cannot reach the Kubernetes API at https://k8s.example:6443 (ConnectionRefused)",
        ),
        (
            ValueError("Invalid value for `kind`"),
            None,
            "InvalidResponse",
            "unexpected answer from the API: ValueError: Invalid value for `kind`",
        ),
    ],
)
def test_translate_words_the_inventory_classification(
    exc: Exception, status: int | None, reason: str, words: str
) -> None:
    error = kube.translate(exc, "create", kube.RESOURCES["Role"], NS, "https://k8s.example:6443")
    assert error.status == status and error.problem is not None
    assert (error.problem.status, error.problem.reason) == (status, reason)
    assert words in str(error) and "\n" not in str(error)


def test_translate_of_a_cluster_scoped_kind_is_cluster_wide() -> None:
    exc = _api_exception(403, {"message": "nope"})
    error = kube.translate(exc, "create", kube.RESOURCES["ClusterRole"], NS, "https://k")
    assert "create clusterroles.rbac.authorization.k8s.io cluster-wide" in str(error)
    assert error.problem is not None and error.problem.cluster_scoped


def test_the_job_resolves_as_the_volt_pods_do(
    rbac_api: FakeApiServer, kubeconfig: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 12: the Volt pods' hostAliases, dnsPolicy and dnsConfig are copied into the
    Job's pod (the JVM's getaddrinfo reads /etc/hosts and resolv.conf they shape)."""
    from tests.fakeapi import objects

    flavour = objects.dual_stack()
    aliases = [{"ip": "192.0.2.77", "hostnames": ["peer-dr.b.example"]}]
    dns_config = {"searches": ["b.example"], "options": [{"name": "ndots", "value": "5"}]}
    volt = []
    for obj in flavour.objects:
        if obj.get("kind") == "Pod" and obj["metadata"]["name"] != objects.PROBE_POD:
            obj = copy.deepcopy(obj)
            obj["spec"].update(hostAliases=aliases, dnsConfig=dns_config)
        volt.append(obj)
    rbac_api.store.put_many(volt)
    created: list[Obj] = []
    rbac_api.on_create("jobs", lambda server, job: created.append(copy.deepcopy(job)))
    rbac_api.on_create("jobs", complete_jobs(report_log()))

    code, _out, err = run_cli(capsys, job_cli(kubeconfig))

    assert code == 0, err
    (job,) = created
    pod_spec = job["spec"]["template"]["spec"]
    assert pod_spec["hostAliases"] == aliases and pod_spec["dnsConfig"] == dns_config
    assert "the Job resolves as the Volt pods do" in err


def test_fail_on_gates_a_passing_job_with_a_warning(
    rbac_api: FakeApiServer, kubeconfig: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from dataclasses import replace

    from probe.model import Finding, Severity

    warned = logs.extract(report_log())
    warned = replace(warned, findings=(Finding("VP203", Severity.WARNING, "one family only"),))
    log = f"{REPORT_BEGIN}\n{render_json(warned)}{REPORT_END}\n"
    rbac_api.on_create("jobs", complete_jobs(log))
    code, _out, err = run_cli(capsys, job_cli(kubeconfig, "--fail-on", "warning"))
    assert code == 4 and "--fail-on warning" in err
