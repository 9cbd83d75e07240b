"""Run one function on a thread and collect its result later.

What concurrent.futures does for a single call, without its import (~5 ms with
logging and queue, a fair share of a --quick run): the pipeline overlaps the
inventory with DNS, the raw path builds its SYN templates while the rest goes on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Background(Generic[T]):
    """`work()` running on a daemon thread (Ctrl-C never waits for it)."""

    def __init__(self, work: Callable[[], T], name: str) -> None:
        self._work = work
        self._value: T | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._value = self._work()
        except BaseException as exc:  # noqa: BLE001 (re-raised by result())
            self._error = exc

    def done(self) -> bool:
        return not self._thread.is_alive()

    def wait(self, timeout: float | None) -> bool:
        """Wait up to `timeout` seconds (None: for ever); True once `work()` has ended."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def result(self) -> T:
        """Wait for `work()`; its return value, or its exception raised here."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]
