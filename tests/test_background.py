"""Background: a function's result or its exception, collected on another thread."""

from __future__ import annotations

import threading

import pytest

from probe.background import Background


def test_the_result_comes_from_another_thread() -> None:
    names: list[str] = []

    def work() -> int:
        names.append(threading.current_thread().name)
        return 42

    assert Background(work, "worker").result() == 42
    assert names == ["worker"]


def test_an_exception_is_raised_by_result() -> None:
    def work() -> int:
        raise ValueError("boom")

    running = Background(work, "worker")
    with pytest.raises(ValueError, match="boom"):
        running.result()


def test_result_waits_for_the_work() -> None:
    release = threading.Event()

    def work() -> str:
        release.wait(5)
        return "done"

    running = Background(work, "worker")
    threading.Timer(0.05, release.set).start()
    assert running.result() == "done"
    assert release.is_set()
