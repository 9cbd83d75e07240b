"""`Facts`: the evidence one run gathered, frozen, for the family choice, the checks and
the recommendation (all pure functions of it)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from probe.inventory.types import Inventory
from probe.model import DnsAnswer, DnsOutcome, Family, ProbeResult, Target
from probe.options import CheckOptions

if TYPE_CHECKING:
    from probe.datapath.types import DataPath


@dataclass(frozen=True)
class Facts:
    targets: tuple[Target, ...]
    dns: tuple[DnsAnswer, ...]
    probes: tuple[ProbeResult, ...]
    inventory: Inventory
    options: CheckOptions
    raw_note: str = ""  # why the raw path was not used, when it was not
    data_path: tuple[DataPath, ...] = ()  # what open endpoints did after the handshake

    @cached_property
    def data_path_by_endpoint(self) -> dict[tuple[str, int], DataPath]:
        return {(d.address, d.port): d for d in self.data_path}

    @cached_property
    def _answers(self) -> dict[tuple[str, Family], DnsAnswer]:
        return {(a.target, a.family): a for a in self.dns}

    def answer(self, target: Target, family: Family) -> DnsAnswer | None:
        return self._answers.get((target.text, family))

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

    @cached_property
    def _probed(self) -> dict[Family, list[ProbeResult]]:
        probed: dict[Family, list[ProbeResult]] = {f: [] for f in Family}
        for row in self.probes:
            if row.address is not None:
                probed[row.family].append(row)
        return probed

    def probed_rows(self, family: Family) -> list[ProbeResult]:
        """Rows of `family` that had an address to probe."""
        return list(self._probed[family])
