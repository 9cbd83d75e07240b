"""A fake Kubernetes API server over real HTTP(S), for tests that use the real client.

    with FakeApiServer(token="t0ken") as api:          # HTTP on 127.0.0.1:<ephemeral>
        api.load(objects.dual_stack())                 # a cluster flavour
        api.add_fault(Fault(verb="list", resource="nodes", status=403))
        ... point a kubeconfig at api.url ...

Routing is generic: any resource in `resources.RESOURCE_TYPES` can be read
(GET one, LIST namespaced or across namespaces), created (POST, 409 on a clash)
and deleted (DELETE answers a Status). Pods also serve `log` (per container) and
`ephemeralcontainers` (GET, PATCH, PUT; see ephemeral.py). Errors are `Status` bodies as the
apiserver writes them. Faults (status codes, delays, connection resets) are
chosen per request by (verb, resource[, namespace]); hooks run after a create, an
update (ephemeral containers) or a delete.
"""

from __future__ import annotations

import copy
import json
import socket
import ssl
import struct
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from typing_extensions import Self

from . import ephemeral, resources, status
from .resources import ResourceType
from .selectors import SelectorError, field_matcher, label_matcher
from .store import BadContinue, Conflict, Missing, ObjectStore

DEFAULT_TOKEN = "fake-api-token"
DEFAULT_USER = "system:serviceaccount:volt:voltprobe"

VERSION_INFO: dict[str, str] = {
    "major": "1",
    "minor": "33",
    "emulationMajor": "1",
    "emulationMinor": "33",
    "minCompatibilityMajor": "1",
    "minCompatibilityMinor": "32",
    "gitVersion": "v1.33.2",
    "gitCommit": "a57b6f7709f6c2722b92f07b8b4c48210a51fc40",
    "gitTreeState": "clean",
    "buildDate": "2025-06-17T18:32:30Z",
    "goVersion": "go1.24.4",
    "compiler": "gc",
    "platform": "linux/amd64",
}

# Kinds whose DELETE answers the deleted object, not a Status: a pod (in graceful
# deletion, with its deletionTimestamp) and a Service (its registry sets
# ReturnDeletedObject); k/k pkg/registry/core/{pod,service}/storage.
RETURN_DELETED = frozenset({"pods", "services"})

CreateHook = Callable[["FakeApiServer", dict[str, Any]], None]
UpdateHook = CreateHook  # (server, the object as updated)
DeleteHook = CreateHook  # (server, the object as it was when deleted)
PodSecurityCheck = Callable[[dict[str, Any]], list[str]]  # pod spec -> violations


@dataclass
class Fault:
    """What to do to matching requests instead of (or before) answering them.

    verb: get | list | create | delete | patch | update | "*"; resource: a plural
    ("pods", "servicecidrs", "pods/log", "pods/ephemeralcontainers"), "version",
    "discovery" or "*".
    `status` answers with that code and a proper Status body; `delay` sleeps
    first; `reset` closes the connection with a TCP RST; `times` limits how
    many requests the fault applies to (None: all).

    Hostile modes (issue 16): `trickle` sends the answer one byte every `trickle`
    seconds (each read well inside the client's read timeout, the whole far past it);
    `continue_token` "endless" gives every list page a new continue token, "repeat"
    the same one (a server that never ends a list); `body` answers 200 with these
    bytes instead (deeply nested JSON, garbage).
    """

    verb: str = "*"
    resource: str = "*"
    namespace: str | None = None
    status: int | None = None
    delay: float = 0.0
    reset: bool = False
    times: int | None = None
    message: str = ""
    group_version: str | None = None
    path: str | None = None  # only this exact path (e.g. "/api/v1/services": all namespaces)
    trickle: float = 0.0
    continue_token: str = ""  # "" | "endless" | "repeat"
    body: bytes | None = None
    hits: int = field(default=0, init=False)

    def matches(
        self, verb: str, resource: str, namespace: str | None, group_version: str, path: str
    ) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        return (
            self.verb in ("*", verb)
            and self.resource in ("*", resource)
            and (self.namespace is None or self.namespace == namespace)
            and (self.group_version is None or self.group_version == group_version)
            and (self.path is None or self.path.rstrip("/") == path.rstrip("/"))
        )


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str
    query: dict[str, str]
    verb: str
    resource: str
    namespace: str | None
    group_version: str
    authorization: str | None
    impersonate: tuple[str | None, str | None] = (None, None)  # Impersonate-User, -Group


@dataclass(frozen=True)
class _Route:
    kind: str  # "version", "api", "apis", "group", "discovery", "resource", "unknown"
    group_version: str = ""
    plural: str = ""
    namespace: str | None = None
    name: str | None = None
    subresource: str | None = None


def _parse_path(path: str) -> _Route:
    parts = [p for p in path.split("/") if p]
    if parts == ["version"]:
        return _Route("version")
    if parts == ["api"]:
        return _Route("api")
    if parts == ["apis"]:
        return _Route("apis")
    if len(parts) >= 2 and parts[0] == "api":
        gv, rest = parts[1], parts[2:]
    elif len(parts) == 2 and parts[0] == "apis":
        return _Route("group", group_version=parts[1])
    elif len(parts) >= 3 and parts[0] == "apis":
        gv, rest = f"{parts[1]}/{parts[2]}", parts[3:]
    else:
        return _Route("unknown")
    if not rest:
        return _Route("discovery", group_version=gv)
    if rest[0] == "namespaces" and len(rest) >= 3:
        tail = rest[3:]
        return _Route(
            "resource",
            gv,
            rest[2],
            namespace=rest[1],
            name=tail[0] if tail else None,
            subresource="/".join(tail[1:]) or None,
        )
    return _Route(
        "resource",
        gv,
        rest[0],
        None,
        name=rest[1] if len(rest) > 1 else None,
        subresource="/".join(rest[2:]) or None,
    )


class _Reply(Exception):
    """Raised inside a handler to answer at once with a status and a JSON body."""

    def __init__(self, body: dict[str, Any], code: int | None = None) -> None:
        super().__init__(body.get("message", ""))
        self.code = code or int(body.get("code", 200))
        self.body = body


class FakeApiServer:
    def __init__(
        self,
        *,
        token: str | None = DEFAULT_TOKEN,
        user: str = DEFAULT_USER,
        tls: tuple[str, str] | None = None,  # (cert file, key file)
        host: str = "127.0.0.1",
    ) -> None:
        self.store = ObjectStore()
        self.token = token
        self.user = user
        self.version: dict[str, str] = dict(VERSION_INFO)
        self.served: frozenset[str] = resources.DEFAULT_SERVED
        # Families a Service create may allocate (None: any). A create asking for another
        # answers 422 as the apiserver's allocator does, under dryRun=All too.
        self.service_families: tuple[str, ...] | None = None
        self._tls = tls
        self._host = host
        self._faults: list[Fault] = []
        self._hooks: dict[str, list[CreateHook]] = {}
        self._update_hooks: dict[str, list[UpdateHook]] = {}
        self._delete_hooks: dict[str, list[DeleteHook]] = {}
        self._logs: dict[tuple[str, str, str], str] = {}
        # namespace -> (enforced level, its check): Pod Security admission on pod updates
        self.pod_security: dict[str, tuple[str, PodSecurityCheck]] = {}
        self._requests: list[RequestRecord] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------

    def start(self) -> Self:
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        httpd = _HTTPServer((self._host, 0), _Handler, app=self, family=family)
        if self._tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*self._tls)
            httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
        self._httpd = httpd
        # A short poll interval keeps stop() (and so each test's teardown) quick.
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-api", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        scheme = "https" if self._tls else "http"
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"{scheme}://{host}:{self.port}"

    # -- configuration ---------------------------------------------------

    def load(self, flavour: Any) -> None:
        """Load a cluster flavour (see objects.py): its objects, version and served APIs."""
        self.store.put_many(list(flavour.objects))
        self.version = dict(flavour.version)
        self.served = flavour.served

    def add_fault(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def on_create(self, resource: str, hook: CreateHook) -> None:
        """Call `hook(server, created_object)` after every create of `resource` (a plural)."""
        self._hooks.setdefault(resource, []).append(hook)

    def on_update(self, resource: str, hook: UpdateHook) -> None:
        """Call `hook(server, updated_object)` after every successful PATCH or PUT of
        `resource` ("pods/ephemeralcontainers"): what the kubelet would do next."""
        self._update_hooks.setdefault(resource, []).append(hook)

    def on_delete(self, resource: str, hook: DeleteHook) -> None:
        """Call `hook(server, deleted_object)` after every delete of `resource` (a plural),
        before the answer: what a kubelet or controller would do next (stop a pod's
        containers), done at once so a test sees it when the client's call returns."""
        self._delete_hooks.setdefault(resource, []).append(hook)

    def set_log(self, namespace: str, pod: str, text: str, container: str | None = None) -> None:
        """The log of `container` (None: of the pod's regular containers)."""
        with self._lock:
            self._logs[(namespace, pod, container or "")] = text

    @property
    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    # -- request handling ------------------------------------------------

    def _fault_for(
        self, verb: str, resource: str, namespace: str | None, gv: str, path: str
    ) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(verb, resource, namespace, gv, path):
                    fault.hits += 1
                    return fault
        return None

    def _authorized(self, header: str | None, route: _Route) -> bool:
        if self.token is None:
            return True
        if header is None:
            return route.kind == "version"  # anonymous may read /version (public-info-viewer)
        scheme, _, credential = header.partition(" ")
        return scheme.lower() == "bearer" and credential.strip() == self.token

    def handle(
        self, method: str, raw_path: str, headers: Any, body: bytes
    ) -> tuple[Any, ...] | None:
        """Answer one request: (code, body, content type[, seconds per byte]), or None to
        reset the connection."""
        url = urlsplit(raw_path)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        route = _parse_path(url.path)
        verb, resource = self._verb_resource(method, route)
        with self._lock:
            self._requests.append(
                RequestRecord(
                    method,
                    url.path,
                    query,
                    verb,
                    resource,
                    route.namespace,
                    route.group_version,
                    headers.get("Authorization"),
                    (headers.get("Impersonate-User"), headers.get("Impersonate-Group")),
                )
            )
        try:
            if not self._authorized(headers.get("Authorization"), route):
                raise _Reply(status.unauthorized())
            fault = self._fault_for(verb, resource, route.namespace, route.group_version, url.path)
            if fault is not None:
                if fault.delay:
                    self._stopping.wait(fault.delay)
                if fault.reset:
                    return None
                if fault.status is not None:
                    raise _Reply(self._fault_body(fault, verb, route))
                if fault.body is not None:
                    return 200, fault.body, "application/json", fault.trickle
            if fault is not None and fault.continue_token:  # every page is the first again
                query = {k: v for k, v in query.items() if k != "continue"}
            content_type = str(headers.get("Content-Type") or "")
            answer = self._dispatch(method, route, query, body, content_type)
            if fault is not None and fault.continue_token:
                answer = _with_continue(answer, fault)
            if fault is not None and fault.trickle:
                return (*answer[:3], fault.trickle)
            return answer
        except _Reply as reply:
            return reply.code, json.dumps(reply.body).encode(), "application/json"

    @staticmethod
    def _verb_resource(method: str, route: _Route) -> tuple[str, str]:
        if route.kind == "version":
            return "get", "version"
        if route.kind != "resource":
            return "get", "discovery"
        resource = f"{route.plural}/{route.subresource}" if route.subresource else route.plural
        if method == "POST":
            return "create", resource
        if method == "DELETE":
            return "delete", resource
        if method in ("PUT", "PATCH"):
            return ("update" if method == "PUT" else "patch"), resource
        return ("get" if route.name else "list"), resource

    def _fault_body(self, fault: Fault, verb: str, route: _Route) -> dict[str, Any]:
        rt = resources.find(route.group_version, route.plural) or resources.ResourceType(
            route.group_version or "v1", route.plural or "unknown", "Unknown", False
        )
        code = fault.status or 500
        if code == 401:
            return status.unauthorized()
        if code == 403:
            return status.forbidden(
                rt, verb, self.user, route.namespace, route.name, route.subresource
            )
        if code == 404:
            if route.name:
                return status.not_found(rt, route.name)
            return status.no_such_path()
        if code == 500:
            return status.internal_error(fault.message or "etcdserver: request timed out")
        return status.status(code, "Unknown", fault.message or f"fault {code}")

    def _dispatch(
        self,
        method: str,
        route: _Route,
        query: dict[str, str],
        body: bytes,
        content_type: str = "",
    ) -> tuple[int, bytes, str]:
        if route.kind == "version":
            return _json(200, self.version)
        if route.kind == "api":
            return _json(
                200,
                {
                    "kind": "APIVersions",
                    "versions": ["v1"],
                    "serverAddressByClientCIDRs": [
                        {"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}
                    ],
                },
            )
        if route.kind == "apis":
            return _json(200, self._group_list())
        if route.kind == "discovery" and route.group_version in self.served:
            return _json(200, self._resource_list(route.group_version))
        if route.kind != "resource" or route.group_version not in self.served:
            raise _Reply(status.no_such_path())
        rt = resources.find(route.group_version, route.plural)
        if rt is None or (route.namespace is not None and not rt.namespaced):
            raise _Reply(status.no_such_path())
        if method == "GET" and route.subresource == "log" and rt.plural == "pods" and route.name:
            return self._log(rt, route.namespace or "", route.name, query.get("container"))
        if route.subresource == "ephemeralcontainers" and rt.plural == "pods" and route.name:
            return self._ephemeral(
                method, rt, route.namespace or "", route.name, body, content_type
            )
        if route.subresource:
            raise _Reply(status.no_such_path())
        if method == "GET" and route.name:
            return _json(200, self._get_or_404(rt, route.namespace, route.name))
        if method == "GET":
            return _json(200, self._list(rt, route.namespace, query))
        if method == "POST" and not route.name:
            return self._create(rt, route.namespace, query, body)
        if method == "DELETE" and route.name:
            try:
                obj = self.store.delete(rt, route.namespace, route.name)
            except Missing:
                raise _Reply(status.not_found(rt, route.name)) from None
            for hook in self._delete_hooks.get(rt.plural, []):
                hook(self, copy.deepcopy(obj))
            if rt.plural in RETURN_DELETED:
                return _json(200, obj)
            return _json(200, status.success(rt, route.name, obj["metadata"]["uid"]))
        raise _Reply(status.method_not_allowed(method))

    def _log(
        self, rt: ResourceType, namespace: str, name: str, container: str | None
    ) -> tuple[int, bytes, str]:
        pod = self._get_or_404(rt, namespace, name)
        chosen, problem = ephemeral.log_problem(pod, container)
        if chosen is None:
            raise _Reply(status.bad_request(problem))
        regular = ephemeral.container_names(pod)[0]
        with self._lock:
            text = self._logs.get((namespace, name, chosen))
            if text is None and chosen in regular:  # set_log without a container
                text = self._logs.get((namespace, name, ""))
        return 200, (text or "").encode(), "text/plain"

    def _ephemeral(
        self,
        method: str,
        rt: ResourceType,
        namespace: str,
        name: str,
        body: bytes,
        content_type: str,
    ) -> tuple[int, bytes, str]:
        pod = self._get_or_404(rt, namespace, name)
        if method == "GET":
            return _json(200, pod)
        try:
            if method == "PATCH":
                new = ephemeral.patched(pod, body, content_type)
            elif method == "PUT":
                new = ephemeral.replaced(body)
            else:
                raise _Reply(status.method_not_allowed(method))
        except ephemeral.BadPatch as exc:
            raise _Reply(status.bad_request(str(exc))) from None
        errors = ephemeral.validate(pod, new)
        if errors:
            raise _Reply(status.invalid(rt.kind, name, errors))
        pod.setdefault("spec", {})["ephemeralContainers"] = new
        if namespace in self.pod_security:  # admission sees the whole pod, as updated
            level, check = self.pod_security[namespace]
            violations = check(pod["spec"])
            if violations:
                raise _Reply(
                    status.status(
                        403,
                        "Forbidden",
                        f'pods "{name}" is forbidden: violates PodSecurity "{level}:latest": '
                        + ", ".join(violations),
                        {"name": name, "kind": "pods"},
                    )
                )
        updated = self.store.put(pod)
        for hook in self._update_hooks.get("pods/ephemeralcontainers", []):
            hook(self, copy.deepcopy(updated))
        return _json(200, updated)

    def _get_or_404(self, rt: ResourceType, namespace: str | None, name: str) -> dict[str, Any]:
        try:
            return self.store.get(rt, namespace, name)
        except Missing:
            raise _Reply(status.not_found(rt, name)) from None

    def _list(
        self, rt: ResourceType, namespace: str | None, query: dict[str, str]
    ) -> dict[str, Any]:
        try:
            labels = label_matcher(query.get("labelSelector"))
            fields = field_matcher(query.get("fieldSelector"), rt.plural)
            limit = int(query["limit"]) if query.get("limit") else None
            page = self.store.list(
                rt,
                namespace,
                lambda obj: labels(obj) and fields(obj),
                limit=limit,
                continue_token=query.get("continue") or None,
            )
        except SelectorError as exc:
            raise _Reply(status.bad_request(str(exc))) from None
        except BadContinue:
            raise _Reply(
                status.bad_request(
                    "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)"
                )
            ) from None
        except ValueError:
            raise _Reply(status.bad_request(f"invalid limit: {query.get('limit')!r}")) from None
        meta: dict[str, Any] = {"resourceVersion": page.resource_version}
        if page.continue_token:
            meta["continue"] = page.continue_token
            meta["remainingItemCount"] = page.remaining
        for item in page.items:  # list items carry no apiVersion/kind on the wire
            item.pop("apiVersion", None)
            item.pop("kind", None)
        return {
            "kind": f"{rt.kind}List",
            "apiVersion": rt.group_version,
            "metadata": meta,
            "items": page.items,
        }

    def _create(
        self, rt: ResourceType, namespace: str | None, query: dict[str, str], body: bytes
    ) -> tuple[int, bytes, str]:
        try:
            obj = json.loads(body or b"{}")
            if rt.plural == "services":
                self._check_service_families(obj)
            created = self.store.create(rt, namespace, obj, dry_run=query.get("dryRun") == "All")
        except Conflict as exc:
            raise _Reply(status.already_exists(rt, str(exc))) from None
        except ValueError as exc:
            raise _Reply(status.bad_request(str(exc))) from None
        if query.get("dryRun") != "All":
            for hook in self._hooks.get(rt.plural, []):
                hook(self, created)
        return _json(201, created)

    def _check_service_families(self, obj: dict[str, Any]) -> None:
        """The allocator's family checks (k/k pkg/registry/core/service/storage/alloc.go)."""
        if self.service_families is None:
            return
        spec = obj.get("spec") or {}
        name = (obj.get("metadata") or {}).get("name") or (obj.get("metadata") or {}).get(
            "generateName", ""
        )
        causes = [
            (f"spec.ipFamilies[{i}]", family, "not configured on this cluster")
            for i, family in enumerate(spec.get("ipFamilies") or [])
            if family not in self.service_families
        ]
        policy = spec.get("ipFamilyPolicy")
        if policy == "RequireDualStack" and len(self.service_families) < 2:
            causes.append(
                (
                    "spec.ipFamilyPolicy",
                    policy,
                    "this cluster is not configured for dual-stack services",
                )
            )
        if causes:
            raise _Reply(status.invalid_value("Service", name, causes))

    def _group_list(self) -> dict[str, Any]:
        groups: dict[str, list[str]] = {}
        for gv in sorted(self.served):
            if "/" in gv:
                group, _, version = gv.partition("/")
                groups.setdefault(group, []).append(version)
        return {
            "kind": "APIGroupList",
            "apiVersion": "v1",
            "groups": [
                {
                    "name": group,
                    "versions": [{"groupVersion": f"{group}/{v}", "version": v} for v in versions],
                    "preferredVersion": {
                        "groupVersion": f"{group}/{versions[0]}",
                        "version": versions[0],
                    },
                }
                for group, versions in groups.items()
            ],
        }

    def _resource_list(self, gv: str) -> dict[str, Any]:
        return {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": gv,
            "resources": [
                {
                    "name": rt.plural,
                    "singularName": rt.singular,
                    "namespaced": rt.namespaced,
                    "kind": rt.kind,
                    "verbs": list(rt.verbs),
                }
                for rt in resources.RESOURCE_TYPES
                if rt.group_version == gv
            ],
        }


def _with_continue(answer: tuple[Any, ...], fault: Fault) -> tuple[Any, ...]:
    """A list answer given a continue token that never ends the list."""
    code, payload, content_type = answer[:3]
    document = json.loads(payload)
    if code != 200 or not isinstance(document.get("items"), list):
        return answer
    token = "repeat" if fault.continue_token == "repeat" else f"endless-{fault.hits}"
    document.setdefault("metadata", {})["continue"] = token
    return code, json.dumps(document).encode(), content_type


def _json(code: int, body: dict[str, Any]) -> tuple[int, bytes, str]:
    return code, json.dumps(body).encode(), "application/json"


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(
        self, address: tuple[str, int], handler: type, *, app: FakeApiServer, family: int
    ) -> None:
        self.address_family = family
        self.app = app
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that give up (timeouts, resets) are part of the tests; stay quiet."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request log line."""

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            answer = self.server.app.handle(self.command, self.path, self.headers, body)
        except Exception as exc:  # noqa: BLE001 - a bug in the fake or a hook: answer 500, not a hang-up
            traceback.print_exc(file=sys.stderr)
            body_500 = status.internal_error(f"fake API server bug: {exc!r}")
            answer = 500, json.dumps(body_500).encode(), "application/json"
        if answer is None:
            # SO_LINGER 0 makes close() send a RST: "connection reset by peer".
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        code, payload, content_type, *rest = answer
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Audit-Id", "00000000-0000-0000-0000-000000000000")
        self.end_headers()
        trickle = rest[0] if rest else 0.0
        if not trickle:
            self.wfile.write(payload)
            return
        self.wfile.flush()
        for index in range(len(payload)):  # one byte at a time, until the client gives up
            if self.server.app._stopping.wait(trickle):
                return
            try:
                self.wfile.write(payload[index : index + 1])
                self.wfile.flush()
            except OSError:
                return

    do_GET = _serve
    do_POST = _serve
    do_DELETE = _serve
    do_PUT = _serve
    do_PATCH = _serve
