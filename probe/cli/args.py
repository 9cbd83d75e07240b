"""Argument types and option groups shared by several commands (defined once).

Every default shown here comes from `probe.options.CHECK_DEFAULTS` or
`probe.k8sjob.defaults`; argparse never holds a default of its own.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Any, NoReturn

from probe.errors import UsageError
from probe.options import CHECK_DEFAULTS, KubeOptions, Mode

MODES = tuple(mode.value for mode in Mode)


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


def seconds(name: str, low: float, high: float) -> Callable[[str], float]:
    """bounded_float that also takes kubectl's spelling: 5s, 2m, 500ms."""
    number = bounded_float(name, low, high)
    units = (("ms", 0.001), ("s", 1.0), ("m", 60.0))

    def parse(text: str) -> float:
        for suffix, scale in units:
            if text.endswith(suffix) and text[: -len(suffix)].replace(".", "", 1).isdigit():
                return number(str(float(text[: -len(suffix)]) * scale))
        return number(text)

    return parse


def int_range(name: str, low: int, high: int) -> Callable[[str], int]:
    """A parser for a whole number from low to high inclusive."""

    def parse(text: str) -> int:
        if not (text.isascii() and text.strip().isdigit()):
            raise argparse.ArgumentTypeError(f"{name} must be a whole number, not {text!r}")
        value = int(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{name} must be from {low} to {high}")
        return value

    return parse


def add_peer_options(parser: Any, required: bool) -> None:
    """--peer and --port: the peer's DR endpoints, as `check`, `job run` and `manifest` take them."""
    port = CHECK_DEFAULTS.port
    parser.add_argument(
        "--peer",
        action="append",
        default=[],
        metavar="HOST[:PORT][,...]",
        required=required,
        help="peer DR endpoint(s): host, host:port, [v6]:port, a bare IPv6 address, or the "
        "value of cluster.config.deployment.dr.connection.source verbatim (\\, accepted); "
        "repeatable",
    )
    parser.add_argument(
        "--port",
        type=int_range("--port", 1, 65535),
        default=port,
        help=f"DR port for peers given without one (default {port})",
    )


def add_per_pod_option(parser: Any) -> None:
    parser.add_argument(
        "--per-pod",
        action="store_true",
        help="recommend cluster.serviceSpec.perpod.dr.ipFamilies (per-pod DR "
        "Services); detected automatically when the cluster has them",
    )


def add_timeout_option(parser: Any) -> None:
    timeout = CHECK_DEFAULTS.timeout
    parser.add_argument(
        "--timeout",
        type=bounded_float("--timeout", 0, 60),
        default=timeout,
        help=f"seconds to wait for each probe's answer (0 < T <= 60, default {timeout:g})",
    )


def add_report_options(
    parser: Any,
    formats: tuple[str, ...],
    default: str,
    output_help: str | None = None,
    verbose_help: str | None = (
        "progress on stderr; every check, info findings, probe rows and timings in the table"
    ),
    color: bool = True,
) -> None:
    """-o, -v and --no-color: the report's format on stdout, how much of it, and its
    colour. `output_help` says what the command's own formats are (default: check's
    table, wide, short, values); a command whose output has no verbose form or no colour
    passes `verbose_help=None` or `color=False` and gets no option that would do nothing."""
    described = output_help or (
        "table is a checklist that fits 80 columns, wide every detail, short one line per "
        "problem, values only the Helm snippet"
    )
    parser.add_argument(
        "-o",
        "--output",
        choices=formats,
        default=default,
        help=f"report format on stdout (default {default}): {described}",
    )
    if verbose_help is not None:
        parser.add_argument("-v", "--verbose", action="store_true", help=verbose_help)
    else:
        parser.set_defaults(verbose=False)
    if color:
        parser.add_argument(
            "--no-color",
            action="store_true",
            help="no colour in the table (also when NO_COLOR is set or stdout is not a terminal)",
        )


def add_fail_on_option(parser: Any) -> None:
    parser.add_argument(
        "--fail-on",
        choices=("warning", "error"),
        help="exit 4 when the check passes but has a finding of this severity or worse "
        "(for CI gates; off by default)",
    )


def add_cluster_options(parser: Any, namespace_help: str) -> None:
    """--kubeconfig, --context, -n/--namespace, --as, --as-group and --request-timeout,
    as kubectl spells them (`kube_options` reads them back)."""
    parser.add_argument(
        "--kubeconfig", help="kubeconfig file (default: in-cluster, KUBECONFIG, ~/.kube/config)"
    )
    parser.add_argument("--context", help="kubeconfig context")
    parser.add_argument("-n", "--namespace", help=namespace_help)
    add_identity_options(parser)


def add_identity_options(parser: Any) -> None:
    """--as, --as-group and --request-timeout: who asks the API, and how long to wait."""
    parser.add_argument(
        "--as", dest="as_user", metavar="USER", help="impersonate this user, as kubectl --as"
    )
    parser.add_argument(
        "--as-group", metavar="GROUP", help="impersonate this group, as kubectl --as-group"
    )
    timeout = KubeOptions().request_timeout
    parser.add_argument(
        "--request-timeout",
        type=seconds("--request-timeout", 0, 300),
        default=None,  # KubeOptions' when not given
        help=f"seconds per Kubernetes API call (default {timeout:g})",
    )


def kube_options(args: Any, enabled: bool = True) -> KubeOptions:
    """The options `add_cluster_options` defined, as one frozen value."""
    return KubeOptions(
        enabled=enabled,
        kubeconfig=args.kubeconfig,
        context=args.context,
        namespace=args.namespace,
        release=getattr(args, "release", None),
        request_timeout=args.request_timeout or KubeOptions().request_timeout,
        as_user=args.as_user,
        as_group=args.as_group,
        dry_run_service=getattr(args, "dry_run_service", False),
    )
