"""`voltprobe job`: run the check as a Job in a cluster, or read an existing Job's report.

    voltprobe job run --context CTX --peer HOST[:PORT] [...]   create, wait, report, clean up
    voltprobe job logs --context CTX --namespace NS JOBNAME     the JSON report of a Job

Unlike `check`, `job run` needs write access: create/delete serviceaccounts, roles,
rolebindings and jobs, get/list jobs and pods, get pods/log (and list events) in the
namespace. Exit code: the in-cluster check's own (0 a family works, 1 none, 3 could
not run); 3 as well when the Job could not be run or read.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from types import FrameType
from typing import TYPE_CHECKING, Any

from probe.cli.args import add_cluster_options, add_report_options, bounded_float
from probe.cli.manifest import add_job_options
from probe.render import FORMATS

if TYPE_CHECKING:
    from probe.k8sjob.runner import RunOptions

NAMESPACE_HELP = (
    "namespace (default: the context's, else default); for `run` use the Volt cluster's "
    "namespace so the check can read its Services"
)
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
    add_job_options(run_p, peer_required=True)
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
    add_cluster_options(run_p, NAMESPACE_HELP)
    add_report_options(run_p, FORMATS, "table")

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


def run(args: argparse.Namespace) -> int:
    from probe.errors import UsageError

    if args.job_command not in ("run", "logs"):
        raise UsageError("voltprobe job needs an action: run or logs (see voltprobe job -h)")
    from probe.k8sjob import kube, runner
    from probe.render import render

    def progress(message: str) -> None:
        print(f"voltprobe job: {message}", file=sys.stderr, flush=True)

    # bad input is exit 2 before any API call; the namespace may come from the context
    opts = run_options(args, args.namespace or "default") if args.job_command == "run" else None
    api, context_namespace, description = kube.connect(args.kubeconfig, args.context)
    namespace = args.namespace or context_namespace or "default"
    progress(f"using {description}, namespace {namespace}")
    if opts is not None:
        with cleanup_on_sigterm():
            found = runner.run_job(api, in_namespace(opts, namespace), progress)
    else:
        found = runner.job_logs(api, namespace, args.job_name)
    sys.stdout.write(render(found, args.output, args.verbose))
    sys.stdout.flush()
    progress(f"verdict: {found.verdict}")
    return found.exit_code


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
    from probe.k8sjob.runner import RunOptions, unique_name

    params = job_params(args, unique_name(), namespace)
    wait = args.wait if args.wait is not None else args.deadline + 60
    return RunOptions(
        params=params, wait_seconds=wait, keep=args.keep, cluster_read=args.cluster_read
    )


def in_namespace(opts: RunOptions, namespace: str) -> RunOptions:
    """The same run in `namespace` (the kubeconfig context's, known only after connecting)."""
    if namespace == opts.params.namespace:
        return opts
    return replace(opts, params=replace(opts.params, namespace=namespace))  # validated again
