"""`voltprobe job`: run the check as a Job in a cluster, or read an existing Job's report.

    voltprobe job run --context CTX --peer HOST[:PORT] [...]   create, wait, report, clean up
    voltprobe job run --from-volt-pod [POD] --peer HOST[:PORT]   the check inside a Volt pod
    voltprobe job run --context A --context B [...]           a Job in each, every other
                                                              cluster's endpoints; merged
    voltprobe job run --context A --context B --responder     and a stand-in dual-stack
                                                              DR listener in each, removed after
    voltprobe job logs --context CTX --namespace NS JOBNAME     the JSON report of a Job

Unlike `check`, `job run` needs write access: create/delete serviceaccounts, roles,
rolebindings and jobs, get/list jobs and pods, get pods/log (and list events) in the
namespace. `--from-volt-pod` instead patches pods/ephemeralcontainers (opt-in:
`voltprobe manifest runner-role --with-ephemeral`); `--responder` also creates/deletes
pods and services (`voltprobe manifest runner-role --with-responder`). Exit code: the in-cluster check's own
(0 a family works, 1 none, 3 could not run); 3 as well when the Job could not be run or read.
With several contexts: the merged result's (`voltprobe report`).
"""

from __future__ import annotations

import argparse
import re
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from types import FrameType
from typing import TYPE_CHECKING, Any

from probe.cli.args import (
    add_cluster_options,
    add_fail_on_option,
    add_identity_options,
    add_report_options,
    bounded_float,
    kube_options,
)
from probe.cli.manifest import add_job_options
from probe.k8sjob.defaults import DEFAULT_IMAGE
from probe.options import OutputOptions
from probe.render import FORMATS

if TYPE_CHECKING:
    from collections.abc import Callable

    from probe.k8sjob.ephemeral import EphemeralOptions
    from probe.k8sjob.kube import KubeApi
    from probe.k8sjob.runner import RunOptions

    Progress = Callable[[str], None]

PLACEHOLDER_IMAGE = (
    f"--image is needed: the default {DEFAULT_IMAGE} is a placeholder that no registry "
    "serves. Build the image from this repository's Dockerfile (docker build -t "
    "REGISTRY/voltprobe:TAG .), push it, and pass --image REGISTRY/voltprobe:TAG"
)
NAMESPACE_HELP = (
    "namespace (default: the context's, else default); for `run` use the Volt cluster's "
    "namespace so the check can read its Services"
)
POD_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
MAX_WAIT = 86400.0  # seconds: a day is longer than any Job deadline worth waiting for


def add_parser(commands: Any) -> None:

    parser = commands.add_parser(
        "job",
        help="run voltprobe as a Job in a cluster (needs create rights) and fetch its report",
        description="Run `voltprobe check` inside a cluster as a Job and collect its report. "
        "Run it once per cluster, each pointing at the other: XDCR dials both ways.",
    )
    actions = parser.add_subparsers(dest="job_command", metavar="ACTION", parser_class=type(parser))

    run_p = actions.add_parser(
        "run",
        help="create the ServiceAccount, RBAC and Job, wait, print the report, clean up",
        description="Create a ServiceAccount, a read-only Role + RoleBinding and a Job running "
        "`voltprobe check` in the chosen cluster, wait for it (progress on stderr), print its "
        "report and delete everything it created (unless --keep).",
    )
    add_job_options(run_p, peer_required=False, per_context=True)
    run_p.add_argument(
        "--cluster-read",
        action="store_true",
        help="also grant the optional ClusterRole (nodes, servicecidrs) for the "
        "run; needs rights to create cluster roles and bindings",
    )
    run_p.add_argument(
        "--wait",
        type=bounded_float("--wait", 0, MAX_WAIT),
        metavar="SECONDS",
        help="give up waiting after this long (default: the deadline + 60)",
    )
    run_p.add_argument(
        "--keep",
        action="store_true",
        help="leave the Job, its pod and RBAC in place (then: job logs)",
    )
    run_p.add_argument(
        "--from-volt-pod",
        nargs="?",
        const="",
        metavar="POD",
        help="probe from inside a Volt pod's network namespace instead (its NetworkPolicies, "
        "its Multus interfaces): add the check as an ephemeral container to POD (default: "
        "the first running Volt pod; CTX=POD names the --context too). Needs patch "
        "pods/ephemeralcontainers (manifest runner-role --with-ephemeral); the container "
        "cannot be removed and stays in the pod's spec until the pod restarts",
    )
    run_p.add_argument(
        "--responder",
        action="store_true",
        help="with several --context: before the Jobs, run `voltprobe serve` in each cluster "
        "behind a PreferDualStack Service of its DR Service's type, probe it in both families "
        "with the DR endpoints, and delete it after (unless --keep). Needs create/delete pods "
        "and services (manifest runner-role --with-responder)",
    )
    run_p.add_argument(
        "--responder-wait",
        type=bounded_float("--responder-wait", 0, MAX_WAIT),
        metavar="SECONDS",
        help="how long to wait for each responder's Pod to be Ready and its load balancer's "
        "addresses (default 300); past it, the directions into that cluster are unknown",
    )
    add_contexts_options(run_p)
    add_report_options(run_p, FORMATS, OutputOptions().format)
    add_fail_on_option(run_p)

    logs_p = actions.add_parser(
        "logs",
        help="print the JSON report of an existing voltprobe Job",
        description="Read the pod log of an existing voltprobe Job and print the report found "
        "between the marker lines. Exit code: the check's own.",
    )
    logs_p.add_argument("job_name", metavar="JOBNAME")
    add_cluster_options(logs_p, NAMESPACE_HELP)
    add_report_options(logs_p, FORMATS, "json")
    parser.set_defaults(func=run)


def add_contexts_options(parser: Any) -> None:
    """--context (repeatable: every cluster probes every other), and --kubeconfig,
    --namespace as kubectl spells them, each also as CTX=VALUE for one context."""
    parser.add_argument(
        "--context",
        action="append",
        default=[],
        help="kubeconfig context; repeat it for several clusters: a Job in each probes every "
        "DR endpoint the others advertise, and the reports are merged (no --peer then)",
    )
    parser.add_argument(
        "--kubeconfig",
        action="append",
        default=[],
        metavar="[CTX=]PATH",
        help="kubeconfig file (default: in-cluster, KUBECONFIG, ~/.kube/config); CTX=PATH "
        "for one context",
    )
    parser.add_argument(
        "-n", "--namespace", action="append", default=[], metavar="[CTX=]NS", help=NAMESPACE_HELP
    )
    add_identity_options(parser)


def run(args: argparse.Namespace) -> int:
    from probe.errors import UsageError

    if args.job_command not in ("run", "logs"):
        raise UsageError("voltprobe job needs an action: run or logs (see voltprobe job -h)")
    if args.job_command == "run" and len(args.context) > 1:
        return run_many(args)
    if args.job_command == "run":
        single_context(args)
    from probe.cli.check import output_options
    from probe.k8sjob import kube, runner
    from probe.k8sjob.defaults import DEFAULT_NAMESPACE
    from probe.progress import Progress
    from probe.render import render

    # the run's log on stderr; on a terminal its last line counts seconds (`Pending, 4 s`)
    progress = Progress(True, prefix="voltprobe job", keep=True)

    # everything from the command line first: bad input is exit 2 before any API call
    cluster = kube_options(args)
    output = output_options(args)
    if args.job_command == "run" and not args.cluster:
        from probe.cli.identity import kube_context

        # the pod has no kube context: name the cluster after the one used here
        args.cluster = kube_context(cluster)
    namespace = args.namespace or DEFAULT_NAMESPACE  # the context's, once connected
    opts = run_options(args, namespace) if args.job_command == "run" else None
    from_pod = opts is not None and args.from_volt_pod is not None
    pod_opts = ephemeral_options(args, opts) if from_pod and opts is not None else None
    job_name = None if opts is not None else args.job_name

    try:
        api, context_namespace, description = kube.connect(cluster)
        namespace = cluster.namespace or context_namespace or DEFAULT_NAMESPACE
        progress(f"using {description}, namespace {namespace}")
        if pod_opts is not None:
            from probe.k8sjob import ephemeral

            params = replace(pod_opts.params, namespace=namespace)
            found = ephemeral.run_from_volt_pod(api, replace(pod_opts, params=params), progress)
        elif opts is not None:
            opts = with_volt_resolver(api, in_namespace(opts, namespace), progress)
            with cleanup_on_sigterm():
                found = runner.run_job(api, opts, progress)
        else:
            assert job_name is not None
            found = runner.job_logs(api, namespace, job_name)
    finally:
        progress.close()  # its last line ended: the report (or the error) starts clean
    sys.stdout.write(render(found, output.format, output.verbose, output.color, output.unicode))
    sys.stdout.flush()
    progress(f"verdict: {found.verdict}")
    from probe.cli.deliver import FAIL_ON_EXIT, exit_code

    code = exit_code(found, False, output.fail_on)
    if code == FAIL_ON_EXIT:
        progress(
            f"--fail-on {getattr(output.fail_on, 'value', '')}: a finding of that severity (exit 4)"
        )
    return code


@contextmanager
def cleanup_on_sigterm() -> Iterator[None]:
    """SIGTERM raises RunStopped (exit 3) once, where the run is, so run_job's `finally`
    deletes what it created (as Ctrl-C's KeyboardInterrupt does); a second SIGTERM during
    that cleanup is ignored rather than leaving objects half deleted."""
    from probe.stop import RunStopped

    raised = False

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        nonlocal raised
        if not raised:
            raised = True
            raise RunStopped("stopped by SIGTERM; deleted what this run created")

    try:
        previous = signal.signal(signal.SIGTERM, on_sigterm)
    except ValueError:  # not the main thread: no handler, the default stays
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_options(args: argparse.Namespace, namespace: str) -> RunOptions:
    """RunOptions from the command line, validated (a UsageError for bad input)."""
    from probe.cli.manifest import job_params
    from probe.errors import UsageError
    from probe.k8sjob.runner import RunOptions, unique_name

    params = job_params(args, unique_name(), namespace)
    if params.image == DEFAULT_IMAGE:
        raise UsageError(PLACEHOLDER_IMAGE)
    wait = args.wait if args.wait is not None else args.deadline + 60
    return RunOptions(
        params=params, wait_seconds=wait, keep=args.keep, cluster_read=args.cluster_read
    )


def with_volt_resolver(api: KubeApi, opts: RunOptions, progress: Progress) -> RunOptions:
    """The run with the Volt pods' hostAliases, dnsPolicy and dnsConfig copied into the
    Job's pod, so the probe's getaddrinfo sees what theirs sees; says what was copied, or
    why nothing was (no Volt pod read, or pods that disagree)."""
    from probe.inventory.parse import resolver_settings
    from probe.k8sjob.ephemeral import volt_pods

    pods = volt_pods(api, opts.params.namespace, opts.params.port) or []
    settings = {resolver_settings(pod.get("spec") or {}) for pod in pods}
    if not pods:
        progress("no Volt pod read: the Job resolves with the namespace's default DNS")
        return opts
    if len(settings) > 1:
        progress("the Volt pods' resolver settings differ: not copied (the Job uses the defaults)")
        return opts
    (resolver,) = settings
    if not resolver:
        return opts
    progress(f"the Job resolves as the Volt pods do: {resolver}")
    return replace(opts, params=replace(opts.params, resolver=resolver))


def in_namespace(opts: RunOptions, namespace: str) -> RunOptions:
    """The same run in `namespace` (the kubeconfig context's, known only after connecting)."""
    if namespace == opts.params.namespace:
        return opts
    return replace(opts, params=replace(opts.params, namespace=namespace))  # validated again


def ephemeral_options(args: argparse.Namespace, opts: RunOptions) -> EphemeralOptions:
    """`--from-volt-pod [CTX=]POD` as EphemeralOptions (a UsageError for bad input)."""
    from probe.errors import UsageError
    from probe.k8sjob.ephemeral import EphemeralOptions

    for given, flag in ((args.raw, "--raw"), (args.keep, "--keep")):
        if given:
            raise UsageError(
                f"{flag} does not go with --from-volt-pod: it probes in connect mode, and an "
                "ephemeral container stays in the pod until the pod restarts anyway"
            )
    if args.cluster_read:
        raise UsageError("--cluster-read does not go with --from-volt-pod: it creates no Job")
    context, _, pod = args.from_volt_pod.rpartition("=")
    if context and context != args.context:
        raise UsageError(
            f"--from-volt-pod {args.from_volt_pod}: {context!r} is not the --context of this "
            "run (one context per run)"
        )
    if pod and (len(pod) > 253 or not POD_NAME.fullmatch(pod)):
        raise UsageError(f"--from-volt-pod {pod!r} is not a pod name (a DNS-1123 subdomain)")
    # the Job's parameters, validated; its unique name names the container
    return EphemeralOptions(params=opts.params, pod=pod or None, wait_seconds=opts.wait_seconds)


def single_context(args: argparse.Namespace) -> None:
    """`job run` with at most one --context: each option to its one value (CTX= allowed)."""
    from probe.errors import UsageError
    from probe.k8sjob.multi import per_context

    contexts = list(args.context)
    for option in ("kubeconfig", "namespace", "cluster"):
        common, own = per_context(getattr(args, option), contexts, f"--{option}")
        setattr(args, option, own.get(contexts[0]) if own else common)
    args.context = contexts[0] if contexts else None
    if getattr(args, "responder", False) or getattr(args, "responder_wait", None) is not None:
        raise UsageError(
            "--responder needs several --context: the responder in one cluster is probed by "
            "the Jobs of the others. For one cluster, deploy it with `voltprobe manifest "
            "responder | kubectl apply -f -` and run check in the peer"
        )
    if not args.peer:
        raise UsageError(
            "job run needs --peer HOST[:PORT][,...], or several --context (each cluster probes "
            "the others' advertised endpoints)"
        )


def volt_pods_per_context(
    args: argparse.Namespace, contexts: list[str]
) -> dict[str, str | None] | None:
    """`--from-volt-pod` with several contexts: CTX=POD names one context's pod, the
    others (or all, with no value) use their first running Volt pod; None without it."""
    from probe.errors import UsageError

    if args.from_volt_pod is None:
        return None
    for given, flag in (
        (args.raw, "--raw"),
        (args.keep, "--keep"),
        (args.cluster_read, "--cluster-read"),
    ):
        if given:
            raise UsageError(f"{flag} does not go with --from-volt-pod (connect mode, no Job)")
    pods: dict[str, str | None] = dict.fromkeys(contexts)
    if args.from_volt_pod:
        context, _, pod = args.from_volt_pod.rpartition("=")
        if context not in pods or not POD_NAME.fullmatch(pod):
            raise UsageError(
                f"--from-volt-pod {args.from_volt_pod}: with several --context, write "
                "CTX=POD for one of them (or no value: the first Volt pod of each)"
            )
        pods[context] = pod
    return pods


def run_many(args: argparse.Namespace) -> int:
    """`job run --context a --context b ...`: a Job in every cluster, then the merge."""
    import sys

    from probe.cli.manifest import job_params
    from probe.errors import UsageError
    from probe.k8sjob import multi
    from probe.k8sjob.runner import RunOptions
    from probe.kube.config import check_selection
    from probe.options import KubeOptions
    from probe.render import without_controls
    from probe.render.merged import MERGED_FORMATS, render_merged

    for given, option in ((args.peer, "--peer"), (args.peer_cluster, "--peer-cluster")):
        if given:
            raise UsageError(
                "with several --context the targets (and their names) are each cluster's "
                f"advertised DR endpoints: drop {option}"
            )
    if args.output not in MERGED_FORMATS:
        raise UsageError(
            f"-o {args.output}: the merged result is one of {', '.join(MERGED_FORMATS)}"
        )
    specs = multi.plan_clusters(args.context, args.kubeconfig, args.namespace, args.cluster)
    for spec in specs:  # a kubeconfig or context that does not exist: exit 2, nothing created
        check_selection(KubeOptions(kubeconfig=spec.kubeconfig, context=spec.context))
    args.peer, args.cluster = ["placeholder.invalid"], None  # filled per cluster
    if args.image == DEFAULT_IMAGE:
        raise UsageError(PLACEHOLDER_IMAGE)
    params = job_params(args, "voltprobe", "default")
    wait = args.wait if args.wait is not None else args.deadline + 60
    run_opts = RunOptions(
        params=params, wait_seconds=wait, keep=args.keep, cluster_read=args.cluster_read
    )

    from probe.cli.deliver import FAIL_ON_EXIT, merged_exit_code
    from probe.model import Severity
    from probe.progress import Progress

    if args.responder_wait is not None and not args.responder:
        raise UsageError("--responder-wait goes with --responder")
    # the run's log on stderr; on a terminal its last line counts seconds (`Pending, 4 s`)
    progress = Progress(True, prefix="voltprobe job", keep=True)
    try:
        from_pods = volt_pods_per_context(args, [spec.context for spec in specs])
        seen = multi.read_inventories(specs, args.port, progress, responder=args.responder)
        with cleanup_on_sigterm():
            if args.responder:
                from probe.k8sjob.responder import DEFAULT_RESPONDER_WAIT

                wait = (
                    DEFAULT_RESPONDER_WAIT if args.responder_wait is None else args.responder_wait
                )
                with multi.responders(seen, params, run_opts, wait, progress) as stood:
                    with_responders, unmeasured = stood
                    merged = multi.run_everywhere(
                        with_responders,
                        params,
                        run_opts,
                        progress,
                        from_pods=from_pods,
                        unmeasured=unmeasured,
                    )
            else:
                merged = multi.run_everywhere(seen, params, run_opts, progress, from_pods=from_pods)
    finally:
        progress.close()
    sys.stdout.write(without_controls(render_merged(merged, args.output, args.verbose)))
    sys.stdout.flush()
    progress(f"verdict: {merged.verdict}")
    fail_on = Severity(args.fail_on) if args.fail_on else None
    code = merged_exit_code(merged, fail_on)
    if code == FAIL_ON_EXIT:
        progress(f"--fail-on {args.fail_on}: a finding of that severity (exit 4)")
    return code
