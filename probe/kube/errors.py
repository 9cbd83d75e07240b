"""How a Kubernetes client failure is classified: the one translation of the client's,
urllib3's and the socket layer's exceptions into an `ApiProblem` value.

Both the inventory (`probe.kube.reader`) and `voltprobe job` (`probe.k8sjob.kube`) use it,
so a 403 or a refused connection is named the same way everywhere.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ApiProblem:
    """A Kubernetes API read that failed; becomes a finding, never an exception."""

    resource: str  # "pods", "services", "endpointslices", "nodes", "servicecidrs", ...
    verb: str  # "get" or "list"
    namespace: str | None  # None: cluster-scoped or all namespaces
    status: int | None  # HTTP status; None when the API could not be reached
    reason: str  # "Forbidden", "Unauthorized", "NotFound", "Timeout", "ConnectionError", ...
    message: str  # the apiserver's Status message, or the transport error
    rule: str = ""  # the RBAC rule that would grant the read (for 403)
    cluster_scoped: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "resource": self.resource,
            "verb": self.verb,
            "namespace": self.namespace,
            "status": self.status,
            "reason": self.reason,
            "message": self.message,
            "rule": self.rule,
            "clusterScoped": self.cluster_scoped,
        }


@dataclass(frozen=True)
class Read:
    """What one read is about: its verb, resource (plural), API group and namespace."""

    verb: str  # "get" | "list"
    resource: str
    group: str = ""
    namespace: str | None = None
    name: str | None = None
    cluster_scoped: bool = False


def rbac_rule(read: Read) -> str:
    """The RBAC rule that grants `read`, in the words of a Role/ClusterRole manifest."""
    rule = f'apiGroups: ["{read.group}"], resources: ["{read.resource}"], verbs: ["{read.verb}"]'
    if read.cluster_scoped:
        return f"ClusterRole rule {{{rule}}} bound with a ClusterRoleBinding"
    where = f' in namespace "{read.namespace}"' if read.namespace else " (cluster-wide)"
    return f"Role rule {{{rule}}} bound with a RoleBinding{where}"


def _status_body(body: object) -> tuple[str, str]:
    """(reason, message) from an apiserver Status body, when there is one."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if not isinstance(body, str) or not body:
        return "", ""
    try:
        status = json.loads(body)
    except ValueError:
        return "", body.strip()[:300]
    if not isinstance(status, dict):
        return "", ""
    return str(status.get("reason") or ""), str(status.get("message") or "")


_REASONS = {
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
    410: "Expired",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


def problem_from_exception(read: Read, exc: BaseException) -> ApiProblem:
    """Translate a client, urllib3 or socket error into an ApiProblem (by status first).

    The one translation of the Kubernetes client's failures: `probe.k8sjob.kube`
    words its errors from this ApiProblem too. `status` is None when no HTTP answer
    came; `reason` then names the transport failure (ConnectionRefused, Timeout,
    TLSError, ...) or InvalidResponse for an answer the client could not parse.
    """
    import urllib3.exceptions as u3
    from kubernetes.client.exceptions import ApiException

    def make(status: int | None, reason: str, message: str) -> ApiProblem:
        return ApiProblem(
            resource=read.resource if not read.name else f"{read.resource}/{read.name}",
            verb=read.verb,
            namespace=read.namespace,
            status=status,
            reason=reason,
            message=message,
            rule=rbac_rule(read) if status == 403 else "",
            cluster_scoped=read.cluster_scoped,
        )

    if isinstance(exc, ApiException):
        if not exc.status:  # status 0: a client-side failure such as TLS
            return make(
                None,
                "TLSError" if "SSL" in str(exc.reason) else "ClientError",
                str(exc.reason).strip(),
            )
        reason, message = _status_body(exc.body)
        reason = reason or _REASONS.get(exc.status, str(exc.reason or "Error"))
        if exc.status == 403 and not message:
            message = f'cannot {read.verb} resource "{read.resource}" in API group "{read.group}"'
        return make(exc.status, reason, message or str(exc.reason or ""))
    if isinstance(exc, u3.MaxRetryError) and exc.reason is not None:
        return problem_from_exception(read, exc.reason)
    # NewConnectionError subclasses ConnectTimeoutError in urllib3: test it first.
    if isinstance(exc, u3.NewConnectionError):
        refused = isinstance(
            exc.__cause__ or exc.__context__, ConnectionRefusedError
        ) or "refused" in str(exc)
        return make(None, "ConnectionRefused" if refused else "ConnectionError", str(exc))
    if isinstance(exc, (u3.TimeoutError, TimeoutError)):
        return make(None, "Timeout", f"no answer in time: {exc}")
    if isinstance(exc, u3.SSLError):
        return make(None, "TLSError", str(exc))
    if isinstance(exc, u3.ProtocolError):
        cause = exc.args[1] if len(exc.args) > 1 else exc
        reset = isinstance(cause, ConnectionResetError) or "reset" in str(exc).lower()
        return make(None, "ConnectionReset" if reset else "ProtocolError", str(exc))
    if isinstance(exc, ConnectionRefusedError):
        return make(None, "ConnectionRefused", str(exc))
    if isinstance(exc, ConnectionResetError):
        return make(None, "ConnectionReset", str(exc))
    if isinstance(exc, (OSError, u3.HTTPError)):
        return make(None, "ConnectionError", str(exc))
    # A response the client could not parse (pydantic validation, bad JSON).
    return make(None, "InvalidResponse", f"{type(exc).__name__}: {str(exc)[:300]}")


def api_errors() -> tuple[type[BaseException], ...]:
    """Every exception type a client call can raise because of the cluster or the network
    (`voltprobe job`'s KubeApi catches the same ones)."""
    import urllib3.exceptions as u3
    from kubernetes.client.exceptions import ApiException

    # ValueError covers pydantic's ValidationError, json's JSONDecodeError and
    # probe.jsondoc's DocumentError;
    # RecursionError a body nested deeper than the decoder goes (a hostile API).
    return (ApiException, u3.HTTPError, OSError, ValueError, TypeError, RecursionError)
