"""A stand-in kubelet for the fake API server: a created Job's container command runs as
a local process inside one lab network namespace, and its output becomes the pod's log.

    fake_api.on_create("jobs", run_jobs_in(namespace, workdir))

What a real kubelet does and this one mirrors: $(VAR) references in args are expanded
from the container's env (fieldRef values from the pod), /dev/termination-log is a file
of the pod's own (read back as the termination message), the pod goes Running, then
Succeeded or Failed by exit code, and the Job gets its Complete or Failed condition.
What it does not: images, the API from inside the pod (the process sees no cluster,
as a pod without a reachable API would), restarts. `hang=True` leaves the pod Running
forever (a Job that hangs). Each process is bounded by `timeout` seconds.
"""

from __future__ import annotations

import copy
import os
import re
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from tests.fakeapi.server import CreateHook, FakeApiServer

from .netns import Namespace
from .responder import voltprobe_script

TIME = "2025-05-01T10:00:00Z"
_VAR = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


def run_jobs_in(
    ns: Namespace,
    workdir: Path,
    *,
    hang: bool = False,
    timeout: float = 60.0,
    runs: list[tuple[float, float]] | None = None,
) -> CreateHook:
    """The hook; `runs` (if given) collects each process's (start, end) monotonic times."""

    def hook(server: FakeApiServer, job: dict[str, Any]) -> None:
        meta = job["metadata"]
        namespace, name, uid = meta["namespace"], meta["name"], meta["uid"]
        pod_name = f"{name}-k7p2x"
        container = copy.deepcopy(job["spec"]["template"]["spec"]["containers"][0])
        pod = _pod(pod_name, namespace, name, uid, container)
        server.store.put(pod)
        if hang:
            return
        thread = threading.Thread(
            target=_run,
            args=(server, ns, workdir, job, pod, container, timeout, runs),
            name=f"kubelet-{pod_name}",
            daemon=True,
        )
        thread.start()

    return hook


def _pod(name: str, namespace: str, job: str, uid: str, container: dict[str, Any]) -> Any:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "creationTimestamp": TIME,
            "labels": {"job-name": job, "batch.kubernetes.io/job-name": job, "controller-uid": uid},
            "ownerReferences": [
                {"apiVersion": "batch/v1", "kind": "Job", "name": job, "uid": uid,
                 "controller": True, "blockOwnerDeletion": True}
            ],
        },
        "spec": {"containers": [container], "restartPolicy": "Never", "nodeName": "node-1"},
        "status": {
            "phase": "Running",
            "startTime": TIME,
            "containerStatuses": [
                {"name": container["name"], "image": container["image"], "imageID": "",
                 "ready": True, "restartCount": 0, "started": True,
                 "state": {"running": {"startedAt": TIME}}}
            ],
        },
    }  # fmt: skip


def _run(
    server: FakeApiServer,
    ns: Namespace,
    workdir: Path,
    job: dict[str, Any],
    pod: dict[str, Any],
    container: dict[str, Any],
    timeout: float,
    runs: list[tuple[float, float]] | None,
) -> None:
    name = pod["metadata"]["name"]
    home = workdir / name
    home.mkdir(parents=True, exist_ok=True)
    termination = home / "termination-log"
    env = _env(container, pod)
    args = [_expand(arg, env) for arg in container.get("args") or []]
    args = [str(termination) if a == "/dev/termination-log" else a for a in args]
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("KUBE", "VOLTPROBE_"))}
    started = time.monotonic()
    try:
        done = subprocess.run(
            ns.exec_args(str(voltprobe_script()), *args),
            env={**clean, **env, "HOME": str(home)},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            check=False,
        )
        log, code = done.stdout, done.returncode
    except subprocess.TimeoutExpired as exc:
        log, code = str(exc.stdout or ""), 137
    if runs is not None:
        runs.append((started, time.monotonic()))
    message = termination.read_text() if termination.exists() else ""
    server.set_log(pod["metadata"]["namespace"], name, log)
    finished = copy.deepcopy(pod)
    finished["status"]["phase"] = "Succeeded" if code == 0 else "Failed"
    finished["status"]["containerStatuses"][0]["state"] = {
        "terminated": {"exitCode": code, "reason": "Completed" if code == 0 else "Error",
                       "message": message, "startedAt": TIME, "finishedAt": TIME}
    }  # fmt: skip
    condition = "Complete" if code == 0 else "Failed"
    done_job = copy.deepcopy(job)
    done_job["status"] = {
        "startTime": TIME,
        "succeeded" if code == 0 else "failed": 1,
        "conditions": [{"type": condition, "status": "True", "lastProbeTime": TIME,
                        "lastTransitionTime": TIME}],
    }  # fmt: skip
    # the Job's status first: once the pod shows finished, the runner deletes the Job
    server.store.put(done_job)
    server.store.put(finished)


def _env(container: dict[str, Any], pod: dict[str, Any]) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in container.get("env") or []:
        if "value" in item:
            values[item["name"]] = _expand(str(item["value"]), values)
        elif "valueFrom" in item:
            path = item["valueFrom"].get("fieldRef", {}).get("fieldPath", "")
            found: Any = pod
            for part in path.split("."):
                found = found.get(part, "") if isinstance(found, dict) else ""
            values[item["name"]] = str(found)
    return values


def _expand(text: str, env: dict[str, str]) -> str:
    """$(NAME) from env; an unknown reference stays as written (Kubernetes' rule)."""
    return _VAR.sub(lambda m: env.get(m.group(1), m.group(0)), text)
