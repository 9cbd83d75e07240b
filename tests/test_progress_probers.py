"""Both probers count on the Tally they are given (`n of m answered`), on loopback: an
answer (syn-ack, reset) counts as it comes, a probe nobody answers (a full accept queue)
never does. The raw prober needs raw sockets: skipped without, failed under
VOLTPROBE_REQUIRE_LAB=1 (CI)."""

from __future__ import annotations

import os

import pytest

from probe.model import Endpoint, Family, ProbeState
from probe.probers.connect import ConnectProber
from probe.probers.rawsockets import check_raw_capability
from probe.progress import Tally
from tests.support.blackhole import blackhole
from tests.support.processes import closed_port, responder


def three(open_: int, closed: int, silent: int) -> list[Endpoint]:
    return [
        Endpoint("open", "127.0.0.1", Family.IPV4, open_),
        Endpoint("closed", "127.0.0.1", Family.IPV4, closed),
        Endpoint("silent", "127.0.0.1", Family.IPV4, silent),
    ]


def test_connect_counts_the_answers() -> None:
    answered = Tally(3)
    with responder() as port, blackhole() as silent:
        rows = ConnectProber(0.5, answered=answered).probe(three(port, closed_port(), silent))
    assert [r.state for r in rows] == [ProbeState.OPEN, ProbeState.CLOSED, ProbeState.FILTERED]
    assert str(answered) == "2 of 3 answered"


def test_raw_counts_the_answers() -> None:
    capability = check_raw_capability()
    if Family.IPV4 not in capability.families:
        if os.environ.get("VOLTPROBE_REQUIRE_LAB") == "1":
            raise RuntimeError(f"raw sockets are required here: {capability.why_not}")
        pytest.skip(f"raw sockets not allowed: {capability.why_not}")
    from probe.probers.raw import RawProber

    answered = Tally(3)
    with responder() as port, blackhole() as silent:
        rows = RawProber(0.5, answered=answered).probe(three(port, closed_port(), silent))
    assert [r.state for r in rows] == [ProbeState.OPEN, ProbeState.CLOSED, ProbeState.FILTERED]
    assert answered.done == 2
