"""The data path through a router: an MTU black hole, SNAT, silent and closing listeners.

Real namespaces, a real 1280-byte link, real nftables on the router (pathlab.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from probe.model import Method

from .pathlab import (
    DR_PORT,
    MIXED_NAME,
    MIXED_PORT,
    PEER4,
    PEER6,
    ROUTER_OUT4,
    ROUTER_OUT6,
    PathLab,
    build_path_lab,
)
from .resources import LabRun
from .voltcheck import CheckRun, run_check

pytestmark = pytest.mark.lab

SILENT_PORT = 5601
CLOSING_PORT = 5602


@pytest.fixture(scope="module")
def path_lab(lab_run: LabRun) -> Iterator[PathLab]:
    built = build_path_lab(lab_run)
    try:
        built.start_listener("silent", SILENT_PORT)
        built.start_listener("close", CLOSING_PORT)
        yield built
    finally:
        errors = built.close()
        if errors:
            pytest.fail("path lab teardown: " + "; ".join(errors), pytrace=False)


@pytest.fixture
def clean_path(path_lab: PathLab) -> PathLab:
    path_lab.reset()
    return path_lab


def peers(port: int = DR_PORT) -> list[str]:
    return ["--peer", f"{PEER4}:{port},[{PEER6}]:{port}"]


def data_path(run: CheckRun, family: str) -> dict[str, Any]:
    report = run.report
    assert report is not None, run.describe()
    found = [d for d in report["dataPath"] if d["family"] == family]
    assert len(found) == 1, run.describe()
    return found[0]


def finding_ids(run: CheckRun) -> set[str]:
    assert run.report is not None, run.describe()
    return {f["id"] for f in run.report["findings"]}


def test_no_rules_both_families_pass_the_ladder(clean_path: PathLab) -> None:
    run = run_check(clean_path.prober, peers())
    assert run.exit_code == 0, run.describe()
    for family in ("IPv4", "IPv6"):
        found = data_path(run, family)
        assert found["after"] == "greeting" and found["blackHole"] is None, found
        assert found["nat"] == "none", found


@pytest.mark.parametrize("method", [Method.CONNECT, Method.RAW], ids=str)
def test_packet_too_big_dropped_is_an_ipv6_black_hole_while_ipv4_passes(
    clean_path: PathLab, method: Method
) -> None:
    clean_path.drop_packet_too_big()
    run = run_check(clean_path.prober, peers(), method)
    v6, v4 = data_path(run, "IPv6"), data_path(run, "IPv4")
    assert (v6["largestPassed"], v6["blackHole"]) == (1280, 1400), v6["mtu"]
    assert v4["blackHole"] is None and v4["largestPassed"] is not None, v4["mtu"]
    assert "VP322" in finding_ids(run)
    assert run.exit_code == 0 and run.report is not None
    assert run.report["recommendation"]["ipFamilies"] == ["IPv4"], run.describe()
    if method is Method.RAW:  # the peer's advertised MSS (its routes' advmss), as sent
        mss = {row["family"]: row.get("synAckMss") for row in run.report["probes"]}
        assert mss == {"IPv4": 1460, "IPv6": 1440}, mss
    rationale = " ".join(run.report["recommendation"]["rationale"])
    assert "IPv6 does not qualify" in rationale and "black hole" in rationale


def test_a_black_hole_fails_ipv6_when_it_is_the_only_candidate(clean_path: PathLab) -> None:
    clean_path.drop_packet_too_big()
    run = run_check(clean_path.prober, ["--peer", f"[{PEER6}]:{DR_PORT}"])
    assert run.exit_code == 1, run.describe()
    assert "VP322" in finding_ids(run)


def test_masquerade_on_the_router_is_reported_as_snat(clean_path: PathLab) -> None:
    clean_path.masquerade()
    run = run_check(clean_path.prober, peers())
    v4, v6 = data_path(run, "IPv4"), data_path(run, "IPv6")
    assert (v4["nat"], v4["greeting"]["clientAddress"]) == ("snat", ROUTER_OUT4), v4
    assert (v6["nat"], v6["greeting"]["clientAddress"]) == ("snat", ROUTER_OUT6), v6
    assert v4["source"] == "192.0.2.33"
    assert "VP323" in finding_ids(run) and run.exit_code == 0


def test_a_silent_listener_passes_reported_as_silent(clean_path: PathLab) -> None:
    run = run_check(clean_path.prober, peers(SILENT_PORT))
    assert run.exit_code == 0, run.describe()
    assert {data_path(run, f)["after"] for f in ("IPv4", "IPv6")} == {"silent"}
    assert not finding_ids(run) & {"VP320", "VP321", "VP322"}


def test_a_silent_listener_fails_a_declared_responder(clean_path: PathLab) -> None:
    run = run_check(clean_path.prober, [*peers(SILENT_PORT), "--responder"])
    assert run.exit_code == 1, run.describe()
    assert "VP321" in finding_ids(run)


def test_a_listener_that_closes_after_accept_is_reported_and_fails(clean_path: PathLab) -> None:
    run = run_check(clean_path.prober, peers(CLOSING_PORT))
    assert run.exit_code == 1, run.describe()
    assert {data_path(run, f)["after"] for f in ("IPv4", "IPv6")} <= {"closed", "reset"}
    assert "VP320" in finding_ids(run)
    assert run.report is not None
    assert {p["state"] for p in run.report["probes"]} == {"open"}


def test_a_name_that_greets_over_ipv4_and_is_silent_over_ipv6_fails_ipv6(
    clean_path: PathLab,
) -> None:
    run = run_check(clean_path.prober, ["--peer", f"{MIXED_NAME}:{MIXED_PORT}"])
    assert data_path(run, "IPv4")["after"] == "greeting", run.describe()
    assert data_path(run, "IPv6")["after"] == "silent", run.describe()
    assert "VP321" in finding_ids(run)
    assert run.report is not None
    assert run.report["recommendation"]["ipFamilies"] == ["IPv4"], run.describe()


DELAY_MS = 40.0


def test_a_delay_line_on_ipv6_shows_in_its_rtt_within_10_percent(clean_path: PathLab) -> None:
    line = clean_path.start_delay_line(DELAY_MS, PEER6)
    try:
        run = run_check(clean_path.prober, [*peers(), "--samples", "5"])
    finally:
        clean_path.stop_delay_line(line, PEER6)
    v4, v6 = data_path(run, "IPv4")["rtt"], data_path(run, "IPv6")["rtt"]
    assert v4["medianMs"] < 5, v4
    assert abs(v6["medianMs"] - v4["medianMs"] - DELAY_MS) <= DELAY_MS / 10, (v4, v6)
    assert "VP324" in finding_ids(run)
