"""The one seam every prober implements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from probe.model import Endpoint, Method, ProbeResult


class Prober(Protocol):
    """Probe every endpoint once (with its own retries) and return one result each."""

    method: Method

    def probe(self, endpoints: Sequence[Endpoint]) -> list[ProbeResult]: ...
