"""Progress: one line per stage when asked (-v) off a terminal, a live timer on one."""

from __future__ import annotations

import io
import threading
import time

from probe import progress
from probe.progress import Progress, Tally


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


def test_a_tally_counts_from_many_threads() -> None:
    tally = Tally(4000)
    workers = [
        threading.Thread(target=lambda: [tally.add() for _ in range(1000)]) for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert str(tally) == "4000 of 4000 answered"


def test_the_live_line_shows_the_count_as_it_grows_and_ends_on_the_last(monkeypatch) -> None:
    monkeypatch.setattr(progress, "TICK", 0.05)
    stream = Terminal()
    p = Progress(False, stream)
    answered = Tally(40)
    p("probing 40 address(es) on the DR port", answered)
    answered.add(12)
    time.sleep(0.2)
    answered.add(28)
    p("reading what open endpoints send after the handshake (data path)")
    p.close()
    drawn = [line for line in stream.getvalue().replace("\033[K", "").split("\r") if line]
    counted = [line for line in drawn if "probing" in line]
    assert counted[0].startswith(
        "voltprobe: probing 40 address(es) on the DR port: 12 of 40 answered... "
    )
    # the stage's line is left on its final count when the next stage starts
    assert counted[-1].startswith(
        "voltprobe: probing 40 address(es) on the DR port: 40 of 40 answered... "
    )
    assert counted[-1].endswith(" s\n")


def test_a_long_live_line_is_cut_to_the_terminal(monkeypatch) -> None:
    monkeypatch.setattr(progress, "TICK", 0.05)
    stream = Terminal()
    p = Progress(False, stream)
    p("resolving " + "very-long-peer-name.example.com, " * 6, Tally(6, "resolved"))
    time.sleep(0.2)
    p.close()
    drawn = [line for line in stream.getvalue().replace("\033[K", "").split("\r") if line]
    assert drawn and all(len(line) < 80 for line in drawn), drawn
    assert all(line.endswith(" s") and "...... " not in line for line in drawn), drawn


def test_off_a_terminal_verbose_ends_a_counted_stage_with_its_count() -> None:
    stream = io.StringIO()
    p = Progress(True, stream)
    answered = Tally(3)
    p("probing 3 address(es) on the DR port", answered)
    answered.add(3)
    p.close()
    lines = stream.getvalue().splitlines()
    assert lines[0] == "voltprobe: probing 3 address(es) on the DR port"
    assert lines[1].startswith(
        "voltprobe: probing 3 address(es) on the DR port: 3 of 3 answered in "
    )
    assert len(lines) == 2


def test_quiet_off_a_terminal_costs_only_the_count() -> None:
    stream = io.StringIO()
    p = Progress(False, stream)
    answered = Tally(2)
    p("probing 2 address(es) on the DR port", answered)
    answered.add(2)
    p.close()
    assert stream.getvalue() == "" and p._ticker is None and answered.done == 2


def test_keep_mode_is_a_log_whose_last_line_gets_its_time(monkeypatch) -> None:
    monkeypatch.setattr(progress, "TICK", 0.05)
    piped = io.StringIO()
    log = Progress(False, piped, "voltprobe job", keep=True)
    log("pod voltprobe-1a2b3-xk2p9: Pending")
    log.close()
    log("verdict: PASS")  # after close: still a line
    assert piped.getvalue() == (
        "voltprobe job: pod voltprobe-1a2b3-xk2p9: Pending\nvoltprobe job: verdict: PASS\n"
    )

    stream = Terminal()
    live = Progress(False, stream, "voltprobe job", keep=True)
    live("[a] pod voltprobe-1a2b3-xk2p9: Pending")
    time.sleep(0.2)
    live("x" * 90)  # would wrap: printed once, never redrawn
    time.sleep(0.2)
    live.close()
    text = stream.getvalue()
    lines = text.split("\n")
    assert lines[0].startswith("voltprobe job: [a] pod voltprobe-1a2b3-xk2p9: Pending")
    assert lines[0].endswith(" s") and "\r\033[Kvoltprobe job: [a] pod" in lines[0]
    assert lines[1] == "voltprobe job: " + "x" * 90
    assert text.endswith("x" * 90 + "\n")
