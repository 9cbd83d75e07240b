"""`voltprobe manifest`: render the in-cluster Job manifests (placeholder until issue 7)."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("manifest", help="render the in-cluster Job manifests")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from probe.errors import CannotRunError

    raise CannotRunError("voltprobe manifest is not implemented yet")
