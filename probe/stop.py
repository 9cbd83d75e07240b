"""When a run must stop: its deadline, a signal, Ctrl-C. One `RunStop` per run.

The pipeline owns the RunStop (`probe.pipeline.run_check`) and makes it the current
one for the run's duration; the long-running parts (the probers' loops, the
Kubernetes calls) ask `current()` whether to stop and how long they may still take.
A plain attribute, not a lock or an Event, holds the reason: a signal handler sets
it, and a handler must not take a lock the interrupted code may be holding.

The default deadline (`default_deadline`) is a sum of the stages' own bounds:

    deadline = 5 + max(2 x dns_timeout, system_dns_wait, KUBE_CALLS x api_timeout)
                 + timeout x (2 + ceil(PROBES_PER_TARGET x targets / concurrency))

5 s for start-up and the report; DNS and the inventory run side by side (DNS may wait
for glibc's own retries, `system_dns_wait`, when a name answers one record type only); the probes
of one target (both families, a few addresses each) take at most two timeouts (a
retry) per round of `concurrency` connections. A run that needs longer gets
`--deadline`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from probe.errors import VoltprobeError

STARTUP_AND_REPORT = 5.0  # seconds: interpreter start-up, imports, writing the report
KUBE_CALLS = 4  # API calls' total timeouts the inventory may use (it reads in pages)
PROBES_PER_TARGET = 8  # addresses one peer name usually has, both families
MAX_DEADLINE = 3600.0  # seconds: an hour is longer than any pre-flight check


class RunStopped(VoltprobeError):
    """The run stopped before its end: the deadline, SIGTERM (exit 3) or Ctrl-C (130)."""

    def __init__(self, reason: str, exit_code: int = 3) -> None:
        super().__init__(reason)
        self.exit_code = exit_code


def default_deadline(
    targets: int,
    timeout: float,
    dns_timeout: float,
    api_timeout: float,
    concurrency: int,
    system_dns_wait: float = 0.0,
) -> float:
    """Seconds the whole run may take when --deadline is not given (formula above)."""
    waiting = max(2 * dns_timeout, system_dns_wait, KUBE_CALLS * api_timeout)
    return min(MAX_DEADLINE, waiting + probe_reserve(targets, timeout, concurrency))


def probe_reserve(targets: int, timeout: float, concurrency: int) -> float:
    """Seconds kept for probing and the report: a slow Kubernetes API may use the run's
    time only up to the deadline minus this, then the check probes without it."""
    rounds = math.ceil(PROBES_PER_TARGET * max(1, targets) / max(1, concurrency))
    return STARTUP_AND_REPORT + timeout * (2 + rounds)


@dataclass
class RunStop:
    """A run's deadline (time.monotonic() seconds, None: none) and why it stopped."""

    deadline: float | None = None
    seconds: float | None = None  # the deadline as given, for the message
    reason: str | None = None  # set once: the first reason wins
    exit_code: int = 3

    @classmethod
    def after(cls, seconds: float | None) -> RunStop:
        if seconds is None:
            return cls()
        return cls(time.monotonic() + seconds, seconds)

    def request(self, reason: str, exit_code: int = 3) -> None:
        """Ask the run to stop (safe from a signal handler: plain assignments only)."""
        if self.reason is None:
            self.exit_code = exit_code
            self.reason = reason

    def stopped(self) -> bool:
        """True once a stop was requested or the deadline passed."""
        if self.reason is None and self.deadline is not None and time.monotonic() >= self.deadline:
            self.request(f"the run's deadline of {self.seconds:g} s passed (--deadline)")
        return self.reason is not None

    def remaining(self) -> float | None:
        """Seconds left before the deadline (0 once stopped); None: no deadline."""
        if self.reason is not None:
            return 0.0
        if self.deadline is None:
            return None
        return max(0.0, self.deadline - time.monotonic())

    def bound(self, seconds: float) -> float:
        """`seconds`, cut to what is left of the run (never below 0)."""
        left = self.remaining()
        return seconds if left is None else min(seconds, left)

    def error(self) -> RunStopped:
        return RunStopped(self.reason or "stopped", self.exit_code)


_current = RunStop()


def current() -> RunStop:
    """The running check's RunStop; one that never stops outside a run."""
    return _current


def activate(stop: RunStop | None) -> RunStop:
    """Make `stop` the current RunStop (None: none); returns the previous one."""
    global _current
    previous = _current
    _current = stop or RunStop()
    return previous
