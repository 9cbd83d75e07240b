"""Ready-made create hooks: behaviour a controller would add in a real cluster."""

from __future__ import annotations

import copy
from typing import Any

from .server import CreateHook, FakeApiServer, UpdateHook


def complete_jobs(
    log: str, *, succeeded: bool = True, pod_ips: tuple[str, ...] = ("10.244.1.90",)
) -> CreateHook:
    """When a Job is created, mark it finished and add its Pod with `log` as the log.

    api.on_create("jobs", complete_jobs("voltprobe report ..."))
    """

    def hook(server: FakeApiServer, job: dict[str, Any]) -> None:
        meta = job["metadata"]
        ns, name, uid = meta["namespace"], meta["name"], meta["uid"]
        labels = {
            "batch.kubernetes.io/job-name": name,
            "job-name": name,
            "batch.kubernetes.io/controller-uid": uid,
            "controller-uid": uid,
        }
        phase = "Succeeded" if succeeded else "Failed"
        pod_name = f"{name}-7xq2m"
        container = copy.deepcopy(
            (
                job.get("spec", {}).get("template", {}).get("spec", {}).get("containers")
                or [{"name": "probe", "image": "voltprobe"}]
            )[0]
        )
        server.store.put(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": pod_name,
                    "namespace": ns,
                    "labels": labels,
                    "ownerReferences": [
                        {
                            "apiVersion": "batch/v1",
                            "kind": "Job",
                            "name": name,
                            "uid": uid,
                            "controller": True,
                            "blockOwnerDeletion": True,
                        }
                    ],
                },
                "spec": {"containers": [container], "restartPolicy": "Never", "nodeName": "node-1"},
                "status": {
                    "phase": phase,
                    "podIP": pod_ips[0],
                    "podIPs": [{"ip": ip} for ip in pod_ips],
                    "startTime": "2025-05-01T10:00:05Z",
                },
            }
        )
        server.set_log(ns, pod_name, log)
        condition = "Complete" if succeeded else "Failed"
        finished = copy.deepcopy(job)
        finished["status"] = {
            "startTime": "2025-05-01T10:00:00Z",
            "completionTime": "2025-05-01T10:00:20Z" if succeeded else None,
            "succeeded" if succeeded else "failed": 1,
            "conditions": [
                {
                    "type": condition,
                    "status": "True",
                    "lastProbeTime": "2025-05-01T10:00:20Z",
                    "lastTransitionTime": "2025-05-01T10:00:20Z",
                }
            ],
        }
        if not succeeded:
            finished["status"].pop("completionTime")
        server.store.put(finished)

    return hook


def complete_ephemeral(log: str, *, exit_code: int = 0, message: str = "") -> UpdateHook:
    """When an ephemeral container is added, mark it terminated (as the kubelet reports it)
    and give it `log` as its own log; containers that already have a status are left alone.

    api.on_update("pods/ephemeralcontainers", complete_ephemeral("voltprobe report ..."))
    """

    def hook(server: FakeApiServer, pod: dict[str, Any]) -> None:
        meta = pod["metadata"]
        status = pod.setdefault("status", {})
        statuses = status.setdefault("ephemeralContainerStatuses", [])
        reported = {s["name"] for s in statuses}
        for container in pod["spec"].get("ephemeralContainers") or []:
            if container["name"] in reported:
                continue
            terminated = {
                "exitCode": exit_code,
                "reason": "Completed" if exit_code == 0 else "Error",
                "startedAt": "2025-05-01T10:00:05Z",
                "finishedAt": "2025-05-01T10:00:09Z",
                "containerID": "containerd://" + "0" * 64,
            }
            if message:
                terminated["message"] = message
            statuses.append(
                {
                    "name": container["name"],
                    "image": container["image"],
                    "imageID": "",
                    "ready": False,
                    "restartCount": 0,
                    "state": {"terminated": terminated},
                    "lastState": {},
                }
            )
            server.set_log(meta["namespace"], meta["name"], log, container=container["name"])
        server.store.put(pod)

    return hook
