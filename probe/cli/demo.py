"""`voltprobe demo`: the whole check against a responder it starts on loopback."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from probe.cli.check import add_probe_options, output_options
from probe.options import CheckOptions, KubeOptions, Mode


def add_parser(commands: Any) -> None:
    demo = commands.add_parser(
        "demo",
        help="run the whole check against a local responder (no cluster, no root)",
        description="Start the responder on 127.0.0.1 and ::1 (ephemeral port) and run the "
        "check against it over loopback.",
    )
    add_probe_options(demo, mode=Mode.CONNECT)
    demo.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from probe.cli.deliver import run_and_deliver
    from probe.demo import running_responder
    from probe.targets import parse_peers

    with running_responder() as (port, note):
        print(
            f"voltprobe demo: responder on 127.0.0.1:{port} and [::1]:{port}{note}",
            file=sys.stderr,
            flush=True,
        )
        options = CheckOptions(
            targets=parse_peers([f"127.0.0.1:{port},[::1]:{port}"]),
            timeout=args.timeout,
            mode=Mode(args.mode),
            kube=KubeOptions(enabled=False),
        )
        return run_and_deliver(options, output_options(args))
