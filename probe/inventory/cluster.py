"""One inventory run: connect, read (get/list only, one paged list per kind), summarise.

Reads, in order: /version (is anyone there?), the probe's own pod, the namespace's
Services (to find the DR ones), the Volt pods (through the DR selectors), the
namespace's EndpointSlices, nodes and ServiceCIDRs (cluster-scoped, optional).
A failed read becomes an ApiProblem and the run goes on with what it has.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Any

from probe.inventory import capability, parse, volt
from probe.inventory.environment import Environment
from probe.inventory.host import host_inventory, pod_ips_inventory
from probe.inventory.policies import read_policies
from probe.inventory.types import (
    DryRun,
    EndpointSliceInfo,
    Inventory,
    LoadBalancerIngress,
    NodeInfo,
    PodInfo,
    ServiceInfo,
)
from probe.kube.config import Connection, Unavailable, connect
from probe.kube.errors import ApiProblem, Read
from probe.kube.reader import ApiReader
from probe.model import FAMILIES, Family
from probe.options import KubeOptions

Obj = dict[str, Any]

# Transport failures on /version mean nobody (usable) is there: stop and fall back.
_UNREACHABLE = {
    "ConnectionRefused",
    "ConnectionError",
    "ConnectionReset",
    "Timeout",
    "TLSError",
    "ProtocolError",
    "ClientError",
}


def gather(options: KubeOptions, dr_port: int, env: Environment | None = None) -> Inventory:
    """The local inventory. Never raises for anything the cluster or the network does.

    `options.enabled` is the caller's decision (`pipeline.gather_inventory` answers
    --no-kube with `host_inventory` and never calls this); here the API is always read.
    """
    env = env or Environment.default()
    connection = connect(options, env.config_sources)
    if isinstance(connection, Unavailable):
        return _fallback(connection.reason, env)
    try:
        return _gather(connection, options, dr_port, env)
    finally:
        connection.api_client.close()


def _fallback(
    reason: str,
    env: Environment,
    *,
    problems: tuple[ApiProblem, ...] = (),
    namespace: str | None = None,
) -> Inventory:
    """No usable cluster: this pod's POD_IPS, or this host's interfaces, for the families."""
    downward = _downward_ips(env)
    if downward:
        inventory = pod_ips_inventory(reason, downward)
    else:
        inventory = host_inventory(reason, env.interface_families())
    return replace(inventory, problems=problems, namespace=namespace)


def _downward_ips(env: Environment) -> tuple[str, ...]:
    raw = env.environ.get("POD_IPS") or env.environ.get("POD_IP") or ""
    return tuple(ip for ip in (parse.bare_address(p) for p in raw.split(",") if p.strip()) if ip)


def _gather(conn: Connection, options: KubeOptions, dr_port: int, env: Environment) -> Inventory:
    reader = ApiReader(conn.api_client, options.request_timeout, env.page_size)
    from kubernetes import client

    core = client.CoreV1Api(conn.api_client)
    problems: list[ApiProblem] = []
    notes: list[str] = []
    namespace = options.namespace or env.environ.get("POD_NAMESPACE") or conn.namespace or "default"

    version = reader.call(
        Read("get", "version", cluster_scoped=True), client.VersionApi(conn.api_client).get_code
    )
    if isinstance(version, ApiProblem):
        if version.reason in _UNREACHABLE or version.status == 401:
            why = "credentials rejected" if version.status == 401 else "not reachable"
            reason = f"Kubernetes API at {conn.server} {why} ({version.reason}: {version.message})"
            return _fallback(reason, env, problems=(version,), namespace=namespace)
        problems.append(version)
        version = {}

    # The probe's own pod: the API's answer is the truth for the pod's families.
    probe_pod = _probe_pod(reader, core, env, namespace, problems)

    # The namespace's Services, once; the DR ones are recognised by their ports.
    listed = reader.list_all(
        Read("list", "services", namespace=namespace), core.list_namespaced_service, namespace
    )
    services: list[Obj] = []
    if isinstance(listed, ApiProblem):
        problems.append(listed)
    else:
        services = listed
    candidates, dr_notes = volt.find_dr_services(services, dr_port, options.release)
    if not candidates and not isinstance(listed, ApiProblem) and not options.namespace:
        # Nobody named the namespace: look for the release in the others (one more list).
        found, everywhere, search_note = _search_namespaces(reader, core, dr_port, options.release)
        if found:
            notes.append(f"no DR Service in namespace {namespace}; {search_note}")
            namespace = found
            services = everywhere
            candidates, dr_notes = volt.find_dr_services(
                [s for s in everywhere if _namespace_of(s) == found], dr_port, options.release
            )
        elif search_note:
            notes.append(search_note)
    notes += dr_notes
    dr_services = [parse.service_info(c.obj, c.per_pod) for c in candidates]
    dr_services = [_resolve_ingress(s, env, options.request_timeout) for s in dr_services]
    namespace_exists: bool | None = None
    namespace_unread = ""
    if not dr_services:  # is it the wrong namespace, or one that does not exist?
        namespace_exists, namespace_unread = _namespace_exists(reader, core, namespace)
    if not dr_services and not isinstance(listed, ApiProblem):
        notes.append(
            f"no DR Service (a port named `replication` or port {dr_port}) in namespace {namespace}"
            + ("" if options.namespace else "; pass --namespace if Volt runs elsewhere")
        )

    volt_pods = _volt_pods(reader, core, namespace, candidates, options.release, problems, notes)
    slices, slices_unread = _endpoint_slices(
        reader, conn.api_client, namespace, dr_services, problems
    )
    nodes = _nodes(reader, core, problems)
    cidr_result = _service_cidrs(reader, conn.api_client, problems)
    namespace_services = tuple(parse.service_info(s, False) for s in services)
    kubernetes_service = _kubernetes_service(reader, core, namespace_services, notes)
    exported = _service_exports(reader, conn.api_client, namespace, dr_services, notes)
    dr_services = [replace(s, exported=s.name in exported) for s in dr_services]

    downward = () if probe_pod else _downward_ips(env)
    cidr_infos = (
        tuple(parse.service_cidr_info(o) for o in cidr_result) if cidr_result is not None else None
    )
    for info in cidr_infos or ():
        if info.unparsed:
            notes.append(
                f"ServiceCIDR {info.name}: ranges that are not CIDRs ignored: {', '.join(info.unparsed)}"
            )
        if not info.usable:
            state = "being deleted" if info.deleting else "not Ready"
            notes.append(f"ServiceCIDR {info.name} is {state}: it does not count")
    evidence = capability.Evidence(
        pods=tuple(volt_pods),
        probe_pod=probe_pod,
        downward_ips=downward,
        services=namespace_services,
        service_cidrs=cidr_infos,
        nodes=tuple(nodes) if nodes is not None else None,
        kubernetes_service=kubernetes_service,
        # only in a pod of the cluster being read (a kubeconfig may name another cluster)
        service_host=(
            (env.environ.get("KUBERNETES_SERVICE_HOST") or "").strip() or None
            if conn.source == "in-cluster"
            else None
        ),
    )
    dry_runs: tuple[DryRun, ...] = ()
    if options.dry_run_service:
        undecided = [
            f for f in FAMILIES if capability.services_ladder(f, evidence).value == "unknown"
        ]
        dry_runs = _dry_runs(reader, core, namespace, undecided, dr_port, problems)
        evidence = replace(evidence, dry_runs=dry_runs)
    policies = read_policies(reader, conn.api_client, namespace)
    if policies.problem is not None and policies.problem.status != 404:
        problems.append(policies.problem)  # VP104 names the rule; the policy checks skip
    families = capability.summarize(evidence)
    primary = capability.primary_ladder(evidence, families)
    pod_families, pod_source = _probe_families(probe_pod, downward, env)
    return Inventory(
        available=True,
        reason=f"read through {conn.description}",
        source=conn.source,
        namespace=namespace,
        probe_pod=probe_pod,
        pod_families=pod_families,
        pod_families_source=pod_source,
        volt_pods=tuple(volt_pods),
        dr_services=tuple(dr_services),
        endpoint_slices=tuple(slices),
        nodes=tuple(nodes or ()),
        service_cidrs=tuple(c for i in cidr_infos or () if i.usable for c in i.cidrs),
        families=families,
        primary_family=Family(primary.value) if primary else None,
        problems=tuple(problems),
        server_version=version.get("gitVersion") if isinstance(version, dict) else None,
        notes=tuple(notes),
        primary=primary,
        slices_unread=slices_unread,
        dr_reach=capability.dr_reach(
            tuple(dr_services), tuple(nodes) if nodes is not None else None
        ),
        dry_runs=dry_runs,
        policies=policies,
        namespace_exists=namespace_exists,
        namespace_unread=namespace_unread,
    )


def _namespace_exists(reader: ApiReader, core: Any, namespace: str) -> tuple[bool | None, str]:
    """(exists, why unknown): GET /api/v1/namespaces/NAME answers 200 (True) or 404
    (False); anything else leaves it unknown, saying why ("HTTP 403 Forbidden": namespaces
    are cluster-scoped, granted by the optional ClusterRole's `get namespaces`). Not a
    problem (no VP104): only asked when the namespace holds no DR Service."""
    got = reader.call(
        Read("get", "namespaces", name=namespace, cluster_scoped=True),
        core.read_namespace,
        namespace,
    )
    if not isinstance(got, ApiProblem):
        return True, ""
    if got.status == 404:
        return False, ""
    return None, f"HTTP {got.status} {got.reason}" if got.status else got.reason


def _kubernetes_service(
    reader: ApiReader, core: Any, read: tuple[ServiceInfo, ...], notes: list[str]
) -> ServiceInfo | None:
    """default/kubernetes: its ClusterIP comes from the primary service range. Optional:
    a failure is a note (the Job's Role is namespaced; the optional ClusterRole grants it)."""
    for svc in read:
        if svc.namespace == "default" and svc.name == "kubernetes":
            return svc
    obj = reader.call(
        Read("get", "services", namespace="default", name="kubernetes"),
        core.read_namespaced_service,
        "kubernetes",
        "default",
    )
    if isinstance(obj, ApiProblem):
        status = f"HTTP {obj.status} " if obj.status else ""
        notes.append(f"default/kubernetes Service not read ({status}{obj.reason})")
        return None
    return parse.service_info(obj, False)


def _service_exports(
    reader: ApiReader, api_client: Any, namespace: str, dr: list[ServiceInfo], notes: list[str]
) -> set[str]:
    """Names of ServiceExports (multicluster.x-k8s.io, KEP-1645) in the namespace: an
    exported ClusterIP DR Service may be reachable from the peer. Only asked for when a
    DR Service is a ClusterIP; 404 (the API is not installed) means none."""
    if not any(s.type == "ClusterIP" for s in dr):
        return set()
    read = Read("list", "serviceexports", group="multicluster.x-k8s.io", namespace=namespace)
    found = reader.list_raw(
        read, f"/apis/multicluster.x-k8s.io/v1alpha1/namespaces/{namespace}/serviceexports"
    )
    if isinstance(found, ApiProblem):
        if found.status != 404:
            status = f"HTTP {found.status} " if found.status else ""
            notes.append(f"ServiceExports not read ({status}{found.reason})")
        return set()
    return {parse._name(o) for o in found}


def _dry_runs(
    reader: ApiReader,
    core: Any,
    namespace: str,
    families: list[Family],
    dr_port: int,
    problems: list[ApiProblem],
) -> tuple[DryRun, ...]:
    """--dry-run-service: a server-side dry-run create (dryRun=All: validated and
    allocated by the apiserver, persisted nowhere) of a SingleStack Service in each
    family the other evidence left unknown. 422 `not configured on this cluster` is "no"
    (k/k alloc.go runs under dryRun too). Needs `create services` in the namespace."""
    answers: list[DryRun] = []
    for family in families:
        body = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"generateName": "voltprobe-dry-run-", "labels": {"app": "voltprobe"}},
            "spec": {
                "type": "ClusterIP",
                "ipFamilyPolicy": "SingleStack",
                "ipFamilies": [family.value],
                "ports": [{"name": "replication", "port": dr_port}],
            },
        }
        result = reader.call(
            Read("create", "services", namespace=namespace),
            core.create_namespaced_service,
            namespace,
            body,
            dry_run="All",
        )
        if not isinstance(result, ApiProblem):
            answers.append(
                DryRun(family, "yes", f"a dry-run create of an {family} Service succeeded")
            )
        elif result.status == 422 and "not configured on" in result.message:
            answers.append(
                DryRun(family, "no", f"a dry-run create of an {family} Service: {result.message}")
            )
        else:
            problems.append(result)
            answers.append(
                DryRun(family, "unknown", f"the dry-run create failed ({result.reason})")
            )
    return tuple(answers)


def _namespace_of(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("namespace") or "")


def _search_namespaces(
    reader: ApiReader, core: Any, dr_port: int, release: str | None
) -> tuple[str | None, list[Obj], str]:
    """The namespace holding DR Services, the Services of every namespace, and a note.

    A failed cluster-wide list is only a note: the search is a convenience, the
    namespace the user (or the pod, or the context) named was read.
    """
    everywhere = reader.list_all(
        Read("list", "services", cluster_scoped=True), core.list_service_for_all_namespaces
    )
    if isinstance(everywhere, ApiProblem):
        status = f"HTTP {everywhere.status} " if everywhere.status else ""
        return (
            None,
            [],
            (
                f"could not look for DR Services in other namespaces "
                f"({status}{everywhere.reason}); pass --namespace"
            ),
        )
    candidates, _ = volt.find_dr_services(everywhere, dr_port, release)
    namespaces = sorted({_namespace_of(c.obj) for c in candidates})
    if not namespaces:
        return None, [], ""
    chosen = namespaces[0]
    others = f" (also in: {', '.join(namespaces[1:])}; use --namespace)" if namespaces[1:] else ""
    return chosen, everywhere, f"found DR Services in namespace {chosen}{others}"


def _probe_families(
    probe_pod: PodInfo | None, downward: tuple[str, ...], env: Environment
) -> tuple[tuple[Family, ...], str]:
    """The probing pod's families: the API, then POD_IPS, then this host's interfaces."""
    if probe_pod is not None and probe_pod.ips:
        return probe_pod.families, "api"
    if downward:
        return parse.families_of(downward), "POD_IPS"
    return env.interface_families(), "interfaces"


def _probe_pod(
    reader: ApiReader,
    core: Any,
    env: Environment,
    default_namespace: str,
    problems: list[ApiProblem],
) -> PodInfo | None:
    name = env.environ.get("POD_NAME")
    namespace = env.environ.get("POD_NAMESPACE") or default_namespace
    if not name:
        return None
    obj = reader.call(
        Read("get", "pods", namespace=namespace, name=name),
        core.read_namespaced_pod,
        name,
        namespace,
    )
    if isinstance(obj, ApiProblem):
        problems.append(obj)
        return None
    pod, _ = parse.pod_info(obj)
    return pod


def _volt_pods(
    reader: ApiReader,
    core: Any,
    namespace: str,
    candidates: list[volt.DrCandidate],
    release: str | None,
    problems: list[ApiProblem],
    notes: list[str],
) -> list[PodInfo]:
    """Pods the DR Services select (one list call with the labels they share)."""
    sels = volt.selectors(candidates)
    if sels:
        common = volt.selector_text(volt.common_selector(sels))

        def keep(obj: Obj) -> bool:
            return volt.matches_any(obj, sels)

        pods = reader.list_all(
            Read("list", "pods", namespace=namespace),
            core.list_namespaced_pod,
            namespace,
            label_selector=common or None,
            keep=partial(parse.trim_pod, keep),
        )
    elif release:

        def keep(obj: Obj) -> bool:
            return volt.is_release_pod(obj, release)

        pods = reader.list_all(
            Read("list", "pods", namespace=namespace),
            core.list_namespaced_pod,
            namespace,
            keep=partial(parse.trim_pod, keep),
        )
    else:
        return []
    if isinstance(pods, ApiProblem):
        problems.append(pods)
        return []
    result = []
    for obj in pods:
        if keep(obj):
            pod, error = parse.pod_info(obj)
            result.append(pod)
            if error:
                notes.append(f"pod {pod.name}: {error}")
    if not result:
        notes.append(f"no Volt pods found in namespace {namespace}")
    return result


def _endpoint_slices(
    reader: ApiReader,
    api_client: Any,
    namespace: str,
    dr_services: list[ServiceInfo],
    problems: list[ApiProblem],
) -> tuple[list[EndpointSliceInfo], str]:
    """The DR Services' slices, and why they could not be read ("" when they were)."""
    if not dr_services:
        return [], ""
    from kubernetes import client

    names = {s.name for s in dr_services}
    discovery = client.DiscoveryV1Api(api_client)
    # One Service: ask for its slices; several: one list of the namespace, filtered here.
    selector = f"kubernetes.io/service-name={next(iter(names))}" if len(names) == 1 else None
    slices = reader.list_all(
        Read("list", "endpointslices", group="discovery.k8s.io", namespace=namespace),
        discovery.list_namespaced_endpoint_slice,
        namespace,
        label_selector=selector,
    )
    if isinstance(slices, ApiProblem):
        problems.append(slices)
        status = f"HTTP {slices.status} " if slices.status else ""
        grant = f"; grant {slices.rule}" if slices.rule else ""
        return [], f"listing EndpointSlices failed ({status}{slices.reason}{grant})"
    infos = [parse.endpoint_slice_info(obj) for obj in slices]
    return sorted(
        (s for s in infos if s.service in names), key=lambda s: (s.service, s.address_type, s.name)
    ), ""


def _nodes(reader: ApiReader, core: Any, problems: list[ApiProblem]) -> list[NodeInfo] | None:
    nodes = reader.list_all(Read("list", "nodes", cluster_scoped=True), core.list_node)
    if isinstance(nodes, ApiProblem):
        problems.append(nodes)
        return None
    return [parse.node_info(obj) for obj in nodes]


def _service_cidrs(
    reader: ApiReader, api_client: Any, problems: list[ApiProblem]
) -> list[Obj] | None:
    """networking.k8s.io/v1, else v1beta1, both through the generic call: the typed
    client rejects a whole list for one object it cannot validate (a Ready condition
    without lastTransitionTime, as reduced dumps have), and every rung of the ladder
    would then be lost for one field voltprobe never reads."""
    read = Read("list", "servicecidrs", group="networking.k8s.io", cluster_scoped=True)
    result = reader.list_raw(read, "/apis/networking.k8s.io/v1/servicecidrs")
    if isinstance(result, ApiProblem) and result.status == 404:
        result = reader.list_raw(read, "/apis/networking.k8s.io/v1beta1/servicecidrs")
        if isinstance(result, ApiProblem) and result.status == 404:
            result = replace(
                result,
                message=(
                    "the ServiceCIDR API is not served (neither networking.k8s.io/v1 nor v1beta1; "
                    "Kubernetes before 1.33 or MultiCIDRServiceAllocator off)"
                ),
            )
    if isinstance(result, ApiProblem):
        problems.append(result)
        return None
    return result


def _resolve_ingress(svc: ServiceInfo, env: Environment, timeout: float) -> ServiceInfo:
    """Resolve load-balancer hostnames (A and AAAA): AWS NLBs report no IP."""
    if not any(i.hostname and not i.ip for i in svc.lb_ingress):
        return svc
    resolved: list[LoadBalancerIngress] = []
    for ingress in svc.lb_ingress:
        if ingress.hostname and not ingress.ip:
            addresses, error = env.resolve_host(ingress.hostname, min(timeout, 3.0))
            literals = tuple(a for a in (parse.bare_address(x) for x in addresses) if a)
            ingress = replace(ingress, resolved=literals, resolve_error=error)
        resolved.append(ingress)
    return replace(svc, lb_ingress=tuple(resolved))
