"""Progress: one line per stage when asked (-v) off a terminal, a live timer on one."""

from __future__ import annotations

import io
import time

from probe import progress
from probe.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_off_a_terminal_it_is_quiet_unless_verbose() -> None:
    quiet, loud = io.StringIO(), io.StringIO()
    for stream, verbose in ((quiet, False), (loud, True)):
        p = Progress(verbose, stream)
        p("resolving 2 peer endpoint(s)")
        p("probing 4 address(es) on the DR port")
        p.close()
    assert quiet.getvalue() == ""
    assert loud.getvalue().splitlines() == [
        "voltprobe: resolving 2 peer endpoint(s)",
        "voltprobe: probing 4 address(es) on the DR port",
    ]


def test_on_a_terminal_a_long_stage_shows_its_time(monkeypatch) -> None:
    monkeypatch.setattr(progress, "TICK", 0.05)
    stream = Terminal()
    p = Progress(False, stream)
    p("waiting for the API server")
    time.sleep(0.3)
    p.close()
    text = stream.getvalue()
    assert "\rvoltprobe: waiting for the API server... " in text.replace("\033[K", "")
    assert text.endswith("\r\033[K")  # the line is erased: the report starts clean
