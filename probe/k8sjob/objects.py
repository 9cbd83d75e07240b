"""The in-cluster objects as plain dicts (wire names), built from frozen parameters.

This module is the single source of every manifest: `voltprobe manifest`, `voltprobe
job run` and the checked-in k8s/*.yaml all come from these functions. It does no I/O.

Security: the default Job meets the "restricted" Pod Security level (non-root, all
capabilities dropped, no privilege escalation, RuntimeDefault seccomp, read-only root
filesystem) and probes with connect(). `raw=True` is the documented exception: root
plus NET_RAW for SYN probes, which needs a namespace at the "privileged" level.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from probe.errors import UsageError
from probe.k8sjob.defaults import (
    DEFAULT_ACTIVE_DEADLINE,
    DEFAULT_IMAGE,
    DEFAULT_IP_FAMILY_POLICY,
    DEFAULT_NAME,
    DEFAULT_NAMESPACE,
    DEFAULT_RESPONDER_NAME,
    DEFAULT_SERVICE_TYPE,
    DEFAULT_TTL,
    IP_FAMILY_POLICIES,
    SERVICE_TYPES,
)
from probe.model import DEFAULT_DR_PORT, Family
from probe.options import CHECK_DEFAULTS

Obj = dict[str, Any]

# ".invalid" never resolves (RFC 2606), so an unedited manifest fails loudly with NXDOMAIN.
PLACEHOLDER_PEER = "change-me.invalid:5555"
CONTAINER = "voltprobe"
TERMINATION_LOG = "/dev/termination-log"
IMAGE_UID = 10001  # the non-root user the Dockerfile creates; numeric so the kubelet can verify
CLUSTER_ROLE = "voltprobe-cluster-read"

# Names become label values and pod-name prefixes: a DNS-1123 label, short enough that the
# Job controller's 6-character pod suffix still fits in 63.
# fullmatch, not match + `$`: `$` also matches before a trailing newline ("ns\n").
_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
MAX_NAME = 52


def check_name(value: str, what: str) -> str:
    if len(value) > MAX_NAME or not _NAME.fullmatch(value):
        raise UsageError(
            f"{what} {value!r} must be a DNS-1123 label: lower-case letters, digits and '-', "
            f"starting and ending with a letter or digit, at most {MAX_NAME} characters"
        )
    return value


def check_cluster_name(value: str, what: str) -> str:
    """A cluster name for a report: printable, no spaces, at most 253 characters."""
    if not value or len(value) > 253 or not value.isprintable() or any(c.isspace() for c in value):
        raise UsageError(f"{what} {value[:60]!r} must be a non-empty name without spaces")
    return value


def check_image(value: str) -> str:
    if not value or any(ch.isspace() for ch in value):
        raise UsageError(f"image {value!r} must be a non-empty image reference without spaces")
    return value


def check_port(value: int) -> int:
    if not 1 <= value <= 65535:
        raise UsageError(f"port {value} must be from 1 to 65535")
    return value


@dataclass(frozen=True)
class JobParams:
    """Everything that varies between renderings of the probe Job and its RBAC."""

    peers: tuple[str, ...]
    name: str = DEFAULT_NAME
    namespace: str = DEFAULT_NAMESPACE
    image: str = DEFAULT_IMAGE
    port: int = DEFAULT_DR_PORT
    timeout: float = CHECK_DEFAULTS.timeout
    raw: bool = False
    per_pod: bool = False
    # The Role variant that lets the check run `--dry-run-service` (create services, used
    # only with dryRun=All: the apiserver validates and allocates, persists nothing).
    dry_run_service: bool = False
    active_deadline_seconds: int = DEFAULT_ACTIVE_DEADLINE
    ttl_seconds_after_finished: int = DEFAULT_TTL
    # recorded in the report (check --cluster/--peer-cluster): a pod has no kube context,
    # so the Job names its cluster explicitly and `voltprobe report` can pair the reports
    cluster: str | None = None
    peer_cluster: str | None = None
    # the Volt pods' resolver settings (canonical JSON of hostAliases, dnsPolicy and
    # dnsConfig; probe.inventory.parse.resolver_settings): the probe resolves as they do
    resolver: str = ""

    def __post_init__(self) -> None:
        for what, value in (("--cluster", self.cluster), ("--peer-cluster", self.peer_cluster)):
            if value is not None:
                check_cluster_name(value, what)
        if not self.peers or any(not p.strip() for p in self.peers):
            raise UsageError("no peer given: use --peer HOST[:PORT][,HOST[:PORT]...]")
        check_name(self.name, "name")
        check_name(self.namespace, "namespace")
        check_image(self.image)
        check_port(self.port)
        if not 0 < self.timeout <= 60:
            raise UsageError("--timeout must be > 0 and <= 60 seconds")
        if self.active_deadline_seconds < 1 or self.ttl_seconds_after_finished < 0:
            raise UsageError("the deadline must be >= 1 s and the TTL >= 0 s")

    @property
    def peer_value(self) -> str:
        """One comma list: `voltprobe check --peer` accepts it, like connection.source."""
        return ",".join(p.strip() for p in self.peers)

    @property
    def mode(self) -> str:
        return "raw" if self.raw else "connect"


@dataclass(frozen=True)
class ResponderParams:
    """The stand-in DR listener and a Service shaped like Volt's DR Service."""

    name: str = DEFAULT_RESPONDER_NAME
    namespace: str = DEFAULT_NAMESPACE
    image: str = DEFAULT_IMAGE
    port: int = DEFAULT_DR_PORT
    service_type: str = DEFAULT_SERVICE_TYPE
    ip_family_policy: str = DEFAULT_IP_FAMILY_POLICY
    ip_families: tuple[Family, ...] = ()  # empty: let the cluster choose (never fails)
    # app.kubernetes.io/name: `job run --responder` labels its own "voltprobe", so the
    # runner policy lets it delete them (k8s/runner-policy.yaml)
    app: str = "voltprobe-responder"

    def __post_init__(self) -> None:
        check_name(self.name, "name")
        check_name(self.namespace, "namespace")
        check_image(self.image)
        check_port(self.port)
        if self.service_type not in SERVICE_TYPES:
            raise UsageError(f"service type must be one of {', '.join(SERVICE_TYPES)}")
        if self.ip_family_policy not in IP_FAMILY_POLICIES:
            raise UsageError(f"ipFamilyPolicy must be one of {', '.join(IP_FAMILY_POLICIES)}")
        if len(set(self.ip_families)) != len(self.ip_families):
            raise UsageError("ipFamilies must not repeat a family")
        # The apiserver rejects this combination; say so before kubectl does.
        if len(self.ip_families) == 2 and self.ip_family_policy == "SingleStack":
            raise UsageError(
                "two ipFamilies need ipFamilyPolicy PreferDualStack or RequireDualStack"
            )


# -- shared pieces -----------------------------------------------------------


def labels(name: str, component: str, app: str = "voltprobe") -> dict[str, str]:
    return {
        "app.kubernetes.io/name": app,
        "app.kubernetes.io/instance": name,
        "app.kubernetes.io/component": component,
    }


def _meta(name: str, namespace: str | None, label_set: dict[str, str]) -> Obj:
    meta: Obj = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    meta["labels"] = dict(label_set)
    return meta


def restricted_pod_security() -> Obj:
    return {
        "runAsNonRoot": True,
        "runAsUser": IMAGE_UID,
        "runAsGroup": IMAGE_UID,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def restricted_container_security() -> Obj:
    return {
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    }


def _raw_pod_security() -> Obj:
    # Capabilities in `add` are effective only for UID 0 (file capabilities would be
    # ignored under no_new_privs), so raw probing runs as root.
    return {
        "runAsNonRoot": False,
        "runAsUser": 0,
        "runAsGroup": 0,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def _raw_container_security() -> Obj:
    return {
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": False,
        "runAsUser": 0,
        "capabilities": {"drop": ["ALL"], "add": ["NET_RAW"]},
    }


def _python_env() -> list[Obj]:
    # The root filesystem is read-only: no .pyc files, and HOME on the /tmp emptyDir.
    return [
        {"name": "PYTHONDONTWRITEBYTECODE", "value": "1"},
        {"name": "PYTHONUNBUFFERED", "value": "1"},
        {"name": "HOME", "value": "/tmp"},
    ]


def _resources() -> Obj:
    return {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}}


def _tmp_volume() -> tuple[Obj, Obj]:
    volume = {"name": "tmp", "emptyDir": {"sizeLimit": "16Mi"}}
    mount = {"name": "tmp", "mountPath": "/tmp"}
    return volume, mount


# -- the probe Job and its RBAC ---------------------------------------------


def service_account(p: JobParams) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": _meta(p.name, p.namespace, labels(p.name, "probe")),
    }


def role(p: JobParams) -> Obj:
    """Read-only and namespaced: what `voltprobe check` reads about the local Volt cluster.
    With `dry_run_service`, also `create services` for the server-side dry-run."""
    rules: list[Obj] = [
        {"apiGroups": [""], "resources": ["pods", "services"], "verbs": ["get", "list"]},
        {
            "apiGroups": ["discovery.k8s.io"],
            "resources": ["endpointslices"],
            "verbs": ["get", "list"],
        },
        {
            "apiGroups": ["networking.k8s.io"],
            "resources": ["networkpolicies"],
            "verbs": ["list"],
        },
    ]
    if p.dry_run_service:
        rules.append({"apiGroups": [""], "resources": ["services"], "verbs": ["create"]})
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": _meta(p.name, p.namespace, labels(p.name, "probe")),
        "rules": rules,
    }


def _subject(name: str, namespace: str) -> Obj:
    return {"kind": "ServiceAccount", "name": name, "namespace": namespace}


def role_binding(p: JobParams) -> Obj:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": _meta(p.name, p.namespace, labels(p.name, "probe")),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": p.name},
        "subjects": [_subject(p.name, p.namespace)],
    }


def cluster_role(name: str = CLUSTER_ROLE) -> Obj:
    """Optional, cluster-wide, still read-only: node and Service CIDR families. `job run`
    gives each run its own (named like its binding), so a run never deletes a ClusterRole
    another run still uses; the static manifest shares CLUSTER_ROLE."""
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": _meta(name, None, labels(name, "probe")),
        "rules": [
            {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list"]},
            {
                "apiGroups": ["networking.k8s.io"],
                "resources": ["servicecidrs"],
                "verbs": ["get", "list"],
            },
            # whether a namespace without DR Services exists (404) at all
            {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get"]},
        ],
    }


def cluster_role_binding_name(name: str, namespace: str) -> str:
    # Cluster-scoped: one binding per ServiceAccount that runs the probe.
    return f"{CLUSTER_ROLE}-{namespace}-{name}"


def cluster_role_binding(name: str, namespace: str, role: str = CLUSTER_ROLE) -> Obj:
    """Binds the optional ClusterRole `role` to the probe's ServiceAccount `namespace/name`."""
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": _meta(cluster_role_binding_name(name, namespace), None, labels(name, "probe")),
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": role,
        },
        "subjects": [_subject(name, namespace)],
    }


def check_deadline(active_deadline_seconds: int) -> int:
    """The check's own --deadline inside a Job with this activeDeadlineSeconds.

    When Kubernetes enforces activeDeadlineSeconds it deletes the pod, and the log and
    termination message go with it; so the check stops itself first. The margin, 20%
    of the Job's deadline (at least 10 s, at most 60 s), covers what the Job's clock
    counts before the check starts (scheduling, image pull, interpreter start-up) and
    the writing of the report after it stops."""
    margin = min(60, max(10, active_deadline_seconds // 5))
    return max(1, active_deadline_seconds - margin)


def probe_args(p: JobParams) -> list[str]:
    """`voltprobe check` as the container runs it; $(VAR) is expanded by the kubelet."""
    args = [
        "check",
        "--peer",
        "$(PEER)",
        "--port",
        "$(DR_PORT)",
        "--timeout",
        "$(PROBE_TIMEOUT)",
        "--mode",
        p.mode,
        "--termination-log",
        TERMINATION_LOG,
        "--log-json",
        "--deadline",
        str(check_deadline(p.active_deadline_seconds)),
    ]
    if p.per_pod:
        args.append("--per-pod")
    if p.cluster:
        args += ["--cluster", p.cluster]
    if p.peer_cluster:
        args += ["--peer-cluster", p.peer_cluster]
    if p.dry_run_service:
        args.append("--dry-run-service")
    return args


def _field_env(name: str, path: str) -> Obj:
    return {"name": name, "valueFrom": {"fieldRef": {"fieldPath": path}}}


def probe_env(p: JobParams) -> list[Obj]:
    """The environment `probe_args` expands, and the pod's own name, namespace and IPs."""
    return [
        {"name": "PEER", "value": p.peer_value},
        {"name": "DR_PORT", "value": str(p.port)},
        {"name": "PROBE_TIMEOUT", "value": f"{p.timeout:g}"},
        _field_env("POD_NAME", "metadata.name"),
        _field_env("POD_NAMESPACE", "metadata.namespace"),
        _field_env("POD_IPS", "status.podIPs"),
        *_python_env(),
    ]


def job(p: JobParams) -> Obj:
    volume, mount = _tmp_volume()
    container: Obj = {
        "name": CONTAINER,
        "image": p.image,
        "imagePullPolicy": "IfNotPresent",
        "args": probe_args(p),
        "env": probe_env(p),
        "resources": _resources(),
        "securityContext": _raw_container_security() if p.raw else restricted_container_security(),
        "terminationMessagePath": TERMINATION_LOG,
        # If voltprobe dies before writing its verdict, the log tail takes its place.
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "volumeMounts": [mount],
    }
    template_labels = labels(p.name, "probe")
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": _meta(p.name, p.namespace, template_labels),
        "spec": {
            "backoffLimit": 0,  # a second attempt would only repeat the same network answer
            "activeDeadlineSeconds": p.active_deadline_seconds,
            "ttlSecondsAfterFinished": p.ttl_seconds_after_finished,
            "template": {
                "metadata": {"labels": dict(template_labels)},
                "spec": {
                    "serviceAccountName": p.name,
                    "automountServiceAccountToken": True,  # the check reads the API
                    "enableServiceLinks": False,
                    "restartPolicy": "Never",
                    "securityContext": _raw_pod_security() if p.raw else restricted_pod_security(),
                    "containers": [container],
                    "volumes": [volume],
                    **(json.loads(p.resolver) if p.resolver else {}),
                },
            },
        },
    }


def ephemeral_container(p: JobParams, name: str) -> Obj:
    """The probe as an ephemeral container (`spec.ephemeralContainers[]`) for a Volt pod.

    The Job's args and env (connect mode only), and the restricted Pod Security level set
    on the container itself, since the pod's own securityContext is not ours: runAsNonRoot
    with the image's UID, no privilege escalation, drop ALL, seccomp RuntimeDefault.
    Kubernetes forbids ports, resources, probes and lifecycle on ephemeral containers
    (kubernetes.io/docs/concepts/workloads/pods/ephemeral-containers/), and a container
    cannot add volumes to a running pod: no /tmp emptyDir, which connect mode never writes.
    Nor is the pod's service account token mounted into it (the ServiceAccount admission
    plugin mounts tokens at pod creation only; kubernetes/enhancements#1598 keeps it so),
    so the check finds no in-cluster credentials and takes the pod's families from POD_IPS.
    Raises UsageError for raw mode.
    """
    if p.raw:
        raise UsageError(
            "--from-volt-pod probes in connect mode only: raw SYN probes need root and "
            "NET_RAW, which a Volt pod's namespace should not allow; drop --raw"
        )
    check_name(name, "container name")
    security = restricted_container_security()
    security.update(
        {
            "runAsUser": IMAGE_UID,
            "runAsGroup": IMAGE_UID,
            "seccompProfile": {"type": "RuntimeDefault"},
        }
    )
    return {
        "name": name,
        "image": p.image,
        "imagePullPolicy": "IfNotPresent",
        "args": probe_args(p),
        "env": probe_env(p),
        "securityContext": security,
        "terminationMessagePath": TERMINATION_LOG,
        "terminationMessagePolicy": "FallbackToLogsOnError",
    }


def job_objects(
    p: JobParams, cluster_read: bool = False, cluster_role_name: str = CLUSTER_ROLE
) -> list[Obj]:
    """In creation order: the Job last, so its ServiceAccount and RBAC exist when it starts."""
    objects = [service_account(p), role(p), role_binding(p)]
    if cluster_read:
        objects += [
            cluster_role(cluster_role_name),
            cluster_role_binding(p.name, p.namespace, cluster_role_name),
        ]
    return [*objects, job(p)]


RUNNER_ROLE = "voltprobe-job-runner"


def runner_role(namespace: str, with_ephemeral: bool = False, with_responder: bool = False) -> Obj:
    """What a person running `voltprobe job run` needs in the namespace, and no more.

    Creating the probe's Role requires holding what it grants (RBAC escalation check),
    hence get/list on services and endpointslices although `job run` never reads them.
    `with_ephemeral` adds `patch pods/ephemeralcontainers` for `job run --from-volt-pod`:
    a write to the Volt pods themselves, so it is opt-in. `with_responder` adds
    create/delete pods and services, for `job run --responder` (a listener reachable from
    outside the cluster, a load balancer that may cost money: opt-in too).
    RBAC alone lets the holder create any Job and delete any ServiceAccount, Role,
    RoleBinding or Job of the namespace; the last rule marks the holder for the
    ValidatingAdmissionPolicy of probe.k8sjob.policy (k8s/runner-policy.yaml), which
    limits both to what voltprobe itself creates.
    """
    from probe.k8sjob.policy import marker_rule

    def rule(group: str, resources: list[str], verbs: list[str]) -> Obj:
        return {"apiGroups": [group], "resources": resources, "verbs": verbs}

    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": _meta(RUNNER_ROLE, namespace, labels(RUNNER_ROLE, "runner")),
        "rules": [
            rule("", ["serviceaccounts"], ["create", "delete"]),
            rule("rbac.authorization.k8s.io", ["roles", "rolebindings"], ["create", "delete"]),
            rule("batch", ["jobs"], ["create", "delete", "get"]),
            rule("", ["pods"], ["get", "list"]),
            rule("", ["pods/log"], ["get"]),
            rule("", ["events"], ["list"]),
            # the Volt DR Services (job run copies the Volt pods' resolver settings); held
            # also so that the probe's Role may be created
            rule("", ["services"], ["get", "list"]),
            rule("discovery.k8s.io", ["endpointslices"], ["get", "list"]),
            rule("networking.k8s.io", ["networkpolicies"], ["list"]),
            # --from-volt-pod: add the probe to a Volt pod (it stays until the pod restarts).
            *([rule("", ["pods/ephemeralcontainers"], ["patch"])] if with_ephemeral else []),
            # --responder: voltprobe serve behind a Service, deleted after the run.
            *([rule("", ["pods", "services"], ["create", "delete"])] if with_responder else []),
            # Marks the holder for the runner policy (voltprobe.io serves nothing).
            marker_rule(),
        ],
    }


# -- the responder -----------------------------------------------------------


def responder_deployment(r: ResponderParams) -> Obj:
    pod_labels = labels(r.name, "responder", app=r.app)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(r.name, r.namespace, pod_labels),
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": dict(pod_labels)},
            "template": {
                "metadata": {"labels": dict(pod_labels)},
                "spec": _responder_pod_spec(r),
            },
        },
    }


def _responder_pod_spec(r: ResponderParams) -> Obj:
    volume, mount = _tmp_volume()
    return {
        "automountServiceAccountToken": False,  # serve never reads the API
        "enableServiceLinks": False,
        "securityContext": restricted_pod_security(),
        "containers": [
            {
                "name": "responder",
                "image": r.image,
                "imagePullPolicy": "IfNotPresent",
                "args": ["serve", "--port", str(r.port)],
                "env": _python_env(),
                "ports": [{"name": "dr", "containerPort": r.port, "protocol": "TCP"}],
                "readinessProbe": {
                    "tcpSocket": {"port": "dr"},
                    "periodSeconds": 10,
                },
                "resources": _resources(),
                "securityContext": restricted_container_security(),
                "volumeMounts": [mount],
            }
        ],
        "volumes": [volume],
    }


def responder_pod(r: ResponderParams) -> Obj:
    """The responder as one bare Pod (`job run --responder`): the Deployment's pod, with
    no controller between the run and the listener, so deleting it stops the listener."""
    pod_labels = labels(r.name, "responder", app=r.app)
    spec = _responder_pod_spec(r)
    spec["restartPolicy"] = "Always"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": _meta(r.name, r.namespace, pod_labels),
        "spec": spec,
    }


def responder_service(r: ResponderParams) -> Obj:
    pod_labels = labels(r.name, "responder", app=r.app)
    spec: Obj = {"type": r.service_type, "ipFamilyPolicy": r.ip_family_policy}
    if r.ip_families:
        spec["ipFamilies"] = [f.value for f in r.ip_families]
    spec["selector"] = dict(pod_labels)
    spec["ports"] = [{"name": "dr", "port": r.port, "targetPort": "dr", "protocol": "TCP"}]
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(r.name, r.namespace, pod_labels),
        "spec": spec,
    }


def responder_objects(r: ResponderParams) -> list[Obj]:
    return [responder_deployment(r), responder_service(r)]
