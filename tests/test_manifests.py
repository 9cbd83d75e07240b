"""The in-cluster manifests: static files match the renderer, validate offline against
the Kubernetes OpenAPI schemas, meet Pod Security "restricted" (default Job, responder),
keep RBAC read-only and namespaced, and the container command is one `check` accepts."""

from __future__ import annotations

import copy
import re
import shlex
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from probe import cli
from probe.k8sjob import files
from probe.k8sjob.defaults import DEFAULT_IMAGE
from probe.k8sjob.objects import (
    CLUSTER_ROLE,
    IMAGE_UID,
    PLACEHOLDER_PEER,
    JobParams,
    ResponderParams,
    job_objects,
)
from probe.model import REPORT_BEGIN, REPORT_END, Family
from tests.support.rbac import grants

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "k8s"
# Oldest still-supported minor we care about and the newest the package ships.
SCHEMA_VERSIONS = ("1.33", kubernetes_validate.utils.latest_version())

Obj = dict[str, Any]


def docs(text: str) -> list[Obj]:
    return [d for d in yaml.safe_load_all(text) if d]


def by_kind(objects: list[Obj], kind: str) -> list[Obj]:
    return [o for o in objects if o["kind"] == kind]


def one(objects: list[Obj], kind: str) -> Obj:
    found = by_kind(objects, kind)
    assert len(found) == 1, f"expected one {kind}, got {len(found)}"
    return found[0]


def static(name: str) -> list[Obj]:
    return docs((K8S / name).read_text(encoding="utf-8"))


def manifest_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(["manifest", *argv])
    out, err = capsys.readouterr()
    return code, out, err


# -- Pod Security Standards, field by field (k/website pod-security-standards.md) ----

BASELINE_CAPS = {
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
}
RESTRICTED_VOLUMES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}
SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
}
SELINUX_TYPES = {
    None,
    "",
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
}


def _containers(spec: Obj) -> list[Obj]:
    return [
        *spec.get("initContainers", []),
        *spec.get("containers", []),
        *spec.get("ephemeralContainers", []),
    ]


def pss_violations(spec: Obj, level: str = "restricted") -> list[str]:
    """Every Pod Security Standards rule the pod spec breaks at `level` (baseline|restricted)."""
    bad: list[str] = []
    pod_sc = spec.get("securityContext", {})
    containers = _containers(spec)
    # -- baseline
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(key):
            bad.append(f"{key}")
    if pod_sc.get("windowsOptions", {}).get("hostProcess"):
        bad.append("pod hostProcess")
    for volume in spec.get("volumes", []):
        if "hostPath" in volume:
            bad.append(f"hostPath volume {volume['name']}")
    for sysctl in pod_sc.get("sysctls", []):
        if sysctl["name"] not in SAFE_SYSCTLS:
            bad.append(f"sysctl {sysctl['name']}")
    if pod_sc.get("seccompProfile", {}).get("type") == "Unconfined":
        bad.append("pod seccomp Unconfined")
    if pod_sc.get("appArmorProfile", {}).get("type") not in (None, "RuntimeDefault", "Localhost"):
        bad.append("pod appArmorProfile")
    if pod_sc.get("seLinuxOptions", {}).get("type") not in SELINUX_TYPES:
        bad.append("pod seLinuxOptions.type")
    for c in containers:
        sc = c.get("securityContext", {})
        name = c["name"]
        if sc.get("privileged"):
            bad.append(f"{name}: privileged")
        if sc.get("windowsOptions", {}).get("hostProcess"):
            bad.append(f"{name}: hostProcess")
        for cap in sc.get("capabilities", {}).get("add", []):
            if cap not in BASELINE_CAPS:
                bad.append(f"{name}: capability {cap} (baseline)")
        for port in c.get("ports", []):
            if port.get("hostPort"):
                bad.append(f"{name}: hostPort")
        if sc.get("procMount", "Default") != "Default":
            bad.append(f"{name}: procMount")
        if sc.get("seccompProfile", {}).get("type") == "Unconfined":
            bad.append(f"{name}: seccomp Unconfined")
        if sc.get("seLinuxOptions", {}).get("type") not in SELINUX_TYPES:
            bad.append(f"{name}: seLinuxOptions.type")
        if sc.get("appArmorProfile", {}).get("type") not in (None, "RuntimeDefault", "Localhost"):
            bad.append(f"{name}: appArmorProfile")
    if level == "baseline":
        return bad
    # -- restricted
    for volume in spec.get("volumes", []):
        kinds = set(volume) - {"name"}
        if not kinds <= RESTRICTED_VOLUMES:
            bad.append(f"volume {volume['name']} type {sorted(kinds)}")
    pod_non_root = pod_sc.get("runAsNonRoot") is True
    pod_seccomp = pod_sc.get("seccompProfile", {}).get("type") in ("RuntimeDefault", "Localhost")
    if pod_sc.get("runAsUser") == 0:
        bad.append("pod runAsUser 0")
    if pod_sc.get("runAsNonRoot") is False:
        bad.append("pod runAsNonRoot false")
    for c in containers:
        sc = c.get("securityContext", {})
        name = c["name"]
        if sc.get("allowPrivilegeEscalation") is not False:
            bad.append(f"{name}: allowPrivilegeEscalation not false")
        non_root = sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot"))
        if non_root is not True or (sc.get("runAsNonRoot") is None and not pod_non_root):
            bad.append(f"{name}: runAsNonRoot not true")
        if sc.get("runAsUser") == 0:
            bad.append(f"{name}: runAsUser 0")
        seccomp = sc.get("seccompProfile", {}).get("type")
        if not (seccomp in ("RuntimeDefault", "Localhost") or (seccomp is None and pod_seccomp)):
            bad.append(f"{name}: seccomp not RuntimeDefault/Localhost")
        caps = sc.get("capabilities", {})
        if "ALL" not in caps.get("drop", []):
            bad.append(f"{name}: capabilities do not drop ALL")
        for cap in caps.get("add", []):
            if cap != "NET_BIND_SERVICE":
                bad.append(f"{name}: capability {cap} (restricted)")
    return bad


def pod_spec(objects: list[Obj], kind: str = "Job") -> Obj:
    spec: Obj = one(objects, kind)["spec"]["template"]["spec"]
    return spec


# Each mutation breaks exactly one restricted rule: the checker must see every one,
# or a passing default Job would prove nothing.
MUTATIONS = {
    "privileged": lambda s: s["containers"][0]["securityContext"].update(privileged=True),
    "escalation": lambda s: s["containers"][0]["securityContext"].pop("allowPrivilegeEscalation"),
    "no drop ALL": lambda s: s["containers"][0]["securityContext"]["capabilities"].update(drop=[]),
    "add NET_RAW": lambda s: s["containers"][0]["securityContext"]["capabilities"].update(
        add=["NET_RAW"]
    ),
    "root user": lambda s: s["containers"][0]["securityContext"].update(runAsUser=0),
    "runAsNonRoot unset": lambda s: [
        s["securityContext"].pop("runAsNonRoot"),
        s["containers"][0]["securityContext"].pop("runAsNonRoot"),
    ],
    "runAsNonRoot false in container": lambda s: s["containers"][0]["securityContext"].update(
        runAsNonRoot=False
    ),
    "seccomp missing": lambda s: s["securityContext"].pop("seccompProfile"),
    "seccomp unconfined": lambda s: s["containers"][0]["securityContext"].update(
        seccompProfile={"type": "Unconfined"}
    ),
    "hostNetwork": lambda s: s.update(hostNetwork=True),
    "hostPath": lambda s: s["volumes"].append({"name": "h", "hostPath": {"path": "/"}}),
    "hostPort": lambda s: s["containers"][0].update(ports=[{"containerPort": 1, "hostPort": 1}]),
}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_pss_checker_catches_each_violation(mutation: str) -> None:
    spec = copy.deepcopy(pod_spec(static("probe-job.yaml")))
    assert pss_violations(spec) == []
    MUTATIONS[mutation](spec)
    assert pss_violations(spec), f"{mutation} went unnoticed"


# -- static files are the renderer's output -------------------------------------


def test_every_static_manifest_is_rendered_from_the_templates() -> None:
    shipped = {p.relative_to(ROOT).as_posix() for p in K8S.glob("*.yaml")}
    assert shipped == set(files.STATIC_FILES), "k8s/*.yaml and STATIC_FILES disagree"
    for rel, render in files.STATIC_FILES.items():
        assert (ROOT / rel).read_text(encoding="utf-8") == render(), (
            f"{rel} drifted from probe/k8sjob: run `python -m probe.k8sjob.files k8s`"
        )


def test_default_static_job_is_the_manifest_command_output(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = manifest_cli(capsys, "--peer", PLACEHOLDER_PEER)
    assert code == 0
    assert out == (K8S / "probe-job.yaml").read_text(encoding="utf-8")


# -- offline schema validation ---------------------------------------------------


def rendered_variants() -> dict[str, str]:
    job = JobParams(
        peers=("dr.peer.example.com:5555", "[2001:db8::7]:5555"),
        namespace="volt",
        image="registry.example.com/tools/voltprobe:1.2.3",
        per_pod=True,
        active_deadline_seconds=120,
        ttl_seconds_after_finished=0,
        timeout=0.5,
    )
    return {
        "job+clusterrole": files.job_file(job, cluster_read=True),
        "job raw": files.job_file(JobParams(peers=("198.51.100.7",), raw=True, namespace="x")),
        "clusterrole volt": files.cluster_role_file("probe", "volt"),
        "runner role": files.runner_role_file("volt"),
        "responder v6 first": files.responder_file(
            ResponderParams(
                namespace="volt",
                service_type="NodePort",
                ip_family_policy="RequireDualStack",
                ip_families=(Family.IPV6, Family.IPV4),
                port=6555,
            )
        ),
        "responder clusterip v4": files.responder_file(
            ResponderParams(
                service_type="ClusterIP", ip_family_policy="SingleStack", ip_families=(Family.IPV4,)
            )
        ),
    }


def all_manifests() -> list[tuple[str, Obj]]:
    found: list[tuple[str, Obj]] = []
    for path in sorted(K8S.glob("*.yaml")):
        found += [(path.name, d) for d in static(path.name)]
    for label, text in rendered_variants().items():
        found += [(label, d) for d in docs(text)]
    return found


@pytest.mark.parametrize("version", SCHEMA_VERSIONS)
def test_every_manifest_validates_against_the_openapi_schema(version: str) -> None:
    manifests = all_manifests()
    kinds = {d["kind"] for _, d in manifests}
    assert {
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "ClusterRole",
        "ClusterRoleBinding",
        "Job",
        "Deployment",
        "Service",
    } <= kinds
    for _source, doc in manifests:
        # strict: unknown fields fail too; a missing schema raises instead of warning
        kubernetes_validate.validate(doc, version, strict=True)


def test_the_validator_rejects_a_broken_job() -> None:
    job = copy.deepcopy(one(static("probe-job.yaml"), "Job"))
    job["spec"]["backoffLimit"] = "zero"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(job, SCHEMA_VERSIONS[0], strict=True)
    job = copy.deepcopy(one(static("probe-job.yaml"), "Job"))
    job["spec"]["template"]["spec"]["containers"][0]["securityContext"]["runAsRoot"] = False
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(job, SCHEMA_VERSIONS[0], strict=True)


# -- Pod Security ----------------------------------------------------------------


def test_default_job_meets_restricted_pod_security_field_by_field() -> None:
    spec = pod_spec(static("probe-job.yaml"))
    assert pss_violations(spec) == []
    pod_sc = spec["securityContext"]
    assert pod_sc["runAsNonRoot"] is True
    assert pod_sc["runAsUser"] == IMAGE_UID != 0
    assert pod_sc["seccompProfile"] == {"type": "RuntimeDefault"}
    (container,) = spec["containers"]
    sc = container["securityContext"]
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["privileged"] is False
    assert sc["runAsNonRoot"] is True
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert "--mode" in container["args"]
    assert container["args"][container["args"].index("--mode") + 1] == "connect"


def test_read_only_root_filesystem_has_somewhere_to_write() -> None:
    spec = pod_spec(static("probe-job.yaml"))
    (container,) = spec["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["HOME"] == "/tmp"
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]]
    assert container["terminationMessagePath"] == "/dev/termination-log"


def test_raw_variant_adds_net_raw_and_runs_as_root() -> None:
    objects = static("probe-job-raw.yaml")
    spec = pod_spec(objects)
    (container,) = spec["containers"]
    sc = container["securityContext"]
    assert sc["capabilities"] == {"drop": ["ALL"], "add": ["NET_RAW"]}
    assert sc["runAsUser"] == 0 and spec["securityContext"]["runAsUser"] == 0
    assert sc["runAsNonRoot"] is False
    assert sc["allowPrivilegeEscalation"] is False and sc["readOnlyRootFilesystem"] is True
    assert container["args"][container["args"].index("--mode") + 1] == "raw"
    # NET_RAW is beyond baseline: the file must say the namespace needs "privileged".
    assert any("NET_RAW" in v for v in pss_violations(spec, "baseline"))
    text = (K8S / "probe-job-raw.yaml").read_text(encoding="utf-8")
    assert "pod-security.kubernetes.io/enforce=privileged" in text
    # Everything but the pod's security settings is the same as the default Job.
    default = one(static("probe-job.yaml"), "Job")
    raw = copy.deepcopy(one(objects, "Job"))
    for job in (default, raw):
        job["spec"]["template"]["spec"].pop("securityContext")
        c = job["spec"]["template"]["spec"]["containers"][0]
        c.pop("securityContext")
        c["args"] = [a for a in c["args"] if a not in ("raw", "connect")]
    assert raw == default


def test_responder_meets_restricted_pod_security() -> None:
    objects = static("responder.yaml")
    spec = pod_spec(objects, "Deployment")
    assert pss_violations(spec) == []
    assert spec["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is True
    assert spec["automountServiceAccountToken"] is False


# -- RBAC ------------------------------------------------------------------------


def test_default_rbac_is_read_only_and_namespaced() -> None:
    objects = static("probe-job.yaml")
    assert not by_kind(objects, "ClusterRole") and not by_kind(objects, "ClusterRoleBinding")
    role = one(objects, "Role")
    assert role["metadata"]["namespace"] == "default"
    granted = grants(role)
    assert granted == {
        (g, r, v)
        for g, r in (("", "pods"), ("", "services"), ("discovery.k8s.io", "endpointslices"))
        for v in ("get", "list")
    } | {("networking.k8s.io", "networkpolicies", "list")}
    assert all(
        "resourceNames" not in rule and "nonResourceURLs" not in rule for rule in role["rules"]
    )
    sa = one(objects, "ServiceAccount")
    binding = one(objects, "RoleBinding")
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": role["metadata"]["name"],
    }
    assert binding["subjects"] == [
        {
            "kind": "ServiceAccount",
            "name": sa["metadata"]["name"],
            "namespace": sa["metadata"]["namespace"],
        }
    ]
    job = one(objects, "Job")
    assert job["spec"]["template"]["spec"]["serviceAccountName"] == sa["metadata"]["name"]
    assert {o["metadata"]["namespace"] for o in objects} == {"default"}


def test_optional_clusterrole_reads_only_nodes_servicecidrs_and_namespaces() -> None:
    objects = static("probe-clusterrole.yaml")
    role = one(objects, "ClusterRole")
    assert role["metadata"]["name"] == CLUSTER_ROLE
    rules = {
        (tuple(r["apiGroups"]), tuple(r["resources"]), tuple(r["verbs"])) for r in role["rules"]
    }
    assert rules == {
        (("",), ("nodes",), ("get", "list")),
        (("networking.k8s.io",), ("servicecidrs",), ("get", "list")),
        (("",), ("namespaces",), ("get",)),
    }
    binding = one(objects, "ClusterRoleBinding")
    assert binding["roleRef"]["kind"] == "ClusterRole"
    assert binding["roleRef"]["name"] == CLUSTER_ROLE
    sa = one(static("probe-job.yaml"), "ServiceAccount")["metadata"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": sa["name"], "namespace": sa["namespace"]}
    ]


def test_checks_remedy_names_the_clusterrole_file_that_exists() -> None:
    from probe.checks import DEFAULT_REGISTRY

    remedies = " ".join(spec.remedy for spec in DEFAULT_REGISTRY.specs())
    for name in re.findall(r"k8s/[\w.-]+\.yaml", remedies):
        assert (ROOT / name).is_file(), f"a remedy points at missing {name}"
    assert "k8s/probe-clusterrole.yaml" in remedies


# -- the Job itself --------------------------------------------------------------


def test_job_lifecycle_and_downward_api() -> None:
    job = one(static("probe-job.yaml"), "Job")
    spec = job["spec"]
    assert spec["backoffLimit"] == 0
    assert 0 < spec["activeDeadlineSeconds"] <= 900
    assert spec["ttlSecondsAfterFinished"] > 0
    pod = spec["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    (container,) = pod["containers"]
    field_env = {
        e["name"]: e["valueFrom"]["fieldRef"]["fieldPath"]
        for e in container["env"]
        if "valueFrom" in e
    }
    assert field_env == {
        "POD_NAME": "metadata.name",
        "POD_NAMESPACE": "metadata.namespace",
        "POD_IPS": "status.podIPs",
    }


def expand(args: list[str], env: list[Obj]) -> list[str]:
    """The kubelet's $(VAR) expansion, for the variables with literal values."""
    values = {e["name"]: e["value"] for e in env if "value" in e}
    out = []
    for arg in args:
        for name in re.findall(r"\$\((\w+)\)", arg):
            assert name in values, f"$({name}) is not defined in env, the kubelet would keep it"
            arg = arg.replace(f"$({name})", values[name])
        out.append(arg)
    return out


@pytest.mark.parametrize("raw", [False, True])
def test_container_command_is_a_valid_check_invocation(raw: bool) -> None:
    params = JobParams(
        peers=("dr.peer.example.com:5555", "[2001:db8::7]"),
        port=6000,
        timeout=1.5,
        per_pod=True,
        raw=raw,
    )
    job = one(job_objects(params), "Job")
    (container,) = job["spec"]["template"]["spec"]["containers"]
    argv = expand(container["args"], container["env"])
    args = cli.build_parser().parse_args(argv)
    assert args.func is cli.check.run
    assert args.peer == ["dr.peer.example.com:5555,[2001:db8::7]"]
    assert (args.port, args.timeout, args.per_pod) == (6000, 1.5, True)
    assert args.mode == ("raw" if raw else "connect")
    assert args.termination_log == "/dev/termination-log"
    assert args.log_json is True
    assert args.output == "table"  # the human report is what `kubectl logs` shows


def test_static_job_runs_the_placeholder_peer_that_can_never_resolve() -> None:
    job = one(static("probe-job.yaml"), "Job")
    env = job["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "PEER", "value": PLACEHOLDER_PEER} in env
    assert PLACEHOLDER_PEER.split(":")[0].endswith(".invalid")
    assert job["spec"]["template"]["spec"]["containers"][0]["image"] == DEFAULT_IMAGE


# -- `voltprobe manifest` --------------------------------------------------------


def test_manifest_fills_in_every_parameter(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = manifest_cli(
        capsys,
        "--peer",
        "a.example.com:5555",
        "--peer",
        "[2001:db8::1]:5555",
        "--namespace",
        "volt",
        "--image",
        "reg.example.com/vp:9",
        "--raw",
        "--per-pod",
        "--with-cluster-role",
    )
    assert code == 0
    objects = docs(out)
    assert [o["kind"] for o in objects] == [
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "ClusterRole",
        "ClusterRoleBinding",
        "Job",
    ]
    for obj in objects:
        if obj["kind"] not in ("ClusterRole", "ClusterRoleBinding"):
            assert obj["metadata"]["namespace"] == "volt"
    assert one(objects, "RoleBinding")["subjects"][0]["namespace"] == "volt"
    assert one(objects, "ClusterRoleBinding")["subjects"][0]["namespace"] == "volt"
    container = pod_spec(objects)["containers"][0]
    assert container["image"] == "reg.example.com/vp:9"
    assert {"name": "PEER", "value": "a.example.com:5555,[2001:db8::1]:5555"} in container["env"]
    assert "--per-pod" in container["args"]
    assert "NET_RAW" in container["securityContext"]["capabilities"]["add"]
    # The header says how to render the same thing again.
    rendered_by = next(line for line in out.splitlines() if line.startswith("# Rendered by:"))
    again = shlex.split(rendered_by.removeprefix("# Rendered by:"))[1:]
    assert cli.main(again) == 0
    assert capsys.readouterr().out == out


@pytest.mark.parametrize(
    "argv",
    [
        [],  # no peer
        ["--peer", "bad host name"],
        ["--peer", "a.example.com:99999"],
        ["--peer", "a.example.com", "--namespace", "Volt_NS"],
        ["--peer", "a.example.com", "--namespace", "volt\n"],  # `$` lets a newline through
        ["--peer", "a.example.com", "--name", "voltprobe\n"],
        ["responder", "--namespace", "volt\n"],
        ["--peer", "a.example.com", "--image", "has space"],
        ["--peer", "a.example.com", "--timeout", "0"],
        ["responder", "--ip-families", "IPv4,IPv6", "--ip-family-policy", "SingleStack"],
        ["responder", "--ip-families", "IPv5"],
    ],
)
def test_manifest_rejects_bad_input_with_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    code, out, err = manifest_cli(capsys, *argv)
    assert code == 2
    assert out == ""
    assert "Traceback" not in err


def test_manifest_clusterrole_binds_the_namespaced_service_account(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = manifest_cli(capsys, "clusterrole", "--namespace", "volt", "--name", "probe")
    assert code == 0
    binding = one(docs(out), "ClusterRoleBinding")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "probe", "namespace": "volt"}]
    assert "volt" in binding["metadata"]["name"]  # one binding per namespace, no clash


def test_manifest_responder_shapes_the_service(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = manifest_cli(
        capsys,
        "responder",
        "--service-type",
        "NodePort",
        "--ip-family-policy",
        "RequireDualStack",
        "--ip-families",
        "IPv6,IPv4",
        "--port",
        "6555",
    )
    assert code == 0
    objects = docs(out)
    service = one(objects, "Service")
    assert service["spec"]["type"] == "NodePort"
    assert service["spec"]["ipFamilyPolicy"] == "RequireDualStack"
    assert service["spec"]["ipFamilies"] == ["IPv6", "IPv4"]
    deployment = one(objects, "Deployment")
    pod = deployment["spec"]["template"]
    assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    assert deployment["spec"]["selector"]["matchLabels"] == pod["metadata"]["labels"]
    (container,) = pod["spec"]["containers"]
    assert container["args"] == ["serve", "--port", "6555"]
    (port,) = service["spec"]["ports"]
    assert port["port"] == 6555
    assert port["targetPort"] == container["ports"][0]["name"]
    assert container["ports"][0]["containerPort"] == 6555
    serve_args = cli.build_parser().parse_args(container["args"])
    assert serve_args.func is cli.serve.run and serve_args.port == 6555


def test_default_responder_never_fails_on_a_single_stack_cluster() -> None:
    service = one(static("responder.yaml"), "Service")
    assert service["spec"]["ipFamilyPolicy"] == "PreferDualStack"
    assert "ipFamilies" not in service["spec"]


# -- Dockerfile ------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def test_dockerfile_final_stage_is_slim_non_root_and_runs_voltprobe() -> None:
    instructions = dockerfile_instructions()
    froms = [i for i, (k, _) in enumerate(instructions) if k == "FROM"]
    final = instructions[froms[-1] :]
    base = final[0][1].split()[0]
    args = dict(rest.partition("=")[::2] for k, rest in instructions if k == "ARG")
    if base.startswith("${"):  # FROM ${PYTHON_IMAGE}: the ARG's default (a digest at build time)
        base = args[base[2:-1]]
    assert re.fullmatch(r"python:3\.1[0-9]+-slim(-\w+)?", base), base
    users = [rest for k, rest in final if k == "USER"]
    assert users == [f"{IMAGE_UID}:{IMAGE_UID}"], "the image must end as the numeric non-root user"
    assert ("ENTRYPOINT", '["voltprobe"]') in final
    assert not any(k == "ADD" for k, _ in instructions)
    # The final stage installs only the built wheels, offline.
    installs = [rest for k, rest in final if k == "RUN" and "pip install" in rest]
    assert installs and all("--no-index" in rest for rest in installs)
    # ... the dependencies from the lock file, hashes required, in both stages
    downloads = [rest for k, rest in instructions if k == "RUN" and "pip download" in rest]
    assert downloads
    for command in [*installs[:1], *downloads]:
        assert "--require-hashes" in command and "requirements.lock" in command, command
    assert not any(k == "COPY" and "." in rest.split()[:1] for k, rest in final)


def test_the_lock_pins_every_dependency_with_hashes() -> None:
    import tomllib
    from packaging.requirements import Requirement

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    text = (ROOT / "requirements.lock").read_text().replace("\\\n", " ")
    pinned: dict[str, str] = {}
    for line in text.splitlines():
        if line and not line.startswith(("#", " ")):
            name, _, rest = line.partition("==")
            assert "--hash=sha256:" in rest, f"{name} has no hash"
            pinned[name.strip().lower().replace("_", "-")] = rest.split()[0]
    for dependency in declared:
        requirement = Requirement(dependency)
        name = requirement.name.lower().replace("_", "-")
        assert name in pinned, f"{name} is not in requirements.lock: run pip-compile (Dockerfile)"
        assert requirement.specifier.contains(pinned[name]), (name, pinned[name])


def test_the_image_builds_the_template_cache_as_root(tmp_path: Path) -> None:
    """The RUN line fills the directory the code reads, before the image drops root; run
    here with another directory, it leaves templates a later process loads."""
    import os
    import subprocess
    import sys

    final = dockerfile_instructions()
    final = final[max(i for i, (k, _) in enumerate(final) if k == "FROM") :]
    env = next(rest for k, rest in final if k == "ENV" and "VOLTPROBE_CACHE_DIR" in rest)
    warm = next(i for i, (k, rest) in enumerate(final) if k == "RUN" and "rawcache" in rest)
    assert warm < next(i for i, (k, _) in enumerate(final) if k == "USER")
    assert env.startswith("VOLTPROBE_CACHE_DIR=/")
    command = final[warm][1]
    assert command.startswith('python -c "') and command.endswith('"')
    cache = {**os.environ, "VOLTPROBE_CACHE_DIR": str(tmp_path)}
    subprocess.run([sys.executable, "-c", command[len('python -c "') : -1]], env=cache, check=True)
    check = "from probe.probers import rawcache; assert rawcache.cached_templates() is not None"
    subprocess.run([sys.executable, "-c", check], env=cache, check=True)


def test_dockerignore_keeps_the_build_context_small() -> None:
    ignored = set((ROOT / ".dockerignore").read_text(encoding="utf-8").split())
    assert {".git", ".venv", "tests", "bench"} <= ignored
    assert "probe" not in ignored and "pyproject.toml" not in ignored


def test_k8s_readme_describes_every_file_and_the_real_markers() -> None:
    readme = (K8S / "README.md").read_text(encoding="utf-8")
    for rel in files.STATIC_FILES:
        assert f"`{Path(rel).name}`" in readme, rel
    assert REPORT_BEGIN in readme and REPORT_END in readme
    assert f"UID\n{IMAGE_UID}" in readme or f"UID {IMAGE_UID}" in readme


def test_manifest_dry_run_service_variant_adds_only_create_services(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = manifest_cli(capsys, "--peer", "a.example.com", "--dry-run-service")
    assert code == 0
    objects = docs(out)
    added = grants(one(objects, "Role")) - grants(one(static("probe-job.yaml"), "Role"))
    assert added == {("", "services", "create")}
    container = one(objects, "Job")["spec"]["template"]["spec"]["containers"][0]
    assert "--dry-run-service" in container["args"]
    assert "--dry-run-service" in out.splitlines()[1]  # the "Rendered by" line says how
