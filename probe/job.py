"""`voltprobe job`: run the check as a Job in a cluster (placeholder until issue 7)."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("job", help="run voltprobe as a Job in a cluster")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from probe.errors import CannotRunError

    raise CannotRunError("voltprobe job is not implemented yet")
