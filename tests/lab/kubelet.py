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

`ResponderKubelet` runs the responder Pods of `job run --responder` the same way, as
long-running `voltprobe serve` processes, stopped by PID when their Pod is deleted.
"""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from tests.fakeapi.server import CreateHook, FakeApiServer

from .netns import Namespace
from .resources import Resources
from .responder import HERE, voltprobe_script

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


RESPONDER_LABEL = ("app.kubernetes.io/component", "responder")


class ResponderKubelet:
    """Runs the responder Pods (`job run --responder`) of one simulated cluster: a created
    Pod labelled component=responder becomes `voltprobe serve` with its args, bound to
    `binds` (the addresses its Service's load balancer forwards to in this lab: a real pod
    has its own network namespace, this one shares the cluster's), as a local process in
    `ns`. The Pod turns Ready once the port accepts, as its readinessProbe (tcpSocket)
    would. Deleting the Pod stops the process by PID; so does its bounded `lifetime`,
    and the lab's teardown (Resources) for any still running.

        kubelet = ResponderKubelet(resources, ns, ("198.51.100.9", "2001:db8:0:a::9"))
        api.on_create("pods", kubelet.on_create)
        api.on_delete("pods", kubelet.on_delete)
    """

    def __init__(
        self,
        resources: Resources,
        ns: Namespace,
        binds: tuple[str, ...],
        lifetime: float = 120.0,
    ) -> None:
        self.resources = resources
        self.ns = ns
        self.binds = binds
        self.lifetime = lifetime
        self.started: list[subprocess.Popen[bytes]] = []
        self._by_pod: dict[tuple[str, str], subprocess.Popen[bytes]] = {}
        self._lock = threading.Lock()

    def running(self) -> list[int]:
        """PIDs of the responder processes still running."""
        return [proc.pid for proc in self.started if proc.poll() is None]

    def on_create(self, server: FakeApiServer, pod: dict[str, Any]) -> None:
        meta = pod["metadata"]
        key, value = RESPONDER_LABEL
        if (meta.get("labels") or {}).get(key) != value:
            return
        container = pod["spec"]["containers"][0]
        env = _env(container, pod)
        args = [_expand(arg, env) for arg in container.get("args") or []]
        port = args[args.index("--port") + 1] if "--port" in args else "5555"
        for address in self.binds:
            args += ["--bind", address]
        proc = self.resources.start(
            self.ns, [str(voltprobe_script()), *args], f"responder-{meta['name']}.log"
        )
        with self._lock:
            self.started.append(proc)
            self._by_pod[(meta["namespace"], meta["name"])] = proc
        timer = threading.Timer(self.lifetime, _stop, args=(proc,))
        timer.daemon = True
        timer.start()
        thread = threading.Thread(
            target=self._ready, args=(server, pod, proc, port), name="kubelet-responder",
            daemon=True,
        )  # fmt: skip
        thread.start()

    def _ready(
        self, server: FakeApiServer, pod: dict[str, Any], proc: subprocess.Popen[bytes], port: str
    ) -> None:
        check = subprocess.run(
            self.ns.exec_args(
                sys.executable, str(HERE / "nscheck.py"), "tcp", self.binds[0], port, "15"
            ),
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        if check.returncode != 0 or proc.poll() is not None:
            return  # never Ready: the run's wait says so
        meta = pod["metadata"]
        with self._lock:
            if self._by_pod.get((meta["namespace"], meta["name"])) is not proc:
                return  # deleted meanwhile
            ready = copy.deepcopy(pod)
            ready["status"] = {
                "phase": "Running",
                "startTime": TIME,
                "podIPs": [{"ip": address} for address in self.binds],
                "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": TIME}],
                "containerStatuses": [
                    {"name": pod["spec"]["containers"][0]["name"], "ready": True,
                     "restartCount": 0, "started": True, "image": "", "imageID": "",
                     "state": {"running": {"startedAt": TIME}}}
                ],
            }  # fmt: skip
            server.store.put(ready)

    def on_delete(self, server: FakeApiServer, pod: dict[str, Any]) -> None:
        meta = pod["metadata"]
        with self._lock:
            proc = self._by_pod.pop((meta["namespace"], meta["name"]), None)
        if proc is not None:
            _stop(proc)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM by PID, then SIGKILL if it has not gone within 5 s."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
