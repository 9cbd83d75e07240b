"""When the raw prober sends, retries and stops. No I/O: the caller passes the clock.

All probes are in flight together, paced by a token bucket. A probe still silent
halfway through its window is sent once more, so the retry is answered inside
the window and the batch still ends one window after its last first send:
wall time = send phase + window, not N windows.

The window is the timeout, or with `quick` an RTT-adaptive one once anything has
answered: max(floor, factor x the largest RTT seen), never above the timeout.
"""

from __future__ import annotations

from collections import deque

QUICK_FLOOR = 0.100  # seconds
QUICK_FACTOR = 4.0


class TokenBucket:
    """`rate` tokens per second, at most `burst` saved up."""

    def __init__(self, rate: float, burst: int, now: float):
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._stamp = now

    def available(self, now: float) -> int:
        """Whole tokens available at `now` (refills, does not take)."""
        self._tokens = min(float(self.burst), self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        return int(self._tokens)

    def take(self, count: int = 1) -> None:
        self._tokens -= count

    def wait(self, now: float) -> float:
        """Seconds until one whole token is available."""
        self.available(now)  # refill
        return max(0.0, (1.0 - self._tokens) / self.rate)


class Schedule:
    """Which probe to send next, when to retry the silent ones, when the batch is done.

    Probes are numbered 0..count-1 and first sent in that order.
    """

    def __init__(
        self,
        count: int,
        timeout: float,
        quick: bool = False,
        floor: float = QUICK_FLOOR,
        factor: float = QUICK_FACTOR,
    ):
        self.count = count
        self.timeout = timeout
        self.quick = quick
        self.floor = floor
        self.factor = factor
        self.first_sent: list[float] = []  # index -> time of the first send
        self.last_sent: list[float] = []
        self.answered = [False] * count
        self.retried = [False] * count
        self.max_rtt = 0.0
        self._unanswered = count
        self._retry_queue: deque[int] = deque()  # in first-send order
        self._tail = count - 1  # no probe after this one is unanswered

    def window(self) -> float:
        """How long a probe may stay silent before it counts as filtered."""
        if not self.quick or self.max_rtt == 0.0:
            return self.timeout
        return min(self.timeout, max(self.floor, self.factor * self.max_rtt))

    def next_due(self, now: float) -> int | None:
        """The probe to send now (a due retry first), or None. Does not mark it sent."""
        window = self.window()
        queue = self._retry_queue
        while queue:
            index = queue[0]
            first = self.first_sent[index]
            if self.answered[index] or now >= first + window:
                queue.popleft()  # answered, or too late for the retry to help
                continue
            if now >= first + window / 2:
                return index
            break
        if len(self.first_sent) < self.count:
            return len(self.first_sent)
        return None

    def sent(self, index: int, now: float) -> None:
        if index == len(self.first_sent):
            self.first_sent.append(now)
            self.last_sent.append(now)
            self._retry_queue.append(index)
            return
        self.last_sent[index] = now
        self.retried[index] = True
        if self._retry_queue and self._retry_queue[0] == index:
            self._retry_queue.popleft()

    def settled(self, index: int, now: float) -> None:
        """The probe is finished without an answer and without an RTT: nothing could be
        sent (no route, sendto() refused). Counts as its first send if it was one."""
        if index == len(self.first_sent):
            self.first_sent.append(now)
            self.last_sent.append(now)
        if not self.answered[index]:
            self.answered[index] = True
            self._unanswered -= 1

    def answer(self, index: int, now: float) -> float | None:
        """Record the first answer of a probe; returns its RTT in seconds (None if repeated)."""
        if self.answered[index]:
            return None
        self.answered[index] = True
        self._unanswered -= 1
        rtt = now - self.last_sent[index]
        if not self.retried[index]:  # Karn: a retried probe's RTT is ambiguous
            self.max_rtt = max(self.max_rtt, rtt)
        return rtt

    def pending_first_sends(self) -> bool:
        return len(self.first_sent) < self.count

    def deadline(self) -> float | None:
        """When the last unanswered probe's window closes (None while first sends remain)."""
        if self.pending_first_sends():
            return None
        while self._tail >= 0 and self.answered[self._tail]:
            self._tail -= 1
        if self._tail < 0:
            return self.first_sent[-1] if self.first_sent else 0.0
        return self.first_sent[self._tail] + self.window()

    def done(self, now: float) -> bool:
        if self._unanswered == 0:
            return True
        deadline = self.deadline()
        return deadline is not None and now >= deadline

    def next_event(self, now: float) -> float:
        """Seconds until a retry falls due or the batch ends (0 when one is due now)."""
        window = self.window()
        times = []
        for index in self._retry_queue:
            if not self.answered[index]:
                times.append(self.first_sent[index] + window / 2)
                break
        deadline = self.deadline()
        if deadline is not None:
            times.append(deadline)
        if not times:
            return window
        return max(0.0, min(times) - now)
