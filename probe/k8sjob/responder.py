"""`voltprobe job run --responder`: a stand-in DR listener in a cluster, for the run only.

    plan(local, name, namespace, image, port)          -> ResponderParams
    responder_objects(r)                               -> [Service, Pod]
    stand_up(api, r, created, wait, progress, clock)   -> Standing
    service_entry(service)                             -> dict (a `local.services` entry)
    remove(api, created, keep, progress)               -> None

A family a cluster's DR Service does not offer yet cannot be probed through it. So the
run creates, in the Volt namespace, one Pod running `voltprobe serve` on the DR port (the
probe Job's image) and a Service shaped like the DR Service in front of it: the same type
(LoadBalancer, or NodePort when that is what the DR Service is), `ipFamilyPolicy:
PreferDualStack` with the cluster's primary family listed first. It waits (bounded) for
the Pod to be Ready and, for a LoadBalancer, for `status.loadBalancer.ingress`; the
Service's endpoints are then probed like the DR Service's, marked as the responder's.

Why PreferDualStack, and only the primary family listed: the apiserver appends the
other family on a dual-stack cluster, so both are tested; listing both families fails
with 422 on a single-stack cluster under any policy ("not configured on this cluster"),
and RequireDualStack fails there too (kubernetes-dual-stack.md 1.3-1.4, k/k#118897).
On a single-stack cluster the Service gets one family and the other shows as "none": a
DR Service could not have it either.

Why a bare Pod, not a Deployment (k8s/responder.yaml is one, for a responder kept for
days): the run needs one listener for minutes; deleting the Pod stops it at once, with no
ReplicaSet or garbage collector in between, and readiness is read from the one object.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from probe.errors import CannotRunError
from probe.k8sjob.kube import ApiCallError, KubeApi
from probe.k8sjob.objects import ResponderParams, responder_pod, responder_service
from probe.k8sjob.runner import STUCK_REASONS, Clock, cleanup
from probe.model import Family

Obj = dict[str, Any]
Progress = Callable[[str], None]

RESPONDER_APP = "voltprobe"  # app.kubernetes.io/name: the runner policy's delete rule
DEFAULT_RESPONDER_WAIT = 300.0  # seconds: cloud load balancers take minutes to provision


@dataclass(frozen=True)
class Standing:
    """The responder of one cluster after the wait: its `local.services` entry (marked
    `responder`), or why it is not reachable (what was waited on)."""

    entry: Obj | None
    why: str = ""


def plan(local: Obj, name: str, namespace: str, image: str, port: int) -> ResponderParams:
    """The responder for the cluster that `local` (an inventory's JSON) describes: its
    Service of the DR Services' type (LoadBalancer when any is, else NodePort when any is,
    else LoadBalancer: a ClusterIP is not reachable from another cluster) and its primary
    family first."""
    types = [
        s.get("type")
        for s in local.get("services") or []
        if isinstance(s, dict) and s.get("responder") is not True
    ]
    service_type = "NodePort" if "NodePort" in types and "LoadBalancer" not in types else None
    primary = local.get("primaryFamily")
    families = (Family(primary),) if primary in ("IPv4", "IPv6") else ()
    return ResponderParams(
        name=name,
        namespace=namespace,
        image=image,
        port=port,
        service_type=service_type or "LoadBalancer",
        ip_family_policy="PreferDualStack",
        ip_families=families,
        app=RESPONDER_APP,
    )


def responder_objects(r: ResponderParams) -> list[Obj]:
    """In creation order: the Service first (its load balancer takes the longest)."""
    return [responder_service(r), responder_pod(r)]


def stand_up(
    api: KubeApi,
    r: ResponderParams,
    created: list[Obj],
    wait_seconds: float,
    progress: Progress,
    clock: Clock,
    poll_seconds: float = 2.0,
) -> Standing:
    """Create the Service, then the Pod (each listed in `created` before its call, so the
    caller deletes what the server made even when a stop interrupts the call); wait up to
    `wait_seconds` for the Pod to be Ready and the Service to have its addresses.

    Raises CannotRunError when the API refuses a create (a 403 names the missing RBAC
    rule); a responder that is not reachable in time is a Standing with `why`."""
    objects = responder_objects(r)
    progress(
        f"creating the responder: Service {r.namespace}/{r.name} ({r.service_type}, "
        f"{r.ip_family_policy}) and Pod {r.name} (voltprobe serve, image {r.image})"
    )
    for obj in objects:
        created.append(obj)
        try:
            api.create(obj)
        except ApiCallError as exc:
            if exc.status is not None:  # an answered refusal created nothing
                created.pop()
            raise CannotRunError(f"the responder could not be created: {exc}") from None
    start = clock.now()
    said = ""
    while True:
        service = api.read_service(r.namespace, r.name)
        pod = api.read_pod(r.namespace, r.name)
        waiting, stuck = _waiting_on(service, pod, r)
        if stuck:
            return Standing(None, f"the responder Pod {r.namespace}/{r.name} cannot start: {stuck}")
        state = "; ".join(waiting) or "ready"
        if state != said:
            progress(f"responder: {state}")
            said = state
        if not waiting:
            return Standing(service_entry(service))
        if clock.now() - start > wait_seconds:
            return Standing(
                None,
                f"the responder was not ready within {wait_seconds:.0f}s: still waiting for "
                + "; ".join(waiting),
            )
        clock.sleep(poll_seconds)


def _waiting_on(service: Obj, pod: Obj, r: ResponderParams) -> tuple[list[str], str]:
    """(what is still awaited, worded for the user; why the Pod cannot start or "")."""
    waiting = []
    spec = service.get("spec") or {}
    ingress = ((service.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    where = f"Service {r.namespace}/{r.name}"
    if spec.get("type") == "LoadBalancer":
        if not ingress:
            waiting.append(f"the load balancer's address ({where} status.loadBalancer.ingress)")
        else:
            # an IP ingress per family of the Service; a hostname stands for every family
            have = {_family(i.get("ip")) for i in ingress if isinstance(i, dict)}
            if not any(isinstance(i, dict) and i.get("hostname") for i in ingress):
                families = [f for f in spec.get("ipFamilies") or [] if f in ("IPv4", "IPv6")]
                lacking = [f for f in families if Family(f) not in have]
                if lacking:
                    waiting.append(
                        f"the load balancer's {', '.join(lacking)} address ({where} "
                        "status.loadBalancer.ingress)"
                    )
    status = pod.get("status") or {}
    ready = any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or []
    )
    if not ready:
        waiting.append(f"Pod {r.name} to be Ready (phase {status.get('phase') or 'Pending'})")
    for container in status.get("containerStatuses") or []:
        reason = ((container.get("state") or {}).get("waiting") or {}).get("reason")
        if reason in STUCK_REASONS:
            return waiting, f"{reason} (check --image {r.image} and the registry credentials)"
    return waiting, ""


def _family(ip: Any) -> Family | None:
    from probe.model import parse_ip

    parsed = parse_ip(ip) if isinstance(ip, str) else None
    return parsed[0] if parsed else None


def service_entry(service: Obj) -> Obj:
    """The Service as an inventory `local.services` entry (probe/inventory/types.py's
    shape), marked `"responder": true` so the merge tells its endpoints from the DR
    Service's and never recommends changing it."""
    meta, spec = service.get("metadata") or {}, service.get("spec") or {}
    ingress = ((service.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    return {
        "namespace": meta.get("namespace"),
        "name": meta.get("name"),
        "type": spec.get("type"),
        "ipFamilies": list(spec.get("ipFamilies") or []),
        "ipFamilyPolicy": spec.get("ipFamilyPolicy"),
        "clusterIPs": list(spec.get("clusterIPs") or []),
        "perPod": False,
        "selector": dict(spec.get("selector") or {}),
        "ports": [
            {
                "name": p.get("name"),
                "port": p.get("port"),
                "targetPort": p.get("targetPort"),
                "nodePort": p.get("nodePort"),
                "protocol": p.get("protocol"),
            }
            for p in spec.get("ports") or []
            if isinstance(p, dict)
        ],
        "loadBalancerIngress": [
            {
                "ip": i.get("ip"),
                "hostname": i.get("hostname"),
                "family": (f.value if (f := _family(i.get("ip"))) else None),
                "ipMode": i.get("ipMode"),
                "resolved": [],
            }
            for i in ingress
            if isinstance(i, dict)
        ],
        "responder": True,
    }


def remove(api: KubeApi, created: list[Obj], keep: bool, progress: Progress) -> None:
    """Delete the responder (unless `keep`: then say how to); failures are reported."""
    if not created:
        return
    if keep:
        ns = created[0]["metadata"].get("namespace", "default")
        names = " ".join(f"{o['kind'].lower()}/{o['metadata']['name']}" for o in created)
        progress(f"responder kept (--keep); remove with: kubectl -n {ns} delete {names}")
        return
    cleanup(api, created, progress)
