"""Ready-made create hooks: behaviour a controller would add in a real cluster."""

from __future__ import annotations

import copy
import threading
from typing import Any

from . import resources
from .server import CreateHook, FakeApiServer, UpdateHook
from .store import Missing


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


def provision_load_balancers(
    ingress: dict[str, str] | None,
    *,
    families: tuple[str, ...] = ("IPv4", "IPv6"),
    delay: float = 0.5,
    node_port: int = 31555,
) -> CreateHook:
    """The apiserver's Service allocation plus a cloud load-balancer controller.

    api.on_create("services", provision_load_balancers({"IPv4": "198.51.100.9", ...}))

    On create, as the apiserver's allocator does on a cluster with `families`: a policy
    other than SingleStack gets the missing family appended after the requested primary
    (kubernetes-dual-stack.md 1.2), clusterIPs one per family, node ports. Then, `delay`
    seconds later, as a load-balancer controller does: a LoadBalancer Service gets one
    `status.loadBalancer.ingress` entry per family of `ingress` ({family: address}) that
    the Service has. `ingress=None`: a controller that never answers (the Service stays
    <pending>). Services created already carrying an ingress (fixtures) are left alone.
    """
    cluster_ips = {"IPv4": "10.96.77.7", "IPv6": "fd00:10:96::77:7"}

    def hook(server: FakeApiServer, service: dict[str, Any]) -> None:
        spec = service.setdefault("spec", {})
        if (service.get("status") or {}).get("loadBalancer", {}).get("ingress"):
            return
        wanted = [f for f in spec.get("ipFamilies") or families[:1] if f in families]
        if spec.get("ipFamilyPolicy", "SingleStack") != "SingleStack":
            wanted += [f for f in families if f not in wanted]
        spec["ipFamilies"] = wanted
        spec["clusterIPs"] = [cluster_ips[f] for f in wanted]
        spec["clusterIP"] = spec["clusterIPs"][0]
        if spec.get("type") in ("NodePort", "LoadBalancer"):
            for offset, port in enumerate(spec.get("ports") or []):
                port.setdefault("nodePort", node_port + offset)
        server.store.put(service)
        if spec.get("type") != "LoadBalancer" or ingress is None:
            return
        given = [{"ip": ingress[f], "ipMode": "VIP"} for f in wanted if f in ingress]
        meta = service["metadata"]

        def assign() -> None:
            rt = resources.find("v1", "services")
            assert rt is not None
            try:
                current = server.store.get(rt, meta["namespace"], meta["name"])
            except Missing:
                return  # deleted before the load balancer came up
            current["status"] = {"loadBalancer": {"ingress": given}}
            server.store.put(current)

        timer = threading.Timer(delay, assign)
        timer.daemon = True
        timer.start()

    return hook
