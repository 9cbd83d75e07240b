"""Which prober probes which endpoint: raw SYN when allowed, connect() otherwise."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from probe.errors import CannotRunError
from probe.inventory.types import Inventory
from probe.model import Endpoint
from probe.options import CheckOptions, Mode
from probe.probers.base import Prober
from probe.probers.connect import ConnectProber


@dataclass(frozen=True)
class Plan:
    """Endpoints grouped by the prober that will probe them, and why raw was not used."""

    batches: tuple[tuple[Prober, tuple[Endpoint, ...]], ...]
    raw_note: str = ""


def plan_probes(options: CheckOptions, inventory: Inventory, endpoints: Sequence[Endpoint]) -> Plan:
    if options.mode is Mode.RAW:
        raise CannotRunError("raw probing is not available yet: use --mode connect")
    note = "" if options.mode is Mode.CONNECT else "raw SYN probing is not available yet"
    prober = ConnectProber(options.timeout, options.concurrency)
    return Plan(((prober, tuple(endpoints)),), note)
