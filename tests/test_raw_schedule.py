"""Pacing and timing of a raw batch, with a hand-driven clock (no sockets)."""

from __future__ import annotations

import pytest

from probe.probers.rawschedule import Schedule, TokenBucket


def test_bucket_allows_a_burst_then_the_rate() -> None:
    bucket = TokenBucket(rate=1000, burst=10, now=0.0)
    assert bucket.available(0.0) == 10
    bucket.take(10)
    assert bucket.available(0.0) == 0
    assert bucket.available(0.0055) == 5  # 5.5 ms at 1000/s
    bucket.take(5)
    assert bucket.available(1.0) == 10  # never more than the burst
    assert bucket.wait(1.0) == 0.0


def test_bucket_says_how_long_to_wait() -> None:
    bucket = TokenBucket(rate=100, burst=1, now=0.0)
    bucket.take(1)
    assert bucket.wait(0.0) == pytest.approx(0.01)
    assert bucket.wait(0.004) == pytest.approx(0.006)


def test_bucket_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        TokenBucket(rate=0, burst=1, now=0.0)


def send_all(schedule: Schedule, now: float) -> list[int]:
    sent = []
    while (probe := schedule.next_due(now)) is not None:
        schedule.sent(probe, now)
        sent.append(probe)
    return sent


def test_probes_go_out_in_order_and_silent_ones_are_retried_once_inside_the_window() -> None:
    schedule = Schedule(3, timeout=1.0)
    assert send_all(schedule, 0.0) == [0, 1, 2]
    assert schedule.answer(1, 0.001) == pytest.approx(0.001)
    assert schedule.next_due(0.49) is None
    assert send_all(schedule, 0.5) == [0, 2]  # the retry, halfway through the window
    assert send_all(schedule, 0.9) == []  # only one retry
    assert not schedule.done(0.99)
    assert schedule.done(1.0)  # one window after the last first send, not two


def test_wall_time_is_send_phase_plus_one_window() -> None:
    schedule = Schedule(2, timeout=1.0)
    schedule.sent(schedule.next_due(0.0) or 0, 0.0)
    schedule.sent(1, 0.3)  # a slow send phase
    assert schedule.deadline() == pytest.approx(1.3)
    schedule.answer(1, 0.31)
    assert schedule.deadline() == pytest.approx(1.0)  # the last unanswered probe decides


def test_done_as_soon_as_everything_answered() -> None:
    schedule = Schedule(2, timeout=5.0)
    send_all(schedule, 0.0)
    schedule.answer(0, 0.001)
    schedule.answer(1, 0.002)
    assert schedule.done(0.002)


def test_no_late_retry_after_the_window() -> None:
    schedule = Schedule(1, timeout=1.0)
    send_all(schedule, 0.0)
    assert schedule.next_due(1.2) is None  # a sender that woke up late does not retry


def test_quick_window_adapts_to_the_largest_rtt() -> None:
    schedule = Schedule(3, timeout=1.0, quick=True)
    send_all(schedule, 0.0)
    assert schedule.window() == 1.0  # nothing answered yet: the timeout
    schedule.answer(0, 0.002)
    assert schedule.window() == pytest.approx(0.1)  # floor: max(100 ms, 4 x 2 ms)
    schedule.answer(1, 0.040)
    assert schedule.window() == pytest.approx(0.16)  # 4 x 40 ms
    assert schedule.done(0.16)


def test_quick_window_never_exceeds_the_timeout() -> None:
    schedule = Schedule(2, timeout=0.5, quick=True)
    send_all(schedule, 0.0)
    schedule.answer(0, 0.3)
    assert schedule.window() == 0.5


def test_a_retried_probe_does_not_teach_the_rtt() -> None:
    schedule = Schedule(2, timeout=1.0, quick=True)
    send_all(schedule, 0.0)
    send_all(schedule, 0.5)  # both retried
    schedule.answer(0, 0.6)
    assert schedule.max_rtt == 0.0  # Karn: which send did it answer?


def test_next_event_points_at_the_retry_then_the_deadline() -> None:
    schedule = Schedule(1, timeout=1.0)
    send_all(schedule, 0.0)
    assert schedule.next_event(0.1) == pytest.approx(0.4)
    send_all(schedule, 0.5)
    assert schedule.next_event(0.6) == pytest.approx(0.4)


def test_a_settled_probe_counts_as_sent_and_done_without_an_rtt() -> None:
    schedule = Schedule(2, timeout=1.0, quick=True)
    schedule.settled(0, 0.5)  # no route: nothing was sent
    assert schedule.next_due(0.5) == 1
    schedule.sent(1, 0.5)
    assert schedule.answer(1, 0.501) == pytest.approx(0.001)
    assert schedule.done(0.501)
    assert schedule.max_rtt == pytest.approx(0.001)
