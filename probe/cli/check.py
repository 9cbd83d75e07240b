"""`voltprobe check`: probe the peer's DR endpoints and recommend ipFamilies."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import Any

from probe.cli.args import (
    MODES,
    add_cluster_options,
    add_fail_on_option,
    add_peer_options,
    add_per_pod_option,
    add_report_options,
    add_timeout_option,
    bounded_float,
    int_range,
    kube_options,
)
from probe.cli.identity import kube_context
from probe.datapath.types import DataPathOptions, PathQuality
from probe.errors import UsageError
from probe.model import ClusterLabel, Severity, Target
from probe.options import CHECK_DEFAULTS, CheckOptions, Mode, OutputOptions
from probe.render import FORMATS
from probe.stop import MAX_DEADLINE


def add_probe_options(parser: Any, mode: Mode = CHECK_DEFAULTS.mode) -> None:
    """--timeout, --mode, -o and -v: shared with `demo`, which runs the same check."""
    add_timeout_option(parser)
    parser.add_argument(
        "--mode",
        choices=MODES,
        default=mode.value,
        help="auto: raw SYN probes when allowed, else connect(); raw: fail (exit 3) without "
        f"CAP_NET_RAW; connect: never needs privileges (default {mode.value})",
    )
    add_report_options(parser, FORMATS, OutputOptions().format)


# voltprobe is not a scanner: a pre-flight check of a few DR endpoints needs neither
# (the benchmark runs at 25,000 packets a second)
MAX_RATE = 50_000
MAX_CONCURRENCY = 4096


def check_cluster_names(cluster: str | None, peer: str | None) -> None:
    """Who probed whom must pair with the other side's report: a cluster does not probe
    itself. Raises UsageError."""
    if cluster and peer and cluster == peer:
        raise UsageError(
            f"--peer-cluster {peer} is this cluster's own name: a cluster does not probe itself"
        )


def check_resolv_conf(path: str) -> None:
    """A --resolv-conf the user named must be one dnspython can read, with a nameserver:
    a typo is exit 2 before any work. Raises UsageError."""
    from probe.errors import CannotRunError
    from probe.resolve import make_resolver

    if not os.path.isfile(path):
        raise UsageError(f"--resolv-conf {path}: no such file")
    try:
        make_resolver(path, 1.0)
    except CannotRunError as exc:
        raise UsageError(f"--resolv-conf {path}: {exc}") from None


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
    add_peer_options(check, required=False)
    add_pairing_options(check)
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
        help=f"resolver configuration of the DNS lens (default {d.resolv_conf}); the "
        "addresses probed are the system resolver's (getaddrinfo), as the JVM sees them",
    )
    check.add_argument(
        "--jvm-prefer",
        choices=("ipv4", "ipv6", "system", "ipv4-stack"),
        help="the family order of VoltDB's JVM when the Volt pods' flags cannot be read: "
        "ipv4 (JDK default), ipv6 (-Djava.net.preferIPv6Addresses=true), system "
        "(=system), ipv4-stack (-Djava.net.preferIPv4Stack=true)",
    )
    check.add_argument(
        "--concurrency",
        type=int_range("--concurrency", 1, MAX_CONCURRENCY),
        default=None,  # CHECK_DEFAULTS when not given; given with --mode raw it is an error
        help=f"connect() probes in flight at once (default {d.concurrency}; not with --mode raw)",
    )
    check.add_argument(
        "--rate",
        type=int_range("--rate", 1, MAX_RATE),
        default=None,  # CHECK_DEFAULTS when not given; given with --mode connect it is an error
        help=f"raw probe packets per second (default {d.rate}; not with --mode connect)",
    )
    check.add_argument(
        "--quick",
        action="store_true",
        help="raw mode: stop early once answers stop coming (RTT-adaptive)",
    )
    check.add_argument("--pcap", metavar="FILE", help="raw mode: write probes and answers here")
    add_data_path_options(check)
    add_deadline_option(check)
    add_per_pod_option(check)
    add_output_files(check)
    add_fail_on_option(check)
    kube = check.add_argument_group("Kubernetes (read-only)")
    kube.add_argument("--no-kube", action="store_true", help="do not read the Kubernetes API")
    add_cluster_options(kube, "namespace of the Volt cluster (default: this pod's)")
    kube.add_argument("--release", help="Helm release name of the Volt cluster")
    kube.add_argument(
        "--dry-run-service",
        action="store_true",
        help="settle whether a family can be allocated with a server-side dry-run create of "
        "a Service (dryRun=All, persists nothing; needs `create services`)",
    )
    check.set_defaults(func=run)


def add_pairing_options(parser: Any) -> None:
    """--peer-report, --cluster and --peer-cluster: whose endpoints, and who probed whom."""
    parser.add_argument(
        "--peer-report",
        action="append",
        default=[],
        metavar="FILE",
        help="probe every DR endpoint the peer cluster advertises, from its `voltprobe "
        "inventory -o json` or its report (repeatable: one per peer cluster)",
    )
    add_cluster_name_option(parser)
    parser.add_argument(
        "--peer-cluster",
        metavar="NAME",
        type=cluster_name("--peer-cluster"),
        help="the name of the peer cluster probed with --peer (default: the --peer-report's "
        "cluster), so `voltprobe report` can pair the reports of both sides",
    )


def cluster_name(option: str) -> Callable[[str], str]:
    """An argparse type: a cluster name pairs reports, so it must be a visible word."""

    def parse(text: str) -> str:
        if not text.strip() or not text.isprintable():
            raise argparse.ArgumentTypeError(f"{option} needs a non-empty, printable name")
        return text

    return parse


def add_cluster_name_option(parser: Any) -> None:
    parser.add_argument(
        "--cluster",
        metavar="NAME",
        type=cluster_name("--cluster"),
        help="the name of this cluster in the report (default: the kubeconfig context; "
        "none inside a pod)",
    )


def add_data_path_options(parser: Any) -> None:
    data_path = parser.add_argument_group("data path (after the handshake)")
    data_path.add_argument(
        "--data-path",
        choices=["on", "off"],
        default="on",
        help="connect() again to open endpoints and read what follows the handshake "
        "(300 ms wait; in raw mode this completes handshakes); never writes to a peer "
        "that is not a voltprobe responder (default on)",
    )
    data_path.add_argument(
        "--responder",
        action="store_true",
        help="the peer runs `voltprobe serve`: an endpoint that does not greet fails its family",
    )
    data_path.add_argument(
        "--path-quality",
        choices=["auto", "on", "off"],
        default="auto",
        help="RTT samples and the path-MTU ladder; auto: for endpoints that greet (default)",
    )
    data_path.add_argument(
        "--samples",
        type=int_range("--samples", 1, 100),
        default=None,  # DataPathOptions' when not given
        help=f"handshakes timed per endpoint for the RTT figures (default {DataPathOptions().samples})",
    )


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
    from probe.kube.config import check_selection
    from probe.targets import parse_peers, unique_targets

    if args.mode == "connect" and (args.pcap or args.quick):
        option = "--pcap" if args.pcap else "--quick"
        raise UsageError(f"{option} works on raw SYN probes: use it with --mode raw or auto")
    if not args.peer and not args.peer_report:
        raise UsageError(
            "check needs --peer HOST[:PORT][,...] or --peer-report FILE (see: voltprobe check -h)"
        )
    # an option that does nothing in the chosen mode is an error, never ignored
    off = "--data-path off" if args.data_path == "off" else "--path-quality off"
    for given, option, why, setting in (
        (
            args.rate is not None and args.mode == "connect",
            "--rate",
            "paces raw SYN probes",
            "--mode connect",
        ),
        (
            args.concurrency is not None and args.mode == "raw",
            "--concurrency",
            "bounds connect() probes",
            "--mode raw",
        ),
        (
            args.samples is not None and "off" in (args.data_path, args.path_quality),
            "--samples",
            "times handshakes for the data path's RTT figures",
            off,
        ),
    ):
        if given:
            raise UsageError(f"{option} {why}: it has no effect with {setting}")
    if args.data_path == "off" and (args.responder or args.path_quality == "on"):
        raise UsageError(
            "--responder and --path-quality on read the data path: drop --data-path off"
        )
    if args.no_kube:
        given = [
            name
            for name, value in (
                ("--kubeconfig", args.kubeconfig),
                ("--context", args.context),
                ("--namespace", args.namespace),
                ("--release", args.release),
                ("--as", args.as_user),
                ("--as-group", args.as_group),
                ("--request-timeout", args.request_timeout),
                ("--dry-run-service", args.dry_run_service),
            )
            if value
        ]
        if given:
            raise UsageError(f"{', '.join(given)} cannot be used with --no-kube")
    kube = kube_options(args, enabled=not args.no_kube)
    if kube.enabled:
        from probe.kube.kubeconfig import check_kubeconfigs

        check_kubeconfigs(kube.kubeconfig, kube.context)  # malformed files: exit 2
        # a cluster that cannot be reached is a finding; a kubeconfig or context that
        # does not exist is a typo in the command
        check_selection(kube)
    if args.resolv_conf != CHECK_DEFAULTS.resolv_conf:
        check_resolv_conf(args.resolv_conf)
    targets, peer_names, peer_sources = peer_report_targets(args.peer_report, args.peer_cluster)
    if args.peer:
        targets = parse_peers(args.peer, args.port) + targets
    context = kube_context(kube)
    peer = args.peer_cluster or (peer_names[0] if len(peer_names) == 1 else None)
    check_cluster_names(args.cluster or context, peer)
    return CheckOptions(
        targets=unique_targets(targets),
        cluster=ClusterLabel(args.cluster or context, peer, context),
        port=args.port,
        timeout=args.timeout,
        dns_timeout=args.dns_timeout,
        mode=Mode(args.mode),
        concurrency=args.concurrency or CHECK_DEFAULTS.concurrency,
        rate=args.rate or CHECK_DEFAULTS.rate,
        quick=args.quick,
        per_pod=args.per_pod,
        pcap=args.pcap,
        resolv_conf=args.resolv_conf,
        jvm_prefer=args.jvm_prefer,
        peer_sources=peer_sources,
        deadline=getattr(args, "deadline", None),
        kube=kube,
        data_path=DataPathOptions(
            enabled=args.data_path == "on",
            responder=args.responder,
            path_quality=PathQuality(args.path_quality),
            samples=args.samples or DataPathOptions().samples,
        ),
    )


def peer_report_targets(
    paths: list[str], peer_cluster: str | None = None
) -> tuple[tuple[Target, ...], list[str], tuple[str, ...]]:
    """The targets every --peer-report advertises, the peer clusters' names, and the
    addresses their DR connections may come from (for this side's NetworkPolicies).
    A report that names its cluster otherwise than `peer_cluster` (--peer-cluster) is
    refused: the two could not be paired. Raises UsageError."""
    from probe.documents import read_document
    from probe.merge.matrix import Input
    from probe.merge.peers import peer_sources, peer_targets

    targets: list[Target] = []
    names: list[str] = []
    sources: list[str] = []
    for path in paths:
        peer = Input(path, read_document(path))
        label = peer.document.cluster.name
        if peer_cluster and label and label != peer_cluster:
            raise UsageError(
                f"--peer-cluster {peer_cluster}, but {path} is the report of cluster {label}: "
                "drop --peer-cluster, or give that cluster's report"
            )
        targets.extend(peer_targets(path, peer.document, peer.cluster))
        names.append(peer.cluster)
        sources.extend(peer_sources(peer.document))
    return tuple(targets), list(dict.fromkeys(names)), tuple(dict.fromkeys(sources))


def output_options(args: argparse.Namespace) -> OutputOptions:
    """The frozen output options; `--report-file -` means stdout, which only -o json is."""
    if getattr(args, "report_file", None) == "-" and args.output != "json":
        raise UsageError(
            f"--report-file - would print the JSON report on stdout, which -o {args.output} "
            "already uses: use -o json, or a file name"
        )
    refuse_shared_outputs(args)
    return OutputOptions(
        format=args.output,
        verbose=args.verbose,
        # with -o json, stdout already is the report file
        report_file=None
        if getattr(args, "report_file", None) == "-"
        else getattr(args, "report_file", None),
        values_out=getattr(args, "values_out", None),
        termination_log=getattr(args, "termination_log", None),
        log_json=getattr(args, "log_json", False),
        color=terminal_color(args.no_color),
        fail_on=Severity(args.fail_on) if getattr(args, "fail_on", None) else None,
        unicode=stdout_takes_marks(),
    )


def refuse_shared_outputs(args: argparse.Namespace) -> None:
    """Two options writing the same file would leave only the last one's text (the
    report replaced by the values snippet): a usage error naming both. Raises
    UsageError."""
    seen: dict[str, str] = {}
    for option in ("report_file", "values_out", "termination_log", "pcap"):
        path = getattr(args, option, None)
        if not path or path == "-":
            continue
        key = os.path.realpath(path)
        flag = "--" + option.replace("_", "-")
        if key in seen:
            raise UsageError(f"{seen[key]} and {flag} both name {path}: give each its own file")
        seen[key] = flag


def terminal_color(no_color: bool) -> bool:
    """Colour only for a terminal, and never with NO_COLOR set (https://no-color.org)."""
    stdout = sys.stdout
    return (
        not no_color and not os.environ.get("NO_COLOR") and stdout is not None and stdout.isatty()
    )


def stdout_takes_marks() -> bool:
    """Whether stdout's encoding can show the checklist's marks (else ASCII ones)."""
    try:
        encoding = sys.stdout.encoding if sys.stdout is not None else "utf-8"
        "\u2714\u00d7\u203c\u2013\u00b7\u2026".encode(encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def run(args: argparse.Namespace) -> int:
    from probe.cli.deliver import run_and_deliver

    return run_and_deliver(check_options(args), output_options(args))
