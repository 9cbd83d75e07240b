"""The one seam every prober implements, and a function-backed fake for tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from probe.model import Endpoint, Method, ProbeResult


class Prober(Protocol):
    """Probe every endpoint once (with its own retries) and return one result each."""

    method: Method

    def probe(self, endpoints: Sequence[Endpoint]) -> list[ProbeResult]: ...


class FakeProber:
    """A prober backed by a function, for pipeline tests without sockets."""

    def __init__(self, answer: Callable[[Endpoint], ProbeResult], method: Method = Method.CONNECT):
        self.method = method
        self._answer = answer

    def probe(self, endpoints: Sequence[Endpoint]) -> list[ProbeResult]:
        return [self._answer(endpoint) for endpoint in endpoints]
