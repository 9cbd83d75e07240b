"""`voltprobe check`: probe the peer's DR endpoints and recommend ipFamilies."""

from __future__ import annotations

import argparse
import os
from typing import Any

from probe.cli.args import (
    MODES,
    add_cluster_options,
    add_peer_options,
    add_per_pod_option,
    add_report_options,
    add_timeout_option,
    bounded_float,
    int_range,
)
from probe.errors import UsageError
from probe.options import CHECK_DEFAULTS, CheckOptions, KubeOptions, Mode, OutputOptions
from probe.render import FORMATS
from probe.stop import MAX_DEADLINE


def add_probe_options(parser: Any) -> None:
    """--timeout, --mode, -o and -v: shared with `demo`, which runs the same check."""
    add_timeout_option(parser)
    parser.add_argument(
        "--mode",
        choices=MODES,
        default=CHECK_DEFAULTS.mode.value,
        help="auto: raw SYN probes when allowed, else connect(); raw: fail (exit 3) without "
        "CAP_NET_RAW; connect: never needs privileges (default auto)",
    )
    add_report_options(parser, FORMATS, "table")


# voltprobe is not a scanner: a pre-flight check of a few DR endpoints needs neither
# (the benchmark runs at 25,000 packets a second)
MAX_RATE = 50_000
MAX_CONCURRENCY = 4096


def add_deadline_option(parser: Any) -> None:
    parser.add_argument(
        "--deadline",
        type=bounded_float("--deadline", 0, MAX_DEADLINE),
        default=None,
        metavar="SECONDS",
        help="stop the whole run after this long and write what it learned (exit 3); "
        "default 5 + max(2 x --dns-timeout, 4 x the API timeout) + --timeout x (2 + "
        "ceil(8 x targets / --concurrency))",
    )


def add_parser(commands: Any) -> None:
    d = CHECK_DEFAULTS
    check = commands.add_parser(
        "check",
        help="probe the peer's DR endpoints and recommend ipFamilies",
        description="Resolve the peer's DR endpoints (A and AAAA), probe them over IPv4 and "
        "IPv6, explain every failure and recommend the Volt Helm chart's ipFamilies.",
    )
    add_peer_options(check, required=True)
    add_probe_options(check)
    check.add_argument(
        "--dns-timeout",
        type=bounded_float("--dns-timeout", 0, 60),
        default=d.dns_timeout,
        help=f"seconds for the A and AAAA lookups of each name (default {d.dns_timeout:g})",
    )
    check.add_argument(
        "--resolv-conf",
        default=d.resolv_conf,
        help=f"resolver configuration to use (default {d.resolv_conf})",
    )
    check.add_argument(
        "--concurrency",
        type=int_range("--concurrency", 1, MAX_CONCURRENCY),
        default=d.concurrency,
        help=f"connect() probes in flight at once (default {d.concurrency})",
    )
    check.add_argument(
        "--rate",
        type=int_range("--rate", 1, MAX_RATE),
        default=d.rate,
        help=f"raw probe packets per second (default {d.rate})",
    )
    check.add_argument(
        "--quick",
        action="store_true",
        help="raw mode: stop early once answers stop coming (RTT-adaptive)",
    )
    check.add_argument("--pcap", metavar="FILE", help="raw mode: write probes and answers here")
    add_deadline_option(check)
    add_per_pod_option(check)
    add_output_files(check)
    kube = check.add_argument_group("Kubernetes (read-only)")
    kube.add_argument("--no-kube", action="store_true", help="do not read the Kubernetes API")
    add_cluster_options(kube, "namespace of the Volt cluster (default: this pod's)")
    kube.add_argument("--release", help="Helm release name of the Volt cluster")
    check.set_defaults(func=run)


def add_output_files(parser: Any) -> None:
    parser.add_argument(
        "--values-out",
        metavar="FILE",
        help="also write the Helm values snippet to FILE (for helm upgrade -f)",
    )
    parser.add_argument(
        "--report-file",
        metavar="FILE",
        help="also write the JSON report to FILE (written even if the run stops)",
    )
    parser.add_argument(
        "--termination-log",
        metavar="FILE",
        help="write the one-line verdict here (in a Job: /dev/termination-log)",
    )
    parser.add_argument(
        "--log-json",
        action="store_true",
        help="after the report, print the JSON report between marker lines",
    )


def check_options(args: argparse.Namespace) -> CheckOptions:
    """The frozen options of `check`; bad input raises UsageError (exit 2) before any work."""
    from probe.targets import parse_peers

    # a cluster that cannot be reached is a finding; a kubeconfig path that does not
    # exist is a typo in the command
    if args.kubeconfig and not args.no_kube and not os.path.isfile(args.kubeconfig):
        raise UsageError(f"--kubeconfig {args.kubeconfig}: no such file")
    if not args.no_kube:
        from probe.kube.kubeconfig import check_kubeconfigs

        check_kubeconfigs(args.kubeconfig, args.context)
    if args.pcap and args.mode == "connect":
        raise UsageError("--pcap records raw SYN probes: use it with --mode raw or auto")
    return CheckOptions(
        targets=parse_peers(args.peer, args.port),
        port=args.port,
        timeout=args.timeout,
        dns_timeout=args.dns_timeout,
        mode=Mode(args.mode),
        concurrency=args.concurrency,
        rate=args.rate,
        quick=args.quick,
        per_pod=args.per_pod,
        pcap=args.pcap,
        resolv_conf=args.resolv_conf,
        deadline=getattr(args, "deadline", None),
        kube=KubeOptions(
            enabled=not args.no_kube,
            kubeconfig=args.kubeconfig,
            context=args.context,
            namespace=args.namespace,
            release=args.release,
        ),
    )


def output_options(args: argparse.Namespace) -> OutputOptions:
    return OutputOptions(
        format=args.output,
        verbose=args.verbose,
        report_file=getattr(args, "report_file", None),
        values_out=getattr(args, "values_out", None),
        termination_log=getattr(args, "termination_log", None),
        log_json=getattr(args, "log_json", False),
    )


def run(args: argparse.Namespace) -> int:
    from probe.cli.deliver import run_and_deliver

    return run_and_deliver(check_options(args), output_options(args))
