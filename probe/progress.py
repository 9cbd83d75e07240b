"""Live progress on stderr: what the run is waiting on, and for how long.

On a terminal, the current stage's line is redrawn every second once it has lasted a
second (`voltprobe: probing 40 address(es) on the DR port... 3 s`), as `cilium
connectivity test` does. Elsewhere (a pipe, a Job's log) each stage is one line, and only
with -v: logs stay quiet unless asked.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

TICK = 1.0  # seconds between redraws; stages shorter than this never show a timer


class Progress:
    """Call with a message when a stage starts; `close()` when the run is done."""

    def __init__(self, verbose: bool, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        # stderr may be closed (2>&-): then there is nowhere to say anything
        self.live = self.stream is not None and self.stream.isatty()
        self.enabled = self.stream is not None and (verbose or self.live)
        self._message = ""
        self._started = 0.0
        self._drawn = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def __call__(self, message: str) -> None:
        if not self.enabled:
            return
        with self._lock:
            self._finish_line()
            self._message, self._started = message, time.monotonic()
            if not self.live:
                self.stream.write(f"voltprobe: {message}\n")
                self.stream.flush()
                return
        if self._ticker is None:
            self._ticker = threading.Thread(target=self._tick, name="progress", daemon=True)
            self._ticker.start()

    def _tick(self) -> None:
        while not self._stop.wait(TICK):
            with self._lock:
                elapsed = time.monotonic() - self._started
                if self._message and elapsed >= TICK:
                    self.stream.write(f"\r\033[Kvoltprobe: {self._message}... {elapsed:.0f} s")
                    self.stream.flush()
                    self._drawn = True

    def _finish_line(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self._drawn = False

    def close(self) -> None:
        """Stop the timer and erase its line: the report that follows starts clean."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(2 * TICK)
        with self._lock:
            if self._drawn:
                self.stream.write("\r\033[K")
                self.stream.flush()
                self._drawn = False
            self._message = ""
