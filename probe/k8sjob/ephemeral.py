"""`voltprobe job run --from-volt-pod`: the check from inside a Volt pod's network namespace.

A Job's pod has its own labels, so the NetworkPolicies and Multus interfaces of the Volt
pods do not apply to it. This flow adds the probe to a running Volt pod instead, as an
ephemeral container (PATCH pods/ephemeralcontainers, as `kubectl debug` does), waits for
it to terminate (progress lines), reads its log and returns the report marked with the
vantage point. There is nothing to clean up, and nothing could be: Kubernetes never
removes an ephemeral container; it stays, terminated, in the pod's spec until the pod is
deleted or restarted (kubernetes.io/docs/concepts/workloads/pods/ephemeral-containers/).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from probe.errors import CannotRunError
from probe.inventory.volt import (
    common_selector,
    find_dr_services,
    matches_any,
    selector_text,
    selectors,
)
from probe.k8sjob.kube import ApiCallError, KubeApi
from probe.k8sjob.logs import NoReport, extract, tail
from probe.k8sjob.objects import JobParams, ephemeral_container
from probe.k8sjob.runner import STUCK_REASONS, Clock, Progress
from probe.model import Report, Vantage

Obj = dict[str, Any]

VANTAGE_KIND = "volt-pod"
# The apiserver's answer for a path it does not serve (no ephemeral containers before 1.23).
NO_SUCH_PATH = "the server could not find the requested resource"
# Also stuck: the kubelet could not create the container (e.g. runAsNonRoot vs the image).
EPHEMERAL_STUCK = STUCK_REASONS | {"CreateContainerError"}


@dataclass(frozen=True)
class EphemeralOptions:
    """params: what the Job would run (params.name names the container, unique per run);
    pod: the Volt pod to run in, None for the first running one; seconds to wait."""

    params: JobParams
    pod: str | None
    wait_seconds: float
    poll_seconds: float = 2.0


def run_from_volt_pod(
    api: KubeApi, opts: EphemeralOptions, progress: Progress, clock: Clock | None = None
) -> Report:
    """Add the probe to a Volt pod, wait, and return its report with `vantage` set.

    Raises CannotRunError (an ApiCallError for API failures: a 403 names the missing
    RBAC rule) when the container cannot be added, does not finish within
    `opts.wait_seconds`, or leaves no report in its log.
    """
    clock = clock or Clock()
    p = opts.params
    ns, name = p.namespace, p.name
    container = ephemeral_container(p, name)  # raw mode is a UsageError before any call
    pod = pick_pod(api, ns, opts.pod, p.port, progress)
    pod_name = pod["metadata"]["name"]
    progress(
        f"adding ephemeral container {name} to pod {ns}/{pod_name} (connect mode, image "
        f"{p.image}); it stays in the pod's spec until the pod restarts"
    )
    try:
        api.add_ephemeral_container(ns, pod_name, container)
    except ApiCallError as exc:
        raise patch_error(exc, ns, pod_name) from None
    finished = wait_for_container(api, ns, pod_name, name, opts, progress, clock)
    report = collect(api, ns, pod_name, name, finished)
    return replace(report, vantage=Vantage(VANTAGE_KIND, pod_name, ns, name))


def volt_pods(api: KubeApi, namespace: str, dr_port: int) -> list[Obj] | None:
    """The Volt pods by name: those the DR Services' selectors pick, as the inventory finds
    them (probe/inventory/volt.py); None when no DR Service with a selector exists."""
    candidates, _ = find_dr_services(api.list_services(namespace), dr_port, None)
    sels = selectors(candidates)
    if not sels:
        return None
    listed = api.list_pods(namespace, selector_text(common_selector(sels)))
    return sorted(
        (pod for pod in listed if matches_any(pod, sels)),
        key=lambda pod: str(pod["metadata"]["name"]),
    )


def pick_pod(
    api: KubeApi, namespace: str, wanted: str | None, dr_port: int, progress: Progress
) -> Obj:
    """The named pod, or the first running Volt pod by name: the pods the DR Services'
    selectors pick, as the inventory finds them (probe/inventory/volt.py)."""
    if wanted:
        try:
            pod = api.read_pod(namespace, wanted)
        except ApiCallError as exc:
            if exc.status == 404:
                raise CannotRunError(f"no pod {wanted!r} in namespace {namespace}") from None
            raise
        _require_running(pod)
        return pod
    volt = volt_pods(api, namespace, dr_port)
    if volt is None:
        raise CannotRunError(
            f"no Volt DR Service with a selector in namespace {namespace} (a Service with a "
            f"port named `replication` or port {dr_port}); name the pod: --from-volt-pod POD"
        )
    running = [pod for pod in volt if _phase(pod) == "Running"]
    if not running:
        seen = ", ".join(f"{pod['metadata']['name']} {_phase(pod)}" for pod in volt) or "none"
        raise CannotRunError(
            f"no running Volt pod in namespace {namespace} (Volt pods: {seen}); an ephemeral "
            "container starts only in a running pod"
        )
    names = [str(pod["metadata"]["name"]) for pod in running]
    more = f" and {len(names) - 5} more" if len(names) > 5 else ""
    progress(f"running Volt pods: {', '.join(names[:5])}{more}; probing from {names[0]}")
    return running[0]


def _phase(pod: Obj) -> str:
    return str((pod.get("status") or {}).get("phase") or "Pending")


def _require_running(pod: Obj) -> None:
    if _phase(pod) != "Running":
        raise CannotRunError(
            f"pod {pod['metadata']['name']} is {_phase(pod)}: an ephemeral container "
            "starts only in a running pod"
        )


def patch_error(exc: ApiCallError, namespace: str, pod: str) -> CannotRunError:
    """The PATCH's failure in one line: RBAC or Pod Security (both 403), not served, invalid."""
    said = exc.problem.message if exc.problem is not None else str(exc)
    if exc.status == 403 and "PodSecurity" in said:
        return CannotRunError(f"the namespace's Pod Security admission rejected the probe: {said}")
    if exc.status == 403:
        return ApiCallError(
            f"{exc}; grant it for this session with the Role from "
            f"`voltprobe manifest runner-role --with-ephemeral --namespace {namespace}`",
            exc.status,
            exc.problem,
        )
    if exc.status == 404 and said == NO_SUCH_PATH:
        return CannotRunError(
            "this API server does not serve pods/ephemeralcontainers (Kubernetes 1.25 or later)"
        )
    if exc.status == 404:
        return CannotRunError(f"pod {namespace}/{pod} disappeared before the probe was added")
    if exc.status == 422:
        return CannotRunError(f"the API server rejected the ephemeral container: {said}")
    return exc


def container_status(pod: Obj, container: str) -> Obj:
    """status.ephemeralContainerStatuses[name == container], {} until the kubelet reports."""
    for status in (pod.get("status") or {}).get("ephemeralContainerStatuses") or []:
        if status.get("name") == container:
            return dict(status)
    return {}


def container_state(status: Obj) -> tuple[str, bool, bool]:
    """(a short state for progress, stuck, terminated) of one container status."""
    state = status.get("state") or {}
    if state.get("terminated") is not None:
        terminated = state["terminated"]
        return f"terminated (exit code {terminated.get('exitCode')})", False, True
    if state.get("running") is not None:
        return "running", False, False
    waiting = state.get("waiting") or {}
    if waiting.get("reason"):
        reason = str(waiting["reason"])
        message = f": {waiting['message']}" if waiting.get("message") else ""
        return f"waiting ({reason}{message})", reason in EPHEMERAL_STUCK, False
    return "waiting for the kubelet to start it", False, False


def wait_for_container(
    api: KubeApi,
    namespace: str,
    pod: str,
    container: str,
    opts: EphemeralOptions,
    progress: Progress,
    clock: Clock,
) -> Obj:
    """Poll the pod until the ephemeral container has terminated; the pod then (or raise)."""
    start = clock.now()
    last = ""
    while True:
        try:
            current = api.read_pod(namespace, pod)
        except ApiCallError as exc:
            if exc.status == 404:
                raise CannotRunError(f"pod {namespace}/{pod} was deleted while probing") from None
            raise
        state, stuck, terminated = container_state(container_status(current, container))
        text = f"pod {pod}, ephemeral container {container}: {state}"
        if text != last:
            progress(text)
            last = text
        if terminated:
            return current
        if stuck:
            raise CannotRunError(
                f"{text}; it cannot start (check --image and the registry credentials); "
                f"kubectl -n {namespace} describe pod {pod} says more"
            )
        if _phase(current) in ("Succeeded", "Failed"):
            raise CannotRunError(f"pod {pod} is {_phase(current)}: the probe will never run")
        if clock.now() - start > opts.wait_seconds:
            raise CannotRunError(
                f"the ephemeral container {container} in pod {namespace}/{pod} did not finish "
                f"within {opts.wait_seconds:.0f}s (last: {state}); it stays in the pod until "
                f"the pod restarts; kubectl -n {namespace} describe pod {pod} says why"
            )
        clock.sleep(opts.poll_seconds)


def termination(status: Obj) -> str:
    terminated = (status.get("state") or {}).get("terminated") or {}
    text = f"container exit code {terminated.get('exitCode')}"
    if terminated.get("reason"):
        text += f" ({terminated['reason']})"
    message = str(terminated.get("message") or "").strip()
    return f"{text}, termination message: {message!r}" if message else text


def collect(api: KubeApi, namespace: str, pod: str, container: str, finished: Obj) -> Report:
    """The report from the container's log, or an error that carries what it did say."""
    log = api.read_log(namespace, pod, container)
    try:
        return extract(log)
    except NoReport as exc:
        last = tail(log)
        raise CannotRunError(
            f"pod {namespace}/{pod}, ephemeral container {container}: {exc}; "
            f"{termination(container_status(finished, container))}"
            + (f"; log ends: {last}" if last else "; the log is empty")
        ) from None
