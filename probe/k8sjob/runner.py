"""`voltprobe job run` and `voltprobe job logs`: the flow, over a `KubeApi`.

run: create ServiceAccount, Role, RoleBinding (and optionally the cluster read access),
then the Job; poll until its pod finishes, with progress lines; read the pod log and
take the JSON report from between the markers; delete what this run created (unless
keep), also when anything above fails or the user interrupts.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from probe.errors import CannotRunError
from probe.k8sjob.kube import ApiCallError, KubeApi
from probe.k8sjob.logs import NoReport, extract, tail
from probe.k8sjob.objects import CONTAINER, JobParams, cluster_role_binding_name, job_objects
from probe.model import Report

Obj = dict[str, Any]
Progress = Callable[[str], None]

# Waiting reasons that will not fix themselves before the deadline.
STUCK_REASONS = frozenset(
    {"ImagePullBackOff", "ErrImageNeverPull", "InvalidImageName", "CreateContainerConfigError"}
)
FINISHED_PHASES = frozenset({"Succeeded", "Failed"})


def unique_name(prefix: str = "voltprobe") -> str:
    """A fresh name per run, so two runs (or a kept one) never collide."""
    return f"{prefix}-{secrets.token_hex(3)[:5]}"


@dataclass(frozen=True)
class RunOptions:
    params: JobParams
    wait_seconds: float
    keep: bool = False
    cluster_read: bool = False
    poll_seconds: float = 2.0


@dataclass(frozen=True)
class Clock:
    """Time, injectable so tests do not sleep."""

    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


@dataclass
class _Seen:
    """What the last poll showed, so progress prints only changes."""

    state: str = ""
    events: set[str] = field(default_factory=set)


def run_job(
    api: KubeApi, opts: RunOptions, progress: Progress, clock: Clock | None = None
) -> Report:
    clock = clock or Clock()
    p = opts.params
    # this run's own ClusterRole (named like its binding): deleting it can never take
    # the read access away from another run
    objects = job_objects(p, opts.cluster_read, cluster_role_binding_name(p.name, p.namespace))
    created: list[Obj] = []
    kinds = ", ".join(o["kind"] for o in objects)
    progress(f"creating {kinds} {p.namespace}/{p.name} ({p.mode} mode, image {p.image})")
    try:
        for obj in objects:
            # listed before the call: a stop (SIGTERM, Ctrl-C) or a lost answer during it
            # still deletes what the server made; an answered refusal (403, 409: someone
            # else's object) created nothing of ours
            created.append(obj)
            try:
                api.create(obj)
            except ApiCallError as exc:
                if exc.status is not None:
                    created.pop()
                raise
        pod = wait_for_pod(api, p, opts, progress, clock)
        return collect(api, p.namespace, p.name, pod)
    finally:
        if opts.keep:
            names = " ".join(
                f"{o['kind'].lower()}/{o['metadata']['name']}" for o in reversed(created)
            )
            progress(f"kept (--keep); remove with: kubectl -n {p.namespace} delete {names}")
        else:
            cleanup(api, created, progress)


def cleanup(api: KubeApi, created: list[Obj], progress: Progress) -> None:
    """Delete in reverse order; a failure is reported, never hides the run's own outcome."""
    left: list[str] = []
    for obj in reversed(created):
        meta = obj["metadata"]
        try:
            api.delete(obj)
        except CannotRunError as exc:
            left.append(f"{obj['kind'].lower()}/{meta['name']}")
            progress(f"warning: could not delete {obj['kind']} {meta['name']}: {exc}")
    if created and not left:
        progress(f"deleted {', '.join(o['kind'] for o in reversed(created))}")
    if left:
        ns = created[0]["metadata"].get("namespace", "default")
        progress(f"left behind; remove with: kubectl -n {ns} delete {' '.join(left)}")


def _condition(job: Obj) -> Obj | None:
    for cond in (job.get("status") or {}).get("conditions") or []:
        finished = ("Complete", "Failed", "SuccessCriteriaMet", "FailureTarget")
        if cond.get("type") in finished and cond.get("status") == "True":
            return dict(cond)
    return None


def newest_pod(api: KubeApi, namespace: str, job_name: str) -> Obj | None:
    # The Job controller labels its pods job-name=<job> (and batch.kubernetes.io/job-name).
    pods = api.list_pods(namespace, f"job-name={job_name}")
    if not pods:
        return None
    pods.sort(key=lambda pod: str(pod.get("metadata", {}).get("creationTimestamp") or ""))
    return pods[-1]


def _container_status(pod: Obj) -> Obj:
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        if status.get("name") == CONTAINER:
            return dict(status)
    return {}


def pod_state(pod: Obj) -> tuple[str, str | None]:
    """(a short state for progress, the reason it is stuck or None)."""
    status = pod.get("status") or {}
    phase = str(status.get("phase") or "Pending")
    state = _container_status(pod).get("state") or {}
    waiting = state.get("waiting") or {}
    if waiting.get("reason"):
        reason = str(waiting["reason"])
        text = f"{phase} ({reason}{': ' + waiting['message'] if waiting.get('message') else ''})"
        return text, reason if reason in STUCK_REASONS else None
    for cond in status.get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
            return f"{phase} (unschedulable: {cond.get('message') or cond.get('reason')})", None
    return phase, None


def wait_for_pod(
    api: KubeApi, p: JobParams, opts: RunOptions, progress: Progress, clock: Clock
) -> Obj:
    """Poll until the Job's pod has finished; the finished pod (or raise, saying why not)."""
    start = clock.now()
    seen = _Seen()
    events_readable = True
    while True:
        job = api.read_job(p.namespace, p.name)
        condition = _condition(job)
        pod = newest_pod(api, p.namespace, p.name)
        if pod is None:
            state = "waiting for the Job controller to create the pod"
            if events_readable:
                events_readable = _check_failed_create(api, p, seen, progress)
        else:
            state, stuck = pod_state(pod)
            state = f"pod {pod['metadata']['name']}: {state}"
            if stuck:
                raise CannotRunError(
                    f"{state}; the pod cannot start (check --image {p.image} and the registry "
                    "credentials)"
                )
        if state != seen.state:
            progress(state)
            seen.state = state
        pod_done = pod is not None and (pod.get("status") or {}).get("phase") in FINISHED_PHASES
        if pod_done or condition is not None:
            elapsed = clock.now() - start
            if condition is not None:
                reason = condition.get("reason") or ""
                progress(
                    f"job {condition['type']}{f' ({reason})' if reason else ''} "
                    f"after {elapsed:.0f}s"
                )
            if pod is None:
                raise CannotRunError(
                    f"the Job ended ({_describe(condition)}) before it created a pod"
                )
            return pod
        if clock.now() - start > opts.wait_seconds:
            raise CannotRunError(
                f"the Job did not finish within {opts.wait_seconds:.0f}s (last: {state}); "
                "rerun with --keep and look at `kubectl describe job`"
            )
        clock.sleep(opts.poll_seconds)


def _describe(condition: Obj | None) -> str:
    if condition is None:
        return "no condition"
    parts = [str(condition.get("type")), str(condition.get("reason") or "")]
    message = condition.get("message")
    return ": ".join(x for x in (" ".join(p for p in parts if p), message) if x)


def _check_failed_create(api: KubeApi, p: JobParams, seen: _Seen, progress: Progress) -> bool:
    """Raise if the Job controller cannot create the pod; False when events are unreadable."""
    try:
        events = api.list_events(p.namespace, p.name)
    except ApiCallError as exc:
        if exc.status == 403:
            progress("cannot read events (403); a pod that never starts shows only at the deadline")
            return False
        raise
    for event in events:
        if event.get("reason") != "FailedCreate":
            continue
        message = str(event.get("message") or "")
        if "PodSecurity" in message:
            raise CannotRunError(
                f"the namespace's Pod Security level forbids the probe pod: {message}"
                + (
                    f" (--raw needs: kubectl label namespace {p.namespace} "
                    "pod-security.kubernetes.io/enforce=privileged)"
                    if p.raw
                    else ""
                )
            )
        if message not in seen.events:
            seen.events.add(message)
            progress(f"the Job cannot create its pod yet: {message}")
    return True


def termination(pod: Obj) -> str:
    terminated = (_container_status(pod).get("state") or {}).get("terminated") or {}
    if not terminated:
        return "container did not terminate"
    message = str(terminated.get("message") or "").strip()
    text = f"container exit code {terminated.get('exitCode')}"
    if terminated.get("reason"):
        text += f" ({terminated['reason']})"
    return f"{text}, termination message: {message!r}" if message else text


def collect(api: KubeApi, namespace: str, job_name: str, pod: Obj) -> Report:
    """The report from the pod's log, or an error that carries what the pod did say."""
    name = pod["metadata"]["name"]
    log = api.read_log(namespace, name, CONTAINER)
    try:
        return extract(log)
    except NoReport as exc:
        last = tail(log)
        raise CannotRunError(
            f"job {namespace}/{job_name}, pod {name}: {exc}; {termination(pod)}"
            + (f"; log ends: {last}" if last else "; the log is empty")
        ) from None


def job_logs(api: KubeApi, namespace: str, job_name: str) -> Report:
    """The report of an existing Job (from `voltprobe job run --keep` or kubectl apply)."""
    try:
        api.read_job(namespace, job_name)
    except ApiCallError as exc:
        if exc.status == 404:
            raise CannotRunError(f"no Job {job_name!r} in namespace {namespace}") from None
        raise
    pod = newest_pod(api, namespace, job_name)
    if pod is None:
        raise CannotRunError(
            f"job {namespace}/{job_name} has no pod (not started yet, or already cleaned up)"
        )
    return collect(api, namespace, job_name, pod)
