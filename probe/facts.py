"""`Facts`: everything gathered in one run, frozen, for the pure checks and the recommendation."""

from __future__ import annotations

from dataclasses import dataclass

from probe.inventory.types import Inventory
from probe.model import DnsAnswer, DnsOutcome, Family, ProbeResult, Target
from probe.options import CheckOptions


@dataclass(frozen=True)
class Facts:
    targets: tuple[Target, ...]
    dns: tuple[DnsAnswer, ...]
    probes: tuple[ProbeResult, ...]
    inventory: Inventory
    options: CheckOptions
    raw_note: str = ""  # why the raw path was not used, when it was not

    def answer(self, target: Target, family: Family) -> DnsAnswer | None:
        for answer in self.dns:
            if answer.target == target.text and answer.family is family:
                return answer
        return None

    def addresses(self, target: Target, family: Family) -> tuple[str, ...]:
        """The addresses `target` has in `family` (its own, for an IP literal)."""
        if target.is_literal:
            return (target.host,) if target.literal_family is family else ()
        answer = self.answer(target, family)
        return answer.addresses if answer and answer.outcome is DnsOutcome.OK else ()

    def rows(self, family: Family | None = None, target: str | None = None) -> list[ProbeResult]:
        return [
            p
            for p in self.probes
            if (family is None or p.family is family) and (target is None or p.target == target)
        ]

    def probed_rows(self, family: Family) -> list[ProbeResult]:
        """Rows of `family` that had an address to probe."""
        return [p for p in self.probes if p.family is family and p.address is not None]
