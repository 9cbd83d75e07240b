"""The one boundary between `voltprobe job` and the Kubernetes client.

Every call goes through `KubeApi`: typed client calls with dict bodies, answers as
camelCase wire dicts (`sanitize_for_serialization`, version-proof). Every failure is
classified by `probe.kube.errors.problem_from_exception` (the one place that knows the
client's exceptions) and worded here as a
`CannotRunError` whose one-line message says what to do; a 403 names the RBAC rule
that is missing, in the words of a Role manifest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from probe.errors import CannotRunError
from probe.kube.errors import ApiProblem, Read, api_errors, problem_from_exception
from probe.options import KubeOptions

Obj = dict[str, Any]


@dataclass(frozen=True)
class Resource:
    group: str  # "" for the core group
    plural: str
    namespaced: bool = True

    @property
    def qualified(self) -> str:
        """As the apiserver and `kubectl auth can-i` spell it: roles.rbac.authorization.k8s.io."""
        return f"{self.plural}.{self.group}" if self.group else self.plural


RESOURCES: dict[str, Resource] = {
    "ServiceAccount": Resource("", "serviceaccounts"),
    "Role": Resource("rbac.authorization.k8s.io", "roles"),
    "RoleBinding": Resource("rbac.authorization.k8s.io", "rolebindings"),
    "ClusterRole": Resource("rbac.authorization.k8s.io", "clusterroles", namespaced=False),
    "ClusterRoleBinding": Resource(
        "rbac.authorization.k8s.io", "clusterrolebindings", namespaced=False
    ),
    "Job": Resource("batch", "jobs"),
    "Pod": Resource("", "pods"),
    "PodLog": Resource("", "pods/log"),
    "Event": Resource("", "events"),
    "Service": Resource("", "services"),
    "PodEphemeralContainers": Resource("", "pods/ephemeralcontainers"),
}

# How kubectl debug patches: a strategic merge patch merges ephemeralContainers by name.
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"


def rule(verb: str, resource: Resource, namespace: str | None) -> str:
    """`create roles.rbac.authorization.k8s.io in namespace volt`: the permission a call needs."""
    where = f"in namespace {namespace}" if resource.namespaced and namespace else "cluster-wide"
    return f"{verb} {resource.qualified} {where}"


class ApiCallError(CannotRunError):
    """A Kubernetes API call failed; `status` is the HTTP status (None: no answer) and
    `problem` what the inventory's translation made of the failure."""

    def __init__(
        self, message: str, status: int | None = None, problem: ApiProblem | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.problem = problem


def translate(
    exc: BaseException, verb: str, resource: Resource, namespace: str | None, server: str
) -> ApiCallError:
    """One ApiCallError with a one-line, actionable message for any client failure.

    The failure is classified once, by the inventory's `problem_from_exception`;
    only the wording (what `voltprobe job` needed, what to do) is made here.
    """
    read = Read(
        verb,
        resource.plural,
        resource.group,
        namespace if resource.namespaced else None,
        cluster_scoped=not resource.namespaced,
    )
    problem = problem_from_exception(read, exc)
    needed = rule(verb, resource, namespace)
    said = problem.message
    if problem.status == 403:
        hint = ""
        if "escalat" in said or "not currently held" in said:
            hint = (
                "; to create a Role or binding you must yourself hold every permission it "
                "grants (RBAC escalation check)"
            )
        return ApiCallError(
            f"forbidden: your Kubernetes user may not {needed} (RBAC rule: apiGroups "
            f'["{resource.group}"], resources ["{resource.plural}"], verbs ["{verb}"]){hint}. '
            f"The apiserver said: {said}",
            403,
            problem,
        )
    if problem.status == 401:
        return ApiCallError(
            f"the API server {server} rejected the credentials (401 Unauthorized): "
            "refresh the login of this kubeconfig context",
            401,
            problem,
        )
    if problem.status:
        return ApiCallError(f"{needed} failed: {problem.status} {said}", problem.status, problem)
    if problem.reason == "InvalidResponse":
        return ApiCallError(f"{needed}: unexpected answer from the API: {said}", None, problem)
    return ApiCallError(
        f"cannot reach the Kubernetes API at {server} ({problem.reason}): {said}", None, problem
    )


class KubeApi:
    """Create, read and delete what `voltprobe job` needs, through one ApiClient."""

    def __init__(self, api_client: Any, server: str, timeout: float = 15.0) -> None:
        from kubernetes import client

        self._api = api_client
        self.server = server
        self._timeout = timeout
        self._core = client.CoreV1Api(api_client)
        self._rbac = client.RbacAuthorizationV1Api(api_client)
        self._batch = client.BatchV1Api(api_client)

    def _call(
        self,
        verb: str,
        kind: str,
        namespace: str | None,
        fn: Callable[..., Any],
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        from probe.kube.reader import TOTAL_FACTOR, CallTimedOut, bounded_call

        # the read timeout restarts with every byte: a total bound per call as well
        total = TOTAL_FACTOR * self._timeout
        try:
            return bounded_call(
                lambda: fn(*args, _request_timeout=self._timeout, **kwargs), total, f"api-{verb}"
            )
        except CallTimedOut as exc:
            timeout = TimeoutError(str(exc))
            raise translate(timeout, verb, RESOURCES[kind], namespace, self.server) from None
        except api_errors() as exc:
            raise translate(exc, verb, RESOURCES[kind], namespace, self.server) from exc

    def _wire(self, answer: Any) -> Obj:
        wire: Obj = self._api.sanitize_for_serialization(answer)
        return wire

    def create(self, obj: Obj) -> Obj:
        kind, ns = obj["kind"], obj["metadata"].get("namespace")
        creators: dict[str, tuple[Callable[..., Any], tuple[Any, ...]]] = {
            "ServiceAccount": (self._core.create_namespaced_service_account, (ns, obj)),
            "Role": (self._rbac.create_namespaced_role, (ns, obj)),
            "RoleBinding": (self._rbac.create_namespaced_role_binding, (ns, obj)),
            "ClusterRole": (self._rbac.create_cluster_role, (obj,)),
            "ClusterRoleBinding": (self._rbac.create_cluster_role_binding, (obj,)),
            "Job": (self._batch.create_namespaced_job, (ns, obj)),
            # the responder (job run --responder)
            "Pod": (self._core.create_namespaced_pod, (ns, obj)),
            "Service": (self._core.create_namespaced_service, (ns, obj)),
        }
        fn, args = creators[kind]
        return self._wire(self._call("create", kind, ns, fn, *args))

    def delete(self, obj: Obj) -> bool:
        """Delete `obj`; False when it was already gone. A Job takes its pods with it."""
        kind, ns, name = obj["kind"], obj["metadata"].get("namespace"), obj["metadata"]["name"]
        deleters: dict[str, tuple[Callable[..., Any], tuple[Any, ...]]] = {
            "ServiceAccount": (self._core.delete_namespaced_service_account, (name, ns)),
            "Role": (self._rbac.delete_namespaced_role, (name, ns)),
            "RoleBinding": (self._rbac.delete_namespaced_role_binding, (name, ns)),
            "ClusterRole": (self._rbac.delete_cluster_role, (name,)),
            "ClusterRoleBinding": (self._rbac.delete_cluster_role_binding, (name,)),
            "Job": (self._batch.delete_namespaced_job, (name, ns)),
            "Pod": (self._core.delete_namespaced_pod, (name, ns)),
            "Service": (self._core.delete_namespaced_service, (name, ns)),
        }
        fn, args = deleters[kind]
        # Background: the garbage collector removes a Job's pod once the Job is gone.
        extra: dict[str, Any] = {"propagation_policy": "Background"} if kind == "Job" else {}
        if kind in ("Pod", "Service"):
            # the apiserver answers these with the object or a Status, by version and grace
            # period; the client would parse either as the object: the answer is not read
            extra["_preload_content"] = False
        try:
            self._call("delete", kind, ns, fn, *args, **extra)
        except ApiCallError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def read_job(self, namespace: str, name: str) -> Obj:
        return self._wire(
            self._call("get", "Job", namespace, self._batch.read_namespaced_job, name, namespace)
        )

    def list_pods(self, namespace: str, label_selector: str) -> list[Obj]:
        answer = self._call(
            "list",
            "Pod",
            namespace,
            self._core.list_namespaced_pod,
            namespace,
            label_selector=label_selector,
        )
        items: list[Obj] = self._wire(answer).get("items") or []
        return items

    def read_pod(self, namespace: str, name: str) -> Obj:
        return self._wire(
            self._call("get", "Pod", namespace, self._core.read_namespaced_pod, name, namespace)
        )

    def read_service(self, namespace: str, name: str) -> Obj:
        return self._wire(
            self._call(
                "get", "Service", namespace, self._core.read_namespaced_service, name, namespace
            )
        )

    def list_services(self, namespace: str) -> list[Obj]:
        answer = self._call(
            "list", "Service", namespace, self._core.list_namespaced_service, namespace
        )
        items: list[Obj] = self._wire(answer).get("items") or []
        return items

    def add_ephemeral_container(self, namespace: str, pod: str, container: Obj) -> Obj:
        """Add `container` to `pod`'s spec.ephemeralContainers (PATCH pods/ephemeralcontainers,
        RBAC verb patch); the updated pod. Kubernetes answers 422 when the container is
        invalid or changes an existing one of the same name, and never removes one."""
        body = {"spec": {"ephemeralContainers": [container]}}
        answer = self._call(
            "patch",
            "PodEphemeralContainers",
            namespace,
            self._core.patch_namespaced_pod_ephemeralcontainers,
            pod,
            namespace,
            body,
            # explicit: what kubectl debug sends, whatever the client version defaults to
            _content_type=STRATEGIC_MERGE_PATCH,
        )
        return self._wire(answer)

    def read_log(self, namespace: str, pod: str, container: str) -> str:
        answer = self._call(
            "get",
            "PodLog",
            namespace,
            self._core.read_namespaced_pod_log,
            pod,
            namespace,
            container=container,
        )
        if isinstance(answer, bytes):
            return answer.decode("utf-8", "replace")
        return str(answer or "")

    def list_events(self, namespace: str, involved_name: str) -> list[Obj]:
        answer = self._call(
            "list",
            "Event",
            namespace,
            self._core.list_namespaced_event,
            namespace,
            field_selector=f"involvedObject.name={involved_name}",
        )
        items: list[Obj] = self._wire(answer).get("items") or []
        return items


def connect(options: KubeOptions) -> tuple[KubeApi, str | None, str]:
    """(api, the context's namespace, a description), as `voltprobe check` would connect.
    Raises UsageError for a kubeconfig or context that does not exist, CannotRunError
    when no cluster can be reached."""
    from probe.kube.config import ConfigSources, Unavailable, check_selection
    from probe.kube.config import connect as connect_client
    from probe.kube.kubeconfig import check_kubeconfigs

    check_kubeconfigs(options.kubeconfig, options.context)  # malformed files: exit 2
    check_selection(options)
    found = connect_client(options, ConfigSources())
    if isinstance(found, Unavailable):
        raise CannotRunError(f"no Kubernetes cluster to use: {found.reason}")
    api = KubeApi(found.api_client, found.server, options.request_timeout)
    return api, found.namespace, found.description
