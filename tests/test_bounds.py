"""Bounds by design (issue 16): the pipeline's caps on what one run may probe, the run's
default deadline and the Job's margin, and the output-file rules of probe.outfile."""

from __future__ import annotations

import errno
import os
import stat
import time
from pathlib import Path

import pytest

from probe.errors import UsageError
from probe.k8sjob.objects import check_deadline
from probe.model import Endpoint, Family
from probe.outfile import check_destination, write_output
from probe.pipeline import MAX_ADDRESSES_PER_NAME, MAX_ENDPOINTS, MAX_PORTS, check_bounds
from probe.stop import RunStop, default_deadline, probe_reserve


def v4(target: str, index: int, port: int = 5555) -> Endpoint:
    return Endpoint(target, f"198.51.{index // 250}.{index % 250 + 1}", Family.IPV4, port)


def test_a_name_may_expand_to_256_addresses_not_257() -> None:
    check_bounds([v4("peer", i) for i in range(MAX_ADDRESSES_PER_NAME)])
    with pytest.raises(UsageError, match="peer has 257 IPv4 addresses, over the cap of 256"):
        check_bounds([v4("peer", i) for i in range(MAX_ADDRESSES_PER_NAME + 1)])


def test_sixteen_ports_not_seventeen() -> None:
    check_bounds([v4("peer", 0, 5000 + p) for p in range(MAX_PORTS)])
    with pytest.raises(UsageError, match="17 distinct ports is over the cap of 16"):
        check_bounds([v4("peer", 0, 5000 + p) for p in range(MAX_PORTS + 1)])


def test_the_endpoint_cap_still_holds_across_names() -> None:
    endpoints = [v4(f"peer-{i // 200}", i) for i in range(MAX_ENDPOINTS + 1)]
    with pytest.raises(UsageError, match="4097 addresses to probe is over the cap of 4096"):
        check_bounds(endpoints)


def test_a_control_character_in_a_name_is_escaped_in_the_error() -> None:
    with pytest.raises(UsageError) as error:
        check_bounds([v4("evil\x1b[2J", i) for i in range(MAX_ADDRESSES_PER_NAME + 1)])
    assert "\x1b" not in str(error.value) and "evil\\x1b[2J" in str(error.value)


def test_the_default_deadline_grows_with_targets_and_timeouts() -> None:
    assert default_deadline(1, 2.0, 3.0, 5.0, 512) == 31.0
    assert default_deadline(1, 2.0, 3.0, 0.0, 512) == 17.0  # --no-kube: DNS only
    assert default_deadline(1000, 2.0, 3.0, 5.0, 512) == 5 + 20 + 2 * (2 + 16)
    assert default_deadline(10**6, 60.0, 60.0, 5.0, 1) == 3600.0  # capped at an hour
    assert probe_reserve(1, 2.0, 512) == 11.0


@pytest.mark.parametrize(
    ("active", "check"), [(300, 240), (30, 20), (11, 1), (1, 1), (86400, 86340), (50, 40)]
)
def test_the_checks_deadline_fires_before_the_jobs(active: int, check: int) -> None:
    assert check_deadline(active) == check
    assert check_deadline(active) < active or active == 1


def test_run_stop_first_reason_wins_and_the_deadline_requests_itself() -> None:
    stop = RunStop.after(0.05)
    assert not stop.stopped() and stop.remaining() is not None
    time.sleep(0.06)
    assert stop.stopped() and "deadline of 0.05 s passed" in str(stop.error())
    stop.request("stopped by SIGTERM")
    assert "deadline" in (stop.reason or "") and stop.exit_code == 3
    interrupted = RunStop()
    interrupted.request("interrupted", 130)
    interrupted.request("stopped by SIGTERM")
    assert interrupted.error().exit_code == 130 and interrupted.bound(5) == 0


# -- output files ----------------------------------------------------------------------


def test_a_symlink_to_a_device_is_written_through(tmp_path: Path) -> None:
    link = tmp_path / "out"
    link.symlink_to("/dev/null")
    check_destination("--report-file", str(link))
    write_output(str(link), b"report\n")
    assert link.is_symlink()


def test_a_symlink_to_a_file_is_refused_when_writing_too(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.write_text("keep")
    link = tmp_path / "out"
    link.symlink_to(target)
    with pytest.raises(OSError) as error:
        write_output(str(link), b"x")
    assert error.value.errno == errno.ELOOP and target.read_text() == "keep"


def test_a_fifo_whose_reader_stops_reading_times_out(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # open, never read
    try:
        started = time.monotonic()
        with pytest.raises(OSError) as error:
            write_output(str(fifo), b"x" * (1 << 20), timeout=0.3)  # more than a pipe holds
        assert error.value.errno == errno.ETIMEDOUT
        assert time.monotonic() - started < 2
    finally:
        os.close(reader)


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda p: p.mkdir(), "is a directory"),
        (lambda p: None, ""),  # a new file in an existing directory: fine
    ],
)
def test_check_destination(tmp_path: Path, setup: object, message: str) -> None:
    path = tmp_path / "out"
    setup(path)  # type: ignore[operator]
    if message:
        with pytest.raises(UsageError, match=message):
            check_destination("--values-out", str(path))
    else:
        check_destination("--values-out", str(path))


def test_a_replaced_file_is_never_seen_half_written(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_bytes(b"old")
    path.chmod(0o640)
    inode = path.stat().st_ino
    write_output(str(path), b"new")
    assert path.read_bytes() == b"new" and path.stat().st_ino != inode  # renamed into place
    assert stat.S_IMODE(path.stat().st_mode) == 0o640  # the existing file's mode kept


@pytest.mark.parametrize(("active", "check"), [(300, "240"), (120, "96")])
def test_the_job_passes_the_check_its_own_deadline(active: int, check: str) -> None:
    from probe.k8sjob.objects import JobParams, job

    rendered = job(JobParams(peers=("p:5555",), active_deadline_seconds=active))
    args = rendered["spec"]["template"]["spec"]["containers"][0]["args"]
    assert rendered["spec"]["activeDeadlineSeconds"] == active
    assert args[args.index("--deadline") + 1] == check
