"""`voltprobe job run --context a --context b [...]`: every cluster probes every other.

    plan_clusters(...)             -> tuple[ClusterSpec, ...]       the contexts, validated
    responders(seen, ...)          -> context: (seen, unmeasured)   --responder, removed after
    run_everywhere(specs, ...)     -> Merged                        inventories, Jobs, merge

For each cluster: read its inventory (what its DR Services advertise), then start a Job in
every cluster at once whose targets are every other cluster's advertised DR endpoints,
wait for all of them, collect, clean up (unless keep) and merge (`probe/merge/`). A Job
that fails or hangs leaves its direction unknown in the matrix; it never stops the others.
The Jobs run on threads, so the whole takes about as long as the slowest one; Ctrl-C
stops the waiting in every thread, and each deletes what it created.

With `--responder`, each cluster also gets a stand-in DR listener behind a dual-stack
Service (probe/k8sjob/responder.py) before the Jobs start; its endpoints join the
cluster's advertised ones, marked as the responder's, and it is deleted after the Jobs
(also on failure and Ctrl-C), unless keep.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from probe.documents import InventoryReport
from probe.errors import CannotRunError, Interrupted, UsageError, VoltprobeError
from probe.k8sjob.objects import JobParams, check_cluster_name
from probe.k8sjob.runner import Clock, RunOptions, run_job, unique_name
from probe.merge.advertised import Advertised, advertised
from probe.merge.matrix import Input, Merged, merge
from probe.model import ClusterLabel, Recommendation, Report, format_endpoint
from probe.options import KubeOptions
from probe.targets import parse_endpoint

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ClusterSpec:
    """One cluster of a multi-context run: its context and where to find it."""

    context: str
    name: str  # in the reports and the matrix (default: the context)
    kubeconfig: str | None = None
    namespace: str | None = None


def per_context(
    values: Sequence[str], contexts: Sequence[str], option: str
) -> tuple[str | None, dict[str, str]]:
    """(the value for every context, {context: its own value}) from `--opt VALUE` and
    `--opt CTX=VALUE`; raises UsageError for a context given twice or two plain values."""
    common: str | None = None
    own: dict[str, str] = {}
    for value in values:
        context, sep, rest = value.partition("=")
        if sep and context in contexts:
            if context in own:
                raise UsageError(f"{option} {context}=... given twice")
            own[context] = rest
        elif sep and not os.path.exists(value):  # CTX=VALUE for a context not in the run
            raise UsageError(
                f"{option} {value}: {context!r} is not a --context of this run "
                f"({', '.join(contexts)})"
            )
        elif common is not None:
            raise UsageError(f"{option} given twice: use {option} CTX=VALUE per context")
        else:
            common = value
    return common, own


def plan_clusters(
    contexts: Sequence[str],
    kubeconfigs: Sequence[str],
    namespaces: Sequence[str],
    names: Sequence[str],
) -> tuple[ClusterSpec, ...]:
    """The clusters of a multi-context run (UsageError for bad input: exit 2)."""
    if len(set(contexts)) != len(contexts):
        raise UsageError("each --context once")
    kubeconfig, kubeconfig_of = per_context(kubeconfigs, contexts, "--kubeconfig")
    namespace, namespace_of = per_context(namespaces, contexts, "--namespace")
    plain, name_of = per_context(names, contexts, "--cluster")
    if plain is not None:
        raise UsageError("with several --context, name each cluster: --cluster CTX=NAME")
    specs = tuple(
        ClusterSpec(
            context=ctx,
            name=name_of.get(ctx, ctx),
            kubeconfig=kubeconfig_of.get(ctx, kubeconfig),
            namespace=namespace_of.get(ctx, namespace),
        )
        for ctx in contexts
    )
    for spec in specs:
        check_cluster_name(spec.name, "--cluster")
    if len({s.name for s in specs}) != len(specs):
        raise UsageError("two contexts have the same cluster name: use --cluster CTX=NAME")
    return specs


@dataclass(frozen=True)
class Seen:
    """One cluster's inventory, as read before the Jobs start."""

    spec: ClusterSpec
    inventory: InventoryReport
    offered: tuple[Advertised, ...]
    # the responder's `local.services` entry (job run --responder), already in `offered`
    responder: dict[str, Any] | None = field(default=None, compare=False)


def read_inventories(
    specs: Sequence[ClusterSpec], port: int, progress: Progress, responder: bool = False
) -> list[Seen]:
    """Each cluster's inventory, read at the same time; CannotRunError if one cannot be
    read, UsageError if one advertises no DR endpoint another cluster could dial (unless
    `responder`: the responder will offer some)."""
    from probe.inventory import gather

    def read(spec: ClusterSpec) -> Seen:
        kube = KubeOptions(
            kubeconfig=spec.kubeconfig, context=spec.context, namespace=spec.namespace
        )
        inventory = gather(kube, port)
        if not inventory.available:
            raise CannotRunError(
                f"cluster {spec.name}: cannot read its inventory: {inventory.reason}"
            )
        local = inventory.to_json()
        document = InventoryReport(
            local, ClusterLabel(spec.name, None, spec.context), options={"port": port}
        )
        return Seen(spec, document, advertised(local, port))

    seen = _each(specs, read, "inventory")
    for item in seen:
        if isinstance(item, BaseException):
            raise item
    found = [s for s in seen if isinstance(s, Seen)]
    for item in found:
        endpoints = ", ".join(e.endpoint for e in item.offered) or "none"
        progress(f"[{item.spec.name}] advertises {endpoints}")
        if not item.offered and not responder:
            raise UsageError(
                f"cluster {item.spec.name} advertises no DR endpoint another cluster can dial "
                "(no LoadBalancer ingress or NodePort DR Service): deploy it, or the "
                "responder (voltprobe manifest responder), first"
            )
    return found


def _stoppable(stop: threading.Event) -> Clock:
    """A clock whose sleep ends in Interrupted once `stop` is set (Ctrl-C in the caller)."""

    def sleep(seconds: float) -> None:
        if stop.wait(seconds):
            raise Interrupted()

    return Clock(time.monotonic, sleep)


@contextmanager
def responders(
    seen: Sequence[Seen],
    job: JobParams,
    run: RunOptions,
    wait_seconds: float,
    progress: Progress,
) -> Iterator[tuple[list[Seen], dict[str, str]]]:
    """A responder in every cluster for the body of the `with`: (each cluster's Seen with
    the responder's endpoints added, {cluster: why} for those whose responder did not
    become reachable within `wait_seconds`: every direction into them is unknown).

    Raises CannotRunError (exit 3) when a cluster refuses to create one (a 403 names the
    missing RBAC rule), after deleting what the others created. Deletes every responder
    when the body ends, however it ends, unless `run.keep`."""
    from probe.k8sjob import kube
    from probe.k8sjob.responder import plan, remove, stand_up

    stop = threading.Event()
    made: dict[int, tuple[Any, list[dict[str, Any]], Progress]] = {}

    def one(index: int) -> tuple[Seen, str]:
        item = seen[index]
        spec = item.spec
        api, context_namespace, _ = kube.connect(
            KubeOptions(kubeconfig=spec.kubeconfig, context=spec.context)
        )
        namespace = spec.namespace or context_namespace or "default"
        say = _prefixed(progress, spec.name)
        created: list[dict[str, Any]] = []
        made[index] = (api, created, say)
        name = unique_name("voltprobe-responder")
        r = plan(item.inventory.local, name, namespace, job.image, job.port)
        try:
            standing = stand_up(
                api, r, created, wait_seconds, say, _stoppable(stop), run.poll_seconds
            )
        except CannotRunError as exc:
            raise CannotRunError(f"cluster {spec.name}: {exc}") from None
        if standing.entry is None:
            say(standing.why)
            return item, f"{standing.why} (in {spec.name})"
        local = {"nodes": item.inventory.local.get("nodes"), "services": [standing.entry]}
        offered = advertised(local, job.port)
        if not offered:  # a NodePort Service, and the nodes' addresses are unknown
            why = (
                f"the responder's {standing.entry.get('type')} Service offers no address "
                "another cluster can dial (its nodes' addresses could not be read: grant "
                "list nodes, or use a LoadBalancer)"
            )
            say(why)
            return item, f"{why} (in {spec.name})"
        say("responder reachable at " + ", ".join(e.endpoint for e in offered))
        merged_local = dict(item.inventory.local)
        merged_local["services"] = [*(merged_local.get("services") or []), standing.entry]
        inventory = replace(item.inventory, local=merged_local)
        known = {e.key for e in item.offered}
        extra = tuple(e for e in offered if e.key not in known)
        return replace(
            item, inventory=inventory, offered=item.offered + extra, responder=standing.entry
        ), ""

    try:
        results = _each(range(len(seen)), one, "responder", stop)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        found = [item for item, _ in results]
        unmeasured = {item.spec.name: why for item, why in results if why}
        yield found, unmeasured
    finally:
        for api, created, say in made.values():
            remove(api, created, run.keep, say)


def run_everywhere(
    seen: Sequence[Seen],
    job: JobParams,
    run: RunOptions,
    progress: Progress,
    poll_seconds: float | None = None,
    from_pods: Mapping[str, str | None] | None = None,
    unmeasured: Mapping[str, str] | None = None,
) -> Merged:
    """A Job in every cluster probing every other cluster's endpoints; the merged result.

    `job` and `run` carry the shared parameters (image, timeout, deadline, keep...); each
    cluster's name, namespace and peers are filled in here. `from_pods` (context -> pod,
    None for the first running Volt pod): probe from an ephemeral container in a Volt pod
    of each cluster instead of a Job (`job run --from-volt-pod`)."""
    from probe import __version__
    from probe.k8sjob import kube

    owner = {e.key: s.spec.name for s in seen for e in s.offered}
    stop = threading.Event()

    def one(item: Seen) -> Report:
        spec = item.spec
        others = [s for s in seen if s is not item]
        peers = tuple(format_endpoint(e.host, e.port) for s in others for e in s.offered)
        cluster = KubeOptions(kubeconfig=spec.kubeconfig, context=spec.context)
        api, context_namespace, description = kube.connect(cluster)
        namespace = spec.namespace or context_namespace or "default"
        params = replace(
            job,
            peers=peers,
            name=unique_name(),
            namespace=namespace,
            cluster=spec.name,
            peer_cluster=others[0].spec.name if len(others) == 1 else None,
        )
        say = _prefixed(progress, spec.name)
        say(f"using {description}, namespace {namespace}; probing {len(peers)} endpoint(s)")
        poll = poll_seconds or run.poll_seconds
        if from_pods is not None:
            from probe.k8sjob.ephemeral import EphemeralOptions, run_from_volt_pod

            pod_opts = EphemeralOptions(params, from_pods.get(spec.context), run.wait_seconds, poll)
            return run_from_volt_pod(api, pod_opts, say, _stoppable(stop))
        options = replace(run, params=params, poll_seconds=poll)
        return run_job(api, options, say, _stoppable(stop))

    results = _each(seen, one, "job", stop)
    inputs = [Input(f"inventory of {s.spec.name}", s.inventory) for s in seen]
    for item, result in zip(seen, results, strict=True):
        if isinstance(result, Interrupted):
            raise result
        if isinstance(result, Report):
            report = _labelled(result, owner, item.spec.name, item.responder)
        elif isinstance(result, VoltprobeError):
            progress(f"[{item.spec.name}] the Job gave no report: {result}")
            report = _failed(item, seen, str(result))
        else:
            raise result
        inputs.append(Input(f"job in {item.spec.name}", report))
    return merge(inputs, __version__, unmeasured)


def _labelled(
    report: Report,
    owner: dict[tuple[str, int], str],
    name: str,
    responder: dict[str, Any] | None = None,
) -> Report:
    """The Job's report with each target's cluster named (job run knows whose it is), and
    its cluster's responder (if any) among its Services, marked: the merge reads a
    cluster's endpoints from the report its own Job wrote when that one read the API."""
    targets = tuple(
        replace(t, cluster=t.cluster or owner.get((t.host, t.port))) for t in report.targets
    )
    cluster = report.cluster if report.cluster.name else replace(report.cluster, name=name)
    if responder is None:
        return replace(report, targets=targets, cluster=cluster)
    local = dict(report.local)
    services = [
        s
        for s in local.get("services") or []
        if not (isinstance(s, dict) and s.get("name") == responder.get("name"))
    ]
    local["services"] = [*services, responder]
    return replace(report, targets=targets, cluster=cluster, local=local)


def _failed(item: Seen, seen: Sequence[Seen], why: str) -> Report:
    """A report that says the direction from this cluster could not be measured."""
    targets = tuple(
        replace(parse_endpoint(e.endpoint, e.port), cluster=s.spec.name)
        for s in seen
        if s is not item
        for e in s.offered
    )
    return Report(
        targets=targets,
        dns=(),
        probes=(),
        findings=(),
        recommendation=Recommendation((), "", {}, (f"The Job did not give a report: {why}",)),
        local=item.inventory.local,
        error=f"the Job in {item.spec.name} gave no report: {why}",
        cluster=ClusterLabel(item.spec.name, None, item.spec.context),
    )


def _prefixed(progress: Progress, name: str) -> Progress:
    return lambda message: progress(f"[{name}] {message}")


def _each(
    items: Sequence[Any], work: Callable[[Any], Any], what: str, stop: threading.Event | None = None
) -> list[Any]:
    """work(item) for every item on its own thread; the results (or exceptions) in order.

    Not daemon threads: on Ctrl-C (or SIGTERM) the waits stop (`stop`) and each thread
    still deletes what it created before this raises."""
    results: list[Any] = [None] * len(items)

    def target(index: int) -> None:
        try:
            results[index] = work(items[index])
        except BaseException as exc:  # noqa: BLE001 (returned to the caller, raised there)
            results[index] = exc

    threads = [
        threading.Thread(target=target, args=(i,), name=f"{what}-{i}") for i in range(len(items))
    ]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(0.2)
    except BaseException:  # Ctrl-C, or SIGTERM's RunStopped (cli.job.cleanup_on_sigterm)
        if stop is not None:
            stop.set()
        for thread in threads:
            thread.join()
        raise
    return results
