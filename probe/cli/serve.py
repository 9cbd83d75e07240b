"""`voltprobe serve`: the stand-in DR listener."""

from __future__ import annotations

import argparse
from typing import Any

from probe.cli.args import int_range
from probe.model import DEFAULT_DR_PORT


def add_parser(commands: Any) -> None:
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
    serve.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from probe.serve import run_serve

    return run_serve(args.bind, args.port, args.name)
