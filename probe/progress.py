"""Live progress on stderr: what the run is waiting on, and for how long.

On a terminal, the current stage's line is redrawn every second once it has lasted a
second (`voltprobe: probing 40 address(es) on the DR port: 12 of 40 answered... 3 s`),
as `cilium connectivity test` does; it is cut to the terminal's width so the redraw
never wraps. Elsewhere (a pipe, a Job's log) each stage is one line, and only with -v:
logs stay quiet unless asked. A stage given a `Tally` (n of m answered) ends, with -v,
on one more line with the final count and the stage's time.

`keep=True` (`job run`): every message is a line of the log, also off a terminal; on a
terminal the last one gets its elapsed time until the next (`pod ...: Pending, 4 s`).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Protocol, TextIO

TICK = 1.0  # seconds between redraws; stages shorter than this never show a timer
WIDTH = 80  # columns when the terminal does not say


class Tally:
    """How many of `total` items of a stage are done (`n of m answered`). Thread-safe:
    the probers add from their own threads, the Progress ticker reads. Costs one locked
    increment per item when nobody draws it."""

    def __init__(self, total: int, what: str = "answered") -> None:
        self.total = total
        self.what = what
        self._done = 0
        self._lock = threading.Lock()

    def add(self, count: int = 1) -> None:
        with self._lock:
            self._done += count

    @property
    def done(self) -> int:
        with self._lock:
            return self._done

    def __str__(self) -> str:
        return f"{self.done} of {self.total} {self.what}"


class Say(Protocol):
    """What a stage is given to say what it waits on: a message when it starts, and the
    Tally it counts with, if it counts (`Progress` is one; a no-op another)."""

    def __call__(self, message: str, tally: Tally | None = None) -> None: ...


class Progress:
    """Call with a message (and the stage's Tally, if it counts) when a stage starts;
    `close()` when the run is done."""

    def __init__(
        self,
        verbose: bool,
        stream: TextIO | None = None,
        prefix: str = "voltprobe",
        keep: bool = False,
    ) -> None:
        self.stream = stream or sys.stderr
        # stderr may be closed (2>&-): then there is nowhere to say anything
        self.live = self.stream is not None and self.stream.isatty()
        self.enabled = self.stream is not None and (verbose or self.live or keep)
        self.prefix = prefix
        self.keep = keep
        self._message = ""
        self._tally: Tally | None = None
        self._started = 0.0
        self._drawn = False  # the cursor is on a line this object drew (no newline yet)
        self._timed = False  # the current stage's line may be redrawn with its time
        self._last = ""  # the line drawn last
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def __call__(self, message: str, tally: Tally | None = None) -> None:
        if not self.enabled:
            return
        with self._lock:
            self._finish_line()
            self._message, self._tally, self._started = message, tally, time.monotonic()
            self._last = ""
            self._timed = self.live and not self._stop.is_set()
            if self.keep and self._timed:
                text = f"{self.prefix}: {message}"
                # a line that would wrap cannot be redrawn in place: it stays untimed
                self._timed = len(text) + len(", 9999 s") < self._columns()
                self.stream.write(text if self._timed else f"{text}\n")
                self._drawn = self._timed
            elif not self.live or self.keep:
                self.stream.write(f"{self.prefix}: {message}\n")
            self.stream.flush()
            if not self._timed:
                return
        if self._ticker is None:
            self._ticker = threading.Thread(target=self._tick, name="progress", daemon=True)
            self._ticker.start()

    def _line(self, elapsed: float) -> str:
        """The stage's line as drawn now, cut at its end to the terminal's width (one
        column spare: no auto-wrap)."""
        text = f"{self.prefix}: {self._message}"
        if self._tally is not None:
            text += f": {self._tally}"
        suffix = f", {elapsed:.0f} s" if self.keep else f"... {elapsed:.0f} s"
        room = self._columns() - 1 - len(suffix)
        if len(text) > room and self.keep:
            text = text[: max(0, room - 3)] + "..."
        return text[:room] + suffix  # a cut line ends in the "..." before its time

    def _columns(self) -> int:
        try:
            return os.get_terminal_size(self.stream.fileno()).columns or WIDTH
        except (OSError, ValueError, AttributeError):  # no descriptor (a test's stream)
            return WIDTH

    def _tick(self) -> None:
        # a few looks per TICK: a stage's first draw comes within a quarter TICK of its
        # first second, not up to a whole TICK late
        while not self._stop.wait(TICK / 4):
            with self._lock:
                elapsed = time.monotonic() - self._started
                if self._message and self._timed and elapsed >= TICK:
                    self._draw(elapsed)

    def _draw(self, elapsed: float) -> None:
        line = self._line(elapsed)
        if self._drawn and line == self._last:
            return  # nothing changed since the last look
        self.stream.write(f"\r\033[K{line}")
        self.stream.flush()
        self._drawn, self._last = True, line

    def _finish_line(self) -> None:
        """End the current stage: its last count on the terminal, or (off a terminal,
        -v) one line with its final count and time."""
        elapsed = time.monotonic() - self._started
        if self._drawn:
            if self._tally is not None:
                self._draw(elapsed)
            self.stream.write("\n")
            self._drawn = False
        elif not self.live and self._tally is not None:
            self.stream.write(f"{self.prefix}: {self._message}: {self._tally} in {elapsed:.1f} s\n")
        self._tally = None

    def close(self) -> None:
        """Stop the timer. The live line of a stage is erased (the report that follows
        starts clean); a keep-mode line is ended, as a log line."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(2 * TICK)
        if not self.enabled:
            return
        with self._lock:
            if self.keep or not self.live:
                self._finish_line()
            elif self._drawn:
                self.stream.write("\r\033[K")
                self._drawn = False
            self._message, self._tally = "", None
            self.stream.flush()
