"""The one boundary between the inventory and the Kubernetes client.

Every read goes through `ApiReader`: typed client calls, paged with limit/continue,
each object turned into its camelCase wire dict by `sanitize_for_serialization`
(version-proof: the client renamed model attributes in v36). Every failure, from
an HTTP Status to a refused connection or a response the client cannot parse,
comes back as an `ApiProblem` value; nothing here raises for what the cluster or
the network does.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Union

from probe.inventory.types import ApiProblem

Obj = dict[str, Any]
Result = Union[list[Obj], ApiProblem]  # noqa: UP007 - readable on 3.10 at runtime


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

    # ValueError covers pydantic's ValidationError and json's JSONDecodeError.
    return (ApiException, u3.HTTPError, OSError, ValueError, TypeError)


class ApiReader:
    """Reads through one ApiClient with one timeout; results are wire dicts or a problem."""

    def __init__(self, api_client: Any, timeout: float, page_size: int) -> None:
        self._api = api_client
        self._timeout = timeout
        self._page_size = page_size

    def call(
        self, read: Read, fn: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> Obj | ApiProblem:
        """One typed call; the answer as a wire dict."""
        try:
            answer = fn(*args, _request_timeout=self._timeout, **kwargs)
            return self._api.sanitize_for_serialization(answer)
        except api_errors() as exc:
            return problem_from_exception(read, exc)

    def list_all(self, read: Read, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Result:
        """Every item of a list call, page by page (limit/continue), never one call per object."""
        items: list[Obj] = []
        token: str | None = None
        while True:
            page = self.call(read, fn, *args, limit=self._page_size, _continue=token, **kwargs)
            if isinstance(page, ApiProblem):
                return page
            items.extend(page.get("items") or [])
            token = (page.get("metadata") or {}).get("continue") or None
            if not token:
                return items

    def list_raw(self, read: Read, path: str) -> Result:
        """A paged list of a path the typed client has no method for, via the generic call_api."""
        items: list[Obj] = []
        token: str | None = None
        while True:
            query: list[tuple[str, Any]] = [("limit", self._page_size)]
            if token:
                query.append(("continue", token))
            try:
                request = self._api.param_serialize(
                    method="GET",
                    resource_path=path,
                    query_params=query,
                    header_params={"Accept": "application/json"},
                    auth_settings=["BearerToken"],
                )
                response = self._api.call_api(*request, _request_timeout=self._timeout)
                response.read()
                page = self._api.response_deserialize(response, {"200": "object"}).data
            except api_errors() as exc:
                return problem_from_exception(read, exc)
            if not isinstance(page, dict):
                return problem_from_exception(
                    read, ValueError(f"{path} answered {type(page).__name__}")
                )
            items.extend(page.get("items") or [])
            token = (page.get("metadata") or {}).get("continue") or None
            if not token:
                return items
