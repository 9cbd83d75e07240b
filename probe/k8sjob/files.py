"""The manifest files: which objects go in which YAML file, with their header comments.

k8s/*.yaml in the repository are exactly these files rendered with the default
parameters (`STATIC_FILES`; tests/test_manifests.py keeps them equal). Regenerate them
with `python -m probe.k8sjob.files k8s` after changing objects.py.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

import yaml

from probe.k8sjob.defaults import (
    DEFAULT_ACTIVE_DEADLINE,
    DEFAULT_IMAGE,
    DEFAULT_IP_FAMILY_POLICY,
    DEFAULT_NAME,
    DEFAULT_NAMESPACE,
    DEFAULT_RESPONDER_NAME,
    DEFAULT_SERVICE_TYPE,
    DEFAULT_TTL,
)
from probe.k8sjob.objects import (
    CLUSTER_ROLE,
    PLACEHOLDER_PEER,
    RUNNER_ROLE,
    JobParams,
    Obj,
    ResponderParams,
    check_name,
    cluster_role,
    cluster_role_binding,
    job_objects,
    responder_objects,
    runner_role,
)
from probe.model import DEFAULT_DR_PORT


def to_yaml(objects: Iterable[Obj]) -> str:
    docs = [yaml.safe_dump(obj, sort_keys=False, default_flow_style=False) for obj in objects]
    return "---\n" + "---\n".join(docs)


def _comment(lines: Iterable[str]) -> str:
    return "".join(f"# {line}".rstrip() + "\n" for line in lines)


def _common_flags(name: str, default_name: str, namespace: str, image: str) -> list[str]:
    flags: list[str] = []
    if name != default_name:
        flags += ["--name", name]
    if namespace != DEFAULT_NAMESPACE:
        flags += ["--namespace", namespace]
    if image != DEFAULT_IMAGE:
        flags += ["--image", image]
    return flags


def job_command(p: JobParams, cluster_read: bool = False) -> str:
    """The `voltprobe manifest` invocation that renders this Job again."""
    argv = ["voltprobe", "manifest"]
    for peer in p.peers:
        argv += ["--peer", peer]
    argv += _common_flags(p.name, DEFAULT_NAME, p.namespace, p.image)
    if p.port != DEFAULT_DR_PORT:
        argv += ["--port", str(p.port)]
    if p.timeout != 2.0:
        argv += ["--timeout", f"{p.timeout:g}"]
    if p.active_deadline_seconds != DEFAULT_ACTIVE_DEADLINE:
        argv += ["--deadline", str(p.active_deadline_seconds)]
    if p.ttl_seconds_after_finished != DEFAULT_TTL:
        argv += ["--ttl", str(p.ttl_seconds_after_finished)]
    if p.raw:
        argv.append("--raw")
    if p.per_pod:
        argv.append("--per-pod")
    if cluster_read:
        argv.append("--with-cluster-role")
    if p.dry_run_service:
        argv.append("--dry-run-service")
    return shlex.join(argv)


def job_file(p: JobParams, cluster_read: bool = False) -> str:
    ns, name = p.namespace, p.name
    lines = [
        f"voltprobe in-cluster check: ServiceAccount, read-only Role + RoleBinding, Job ({p.mode} mode).",
        f"Rendered by: {job_command(p, cluster_read)}",
        "",
        "1. Set the PEER env value of the Job to the peer cluster's DR endpoint(s):",
        "   host[:port][,host[:port]...]; the peer's dr.connection.source value works verbatim.",
        f"2. Everything is in namespace {ns!r}. Run it in the Volt cluster's namespace: edit every",
        "   `namespace:` (the RoleBinding subject too) or render with --namespace NS.",
        f"3. kubectl apply -f FILE && kubectl -n {ns} wait --for=condition=complete job/{name}",
        f"   kubectl -n {ns} logs job/{name}      the report; JSON between the marker lines",
        f"   kubectl -n {ns} describe pod -l job-name={name}   the verdict (termination message)",
        f"   voltprobe job logs --namespace {ns} {name}      the JSON report alone",
        "   Run it in both clusters, each pointing at the other: XDCR dials both ways.",
        "Optional cluster-wide read access (nodes, servicecidrs): k8s/probe-clusterrole.yaml.",
    ]
    if p.raw:
        lines += [
            "",
            "RAW VARIANT: runs as root (UID 0) with capabilities drop ALL, add NET_RAW, for raw",
            "SYN probes (--mode raw). NET_RAW is outside the baseline and restricted Pod Security",
            "levels, so the namespace must be at the privileged level:",
            f"  kubectl label namespace {ns} pod-security.kubernetes.io/enforce=privileged",
            "Otherwise the Job creates no pod (event FailedCreate: violates PodSecurity); then",
            "use the default manifest (connect mode, restricted level) instead.",
        ]
    else:
        lines += [
            "",
            "Meets the restricted Pod Security level: non-root, drop ALL capabilities, no privilege",
            "escalation, seccomp RuntimeDefault, read-only root filesystem (/tmp is an emptyDir).",
            "Raw SYN probes need root + NET_RAW: see probe-job-raw.yaml (`--raw`).",
        ]
    text = to_yaml(job_objects(p, cluster_read))
    # Point at the one value a user must edit, right where it is.
    text = text.replace(
        "- name: PEER\n", "- name: PEER  # set value: to the peer's DR endpoint(s)\n", 1
    )
    return _comment(lines) + text


def cluster_role_file(name: str = DEFAULT_NAME, namespace: str = DEFAULT_NAMESPACE) -> str:
    check_name(name, "name")
    check_name(namespace, "namespace")
    argv = ["voltprobe", "manifest", "clusterrole"]
    argv += _common_flags(name, DEFAULT_NAME, namespace, DEFAULT_IMAGE)
    lines = [
        "voltprobe OPTIONAL cluster-wide read access: get/list nodes and servicecidrs, get",
        "namespaces.",
        f"Rendered by: {shlex.join(argv)}",
        "",
        "Lets the probe tell which IP families the cluster supports for Services (ServiceCIDRs)",
        "and which node addresses can serve a NodePort DR Service. Without it the check still",
        "runs and reports the capability as unknown (VP103); it then recommends no family the",
        "DR Services would have to be recreated in, until something shows it can be allocated.",
        "`get namespaces` tells a namespace without DR Services from one that does not exist.",
        f"Binds ClusterRole {CLUSTER_ROLE} to ServiceAccount {namespace}/{name}",
        "(created by probe-job.yaml); change the subject if you run the probe elsewhere.",
        "Applying it needs cluster-admin-like rights; the probe itself stays read-only.",
    ]
    return _comment(lines) + to_yaml([cluster_role(), cluster_role_binding(name, namespace)])


def runner_role_file(
    namespace: str = DEFAULT_NAMESPACE, with_ephemeral: bool = False, with_responder: bool = False
) -> str:
    check_name(namespace, "namespace")
    argv = ["voltprobe", "manifest", "runner-role"]
    argv += _common_flags(DEFAULT_NAME, DEFAULT_NAME, namespace, DEFAULT_IMAGE)
    if with_ephemeral:
        argv.append("--with-ephemeral")
    if with_responder:
        argv.append("--with-responder")
    lines = [
        f"Role {RUNNER_ROLE}: the rights `voltprobe job run` needs in namespace {namespace!r}",
        "(create/delete its ServiceAccount, Role, RoleBinding and Job, watch the pod, read its",
        "log and events). `voltprobe check` itself needs none of this.",
        f"Rendered by: {shlex.join(argv)}",
        "",
        "WHAT IT REALLY ALLOWS, on its own: `create jobs` runs any image as any",
        "ServiceAccount of the namespace, mounting any Secret, and `get pods/log` reads what",
        "that pod prints: the holder can read every Secret of the namespace. Its delete",
        "rights cover every ServiceAccount, Role, RoleBinding and Job there, not only",
        "voltprobe's. RBAC cannot narrow this (no label selectors; per-run names).",
        "Apply k8s/runner-policy.yaml (a ValidatingAdmissionPolicy, Kubernetes 1.30+) with",
        "it: holders of this Role may then create only voltprobe Jobs (the voltprobe image,",
        "a voltprobe-* ServiceAccount, no Secret volumes or Secret env) and delete only",
        "objects labelled app.kubernetes.io/name=voltprobe. Or run voltprobe in a namespace",
        "of its own that holds no Secrets (the check reads another namespace with -n).",
        "",
        "Bind it to the support engineer who runs the probe, for example:",
        f"  kubectl -n {namespace} create rolebinding {RUNNER_ROLE} --role={RUNNER_ROLE} --user=U",
        "`voltprobe job run --cluster-read` also needs create/delete on clusterroles and",
        "clusterrolebindings (and get/list on nodes and servicecidrs, get on namespaces): a",
        "cluster admin's job.",
    ]
    if with_ephemeral:
        lines += [
            "",
            "WITH --with-ephemeral: also `patch pods/ephemeralcontainers`, for",
            "`voltprobe job run --from-volt-pod`, which adds the probe to a running Volt pod as",
            "an ephemeral container (the probes leave from the Volt pod's own network namespace,",
            "under its NetworkPolicies and Multus interfaces). This is a WRITE to the Volt pods,",
            "and it can add any container image to any pod in the namespace: grant it only",
            "for the session. An ephemeral container cannot be removed or changed: it stays in",
            "the pod's spec (finished) until the pod is deleted or restarted.",
        ]
    else:
        lines += [
            "`voltprobe job run --from-volt-pod` also needs `patch pods/ephemeralcontainers`,",
            "a write to the Volt pods: render this Role with --with-ephemeral.",
        ]
    if with_responder:
        lines += [
            "",
            "WITH --with-responder: also create/delete pods and services, for `voltprobe job",
            "run --responder`, which runs `voltprobe serve` in a Pod behind a Service shaped like",
            "the DR Service (a LoadBalancer is reachable from outside the cluster, and a cloud",
            "may bill it) for the length of the run. With the runner policy, such Pods run only",
            "the voltprobe image without a service account token, such Services set no",
            "externalIPs, and only objects labelled app.kubernetes.io/name=voltprobe are deleted.",
        ]
    else:
        lines += [
            "`voltprobe job run --responder` also needs create/delete on pods and services:",
            "render this Role with --with-responder.",
        ]
    return _comment(lines) + to_yaml([runner_role(namespace, with_ephemeral, with_responder)])


def runner_policy_file(image: str = DEFAULT_IMAGE) -> str:
    """k8s/runner-policy.yaml: the limits of the runner role (probe.k8sjob.policy)."""
    from probe.k8sjob.objects import check_image
    from probe.k8sjob.policy import POLICY, runner_policy

    check_image(image)
    argv = ["voltprobe", "manifest", "runner-policy"]
    if image != DEFAULT_IMAGE:
        argv += ["--image", image]
    lines = [
        f"ValidatingAdmissionPolicy {POLICY}: what holders of the Role {RUNNER_ROLE}",
        "(voltprobe manifest runner-role) may create and delete, in every namespace.",
        f"Rendered by: {shlex.join(argv)}",
        "Needs Kubernetes 1.30+ (admissionregistration.k8s.io/v1) and cluster-admin to apply.",
        "",
        "It limits only users whose rules grant `use` on voltprobe.io/runners (the Role above",
        "does) and not `use` on voltprobe.io/unrestricted (only wildcard rules, as admins",
        "hold, do). For them: Jobs run exactly the image below as a voltprobe-* ServiceAccount",
        "with only emptyDir volumes and no Secret or ConfigMap environment; ServiceAccounts,",
        "Roles and RoleBindings are named voltprobe-*; deletes hit only objects labelled",
        "app.kubernetes.io/name=voltprobe. Render it again with --image when you mirror the",
        "image (pin a digest: --image REGISTRY/voltprobe@sha256:...).",
    ]
    return _comment(lines) + to_yaml(runner_policy(image))


def responder_command(r: ResponderParams) -> str:
    argv = ["voltprobe", "manifest", "responder"]
    argv += _common_flags(r.name, DEFAULT_RESPONDER_NAME, r.namespace, r.image)
    if r.port != DEFAULT_DR_PORT:
        argv += ["--port", str(r.port)]
    if r.service_type != DEFAULT_SERVICE_TYPE:
        argv += ["--service-type", r.service_type]
    if r.ip_family_policy != DEFAULT_IP_FAMILY_POLICY:
        argv += ["--ip-family-policy", r.ip_family_policy]
    if r.ip_families:
        argv += ["--ip-families", ",".join(f.value for f in r.ip_families)]
    return shlex.join(argv)


def responder_file(r: ResponderParams) -> str:
    lines = [
        f"voltprobe responder: `voltprobe serve` on port {r.port} behind a Service shaped like",
        "Volt's DR Service, to test the path through the real load balancers in both",
        "families before VoltDB's DR listener exists.",
        f"Rendered by: {responder_command(r)}",
        "",
        "Shape the Service like the Volt DR Service you will deploy: --service-type",
        "(ClusterIP|NodePort|LoadBalancer), --ip-family-policy and --ip-families IPv6,IPv4",
        "(the first family is the primary one and cannot be changed later).",
        "PreferDualStack without ipFamilies works on any cluster (both families where available).",
        f"Then from the other cluster: voltprobe check --peer <this Service's address>:{r.port}",
        "Meets the restricted Pod Security level; needs no RBAC.",
    ]
    return _comment(lines) + to_yaml(responder_objects(r))


def _default_job(raw: bool = False) -> JobParams:
    return JobParams(peers=(PLACEHOLDER_PEER,), raw=raw)


# The checked-in files, relative to the repository root, and how each is rendered.
STATIC_FILES: dict[str, Callable[[], str]] = {
    "k8s/probe-job.yaml": lambda: job_file(_default_job()),
    "k8s/probe-job-raw.yaml": lambda: job_file(_default_job(raw=True)),
    "k8s/probe-clusterrole.yaml": lambda: cluster_role_file(),
    "k8s/responder.yaml": lambda: responder_file(ResponderParams()),
    "k8s/runner-policy.yaml": lambda: runner_policy_file(),
}


def write_static(directory: Path) -> list[Path]:
    written = []
    for rel, render in STATIC_FILES.items():
        path = directory / Path(rel).name
        path.write_text(render(), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in write_static(Path(sys.argv[1] if len(sys.argv) > 1 else "k8s")):
        print(written_path)
