"""Command line: argument wiring and exit codes only.

Exit codes: 0 a family qualifies; 1 none does (XDCR would not connect);
2 bad usage or input; 3 the check could not run. This module alone catches
`VoltprobeError` and turns it into one line on stderr and an exit code.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NoReturn

from probe import __version__
from probe.errors import CannotRunError, Interrupted, UsageError, VoltprobeError
from probe.model import DEFAULT_DR_PORT, REPORT_BEGIN, REPORT_END

if TYPE_CHECKING:
    from probe.model import Report
    from probe.options import CheckOptions

TERMINATION_LOG_LIMIT = 4000  # Kubernetes keeps at most 4096 bytes


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit 2) via UsageError and main()."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see: {self.prog} --help)")


def bounded_float(name: str, low: float, high: float) -> Callable[[str], float]:
    """A parser for low < value <= high (NaN refused)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a number, not {text!r}") from None
        if math.isnan(value) or not low < value <= high:
            raise argparse.ArgumentTypeError(f"{name} must be > {low:g} and <= {high:g}")
        return value

    return parse


def int_range(name: str, low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        if not (text.isascii() and text.strip().isdigit()):
            raise argparse.ArgumentTypeError(f"{name} must be a whole number, not {text!r}")
        value = int(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{name} must be from {low} to {high}")
        return value

    return parse


def _add_probe_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timeout",
        type=bounded_float("--timeout", 0, 60),
        default=2.0,
        help="seconds to wait for each probe's answer (0 < T <= 60, default 2)",
    )
    parser.add_argument(
        "--mode",
        choices=["auto", "raw", "connect"],
        default="auto",
        help="auto: raw SYN probes when allowed, else connect(); raw: fail (exit 3) without "
        "CAP_NET_RAW; connect: never needs privileges (default auto)",
    )
    parser.add_argument(
        "-o",
        "--output",
        choices=["table", "json", "yaml", "values"],
        default="table",
        help="report format on stdout (default table); values prints only the Helm snippet",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="progress on stderr; info findings and timings in the table",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="voltprobe",
        description="Check which IP family reaches a peer VoltDB cluster's XDCR (DR) port "
        "and print the Helm ipFamilies values to use.",
    )
    parser.add_argument("--version", action="version", version=f"voltprobe {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    check = commands.add_parser(
        "check",
        help="probe the peer's DR endpoints and recommend ipFamilies",
        description="Resolve the peer's DR endpoints (A and AAAA), probe them over IPv4 and "
        "IPv6, explain every failure and recommend the Volt Helm chart's ipFamilies.",
    )
    check.add_argument(
        "--peer",
        action="append",
        default=[],
        metavar="HOST[:PORT][,...]",
        required=True,
        help="peer DR endpoint(s): host, host:port, [v6]:port, a bare IPv6 address, or the "
        "value of cluster.config.deployment.dr.connection.source verbatim (\\, accepted); "
        "repeatable",
    )
    check.add_argument(
        "--port",
        type=int_range("--port", 1, 65535),
        default=DEFAULT_DR_PORT,
        help=f"DR port for peers given without one (default {DEFAULT_DR_PORT})",
    )
    _add_probe_options(check)
    check.add_argument(
        "--dns-timeout",
        type=bounded_float("--dns-timeout", 0, 60),
        default=3.0,
        help="seconds for the A and AAAA lookups of each name (default 3)",
    )
    check.add_argument(
        "--resolv-conf",
        default="/etc/resolv.conf",
        help="resolver configuration to use (default /etc/resolv.conf)",
    )
    check.add_argument(
        "--concurrency",
        type=int_range("--concurrency", 1, 65536),
        default=512,
        help="connect() probes in flight at once (default 512)",
    )
    check.add_argument(
        "--rate",
        type=int_range("--rate", 1, 1_000_000),
        default=5000,
        help="raw probe packets per second (default 5000)",
    )
    check.add_argument(
        "--quick",
        action="store_true",
        help="raw mode: stop early once answers stop coming (RTT-adaptive)",
    )
    check.add_argument("--pcap", metavar="FILE", help="raw mode: write probes and answers here")
    data_path = check.add_argument_group("data path (after the handshake)")
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
        default=5,
        help="handshakes timed per endpoint for the RTT figures (default 5)",
    )
    check.add_argument(
        "--per-pod",
        action="store_true",
        help="recommend cluster.serviceSpec.perpod.dr.ipFamilies (per-pod DR "
        "Services); detected automatically when the cluster has them",
    )
    check.add_argument(
        "--values-out",
        metavar="FILE",
        help="also write the Helm values snippet to FILE (for helm upgrade -f)",
    )
    check.add_argument(
        "--report-file",
        metavar="FILE",
        help="also write the JSON report to FILE (written even if the run stops)",
    )
    check.add_argument(
        "--termination-log",
        metavar="FILE",
        help="write the one-line verdict here (in a Job: /dev/termination-log)",
    )
    check.add_argument(
        "--log-json",
        action="store_true",
        help="after the report, print the JSON report between marker lines",
    )
    kube = check.add_argument_group("Kubernetes (read-only)")
    kube.add_argument("--no-kube", action="store_true", help="do not read the Kubernetes API")
    kube.add_argument(
        "--kubeconfig", help="kubeconfig file (default: in-cluster, KUBECONFIG, ~/.kube/config)"
    )
    kube.add_argument("--context", help="kubeconfig context")
    kube.add_argument("--namespace", help="namespace of the Volt cluster (default: this pod's)")
    kube.add_argument("--release", help="Helm release name of the Volt cluster")
    check.set_defaults(func=cmd_check)

    demo = commands.add_parser(
        "demo",
        help="run the whole check against a local responder (no cluster, no root)",
        description="Start the responder on 127.0.0.1 and ::1 (ephemeral port) and run the "
        "check against it over loopback.",
    )
    _add_probe_options(demo)
    demo.set_defaults(func=cmd_demo, mode="connect")

    serve = commands.add_parser(
        "serve",
        help="answer on the DR port like VoltDB's DR listener would",
        description="Listen on the DR port in both families and greet each connection with "
        "one JSON line (protocol v1; echo on request, bounded). Stands in for VoltDB before "
        "XDCR is enabled so that `check` can test the data path.",
    )
    serve.add_argument(
        "--port",
        type=int_range("--port", 0, 65535),
        default=DEFAULT_DR_PORT,
        help=f"port to listen on (default {DEFAULT_DR_PORT}; 0 picks one)",
    )
    serve.add_argument(
        "--bind",
        action="append",
        default=[],
        metavar="ADDR",
        help="address to listen on, repeatable (default: all, both families)",
    )
    serve.add_argument(
        "--name",
        help="a name to put in every greeting, e.g. the cluster's (Kubernetes has no "
        "cluster name); the pod name comes from POD_NAME or HOSTNAME",
    )
    serve.set_defaults(func=cmd_serve)

    explain = commands.add_parser("explain", help="explain a finding id (VPxxx), or list them")
    explain.add_argument("check_id", nargs="?", metavar="VPxxx")
    explain.add_argument(
        "--markdown",
        action="store_true",
        help="print the table of checks as Markdown (as in the README)",
    )
    explain.set_defaults(func=cmd_explain)

    from probe import job, manifest

    manifest.add_parser(commands)
    job.add_parser(commands)
    return parser


def cmd_check(args: argparse.Namespace) -> int:
    from probe.datapath.types import DataPathOptions, PathQuality
    from probe.options import CheckOptions, KubeOptions, Mode
    from probe.targets import parse_peers

    # a cluster that cannot be reached is a finding; a kubeconfig path that does not
    # exist is a typo in the command
    if args.kubeconfig and not args.no_kube and not os.path.isfile(args.kubeconfig):
        raise UsageError(f"--kubeconfig {args.kubeconfig}: no such file")
    if args.pcap and args.mode == "connect":
        raise UsageError("--pcap records raw SYN probes: use it with --mode raw or auto")
    if args.data_path == "off" and (args.responder or args.path_quality == "on"):
        raise UsageError(
            "--responder and --path-quality on read the data path: drop --data-path off"
        )
    options = CheckOptions(
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
        kube=KubeOptions(
            enabled=not args.no_kube,
            kubeconfig=args.kubeconfig,
            context=args.context,
            namespace=args.namespace,
            release=args.release,
        ),
        data_path=DataPathOptions(
            enabled=args.data_path == "on",
            responder=args.responder,
            path_quality=PathQuality(args.path_quality),
            samples=args.samples,
        ),
    )
    return run_and_report(options, args)


def run_and_report(options: CheckOptions, args: argparse.Namespace) -> int:
    """Run the pipeline, write every requested output (partial or not), pick the exit code."""
    from probe.pipeline import PartialRun, build_report, execute
    from probe.render import render, render_json

    run = PartialRun(options)
    error: VoltprobeError | None = None

    def progress(message: str) -> None:
        if args.verbose:
            print(f"voltprobe: {message}", file=sys.stderr, flush=True)

    try:
        execute(run, progress)
    except VoltprobeError as exc:
        error = exc
    except KeyboardInterrupt:
        error = Interrupted()
    started = time.perf_counter()
    report = build_report(run, error)
    # "render": checks, recommendation and report assembly (a report cannot time its
    # own formatting, which follows)
    timings = {**report.timings, "render": (time.perf_counter() - started) * 1000}
    report = dataclasses.replace(report, timings=timings)
    # the files first: a ticket's report must not depend on stdout still being open
    unwritten = _write_files(report, args)
    sys.stdout.write(render(report, args.output, args.verbose))
    if getattr(args, "log_json", False):
        sys.stdout.write(f"{REPORT_BEGIN}\n{render_json(report)}{REPORT_END}\n")
    sys.stdout.flush()
    for problem in unwritten:
        print(f"voltprobe: error: {problem}", file=sys.stderr)
    if error is not None:
        print(f"voltprobe: error: {error}", file=sys.stderr)
    if unwritten and error is None:
        return CannotRunError.exit_code
    return report.exit_code


def _write_files(report: Report, args: argparse.Namespace) -> list[str]:
    """Write the requested files; returns what could not be written (each is tried)."""
    from probe.render import render

    outputs: list[tuple[str | None, Callable[[], str]]] = [
        (getattr(args, "report_file", None), lambda: render(report, "json")),
        (getattr(args, "values_out", None), lambda: render(report, "values")),
        (getattr(args, "termination_log", None), lambda: _termination_message(report.verdict)),
    ]
    unwritten = []
    for path, content in outputs:
        if not path:
            continue
        try:
            with open(path, "w", encoding="utf-8") as out:
                out.write(content())
        except OSError as exc:
            unwritten.append(f"cannot write {path}: {exc.strerror}")
    return unwritten


def _termination_message(verdict: str) -> str:
    """The verdict cut to what Kubernetes keeps of a termination message (bytes, not chars)."""
    return verdict.encode()[:TERMINATION_LOG_LIMIT].decode(errors="ignore") + "\n"


def cmd_demo(args: argparse.Namespace) -> int:
    from probe.demo import demo_options, running_responder

    with running_responder() as (port, note):
        print(
            f"voltprobe demo: responder on 127.0.0.1:{port} and [::1]:{port}{note}",
            file=sys.stderr,
            flush=True,
        )
        return run_and_report(demo_options(port, args), args)


def cmd_serve(args: argparse.Namespace) -> int:
    from probe.serve import run_serve

    return run_serve(args.bind, args.port, args.name)


def cmd_explain(args: argparse.Namespace) -> int:
    from probe.checks import DEFAULT_REGISTRY

    if args.markdown:
        from probe.render.markdown import checks_table

        print(checks_table(DEFAULT_REGISTRY), end="")
        return 0
    if not args.check_id:
        for spec in DEFAULT_REGISTRY.specs():
            print(f"{spec.id}  {spec.severity.value:<7}  {spec.title}")
        return 0
    found = DEFAULT_REGISTRY.get(args.check_id)
    if found is None:
        raise UsageError(f"unknown check id {args.check_id!r}: `voltprobe explain` lists them")
    print(f"{found.id}: {found.title} (severity: {found.severity.value})\n")
    print(found.explain + "\n")
    print(f"Remedy: {found.remedy}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help(sys.stderr)
            return 2
        return int(args.func(args))
    except VoltprobeError as exc:
        print(f"voltprobe: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("voltprobe: interrupted", file=sys.stderr)
        return Interrupted.exit_code
    except BrokenPipeError:
        # the reader went away (`| head`): the report could not be delivered
        return CannotRunError.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
