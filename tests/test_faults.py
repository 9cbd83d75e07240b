"""Faults sent to a real voltprobe process: signals mid-run, the run's deadline, outputs
that are symlinks or pipes, probe bounds. Each asserts the exit code, the message and the
partial report (issue 16: never crash, never hang, never lose what was learned).

Only loopback is probed: an open port (`voltprobe serve`) and a port that never answers
(tests/support/blackhole.py: a listener with a full accept queue).
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.support.blackhole import blackhole
from tests.support.processes import VOLTPROBE, responder, run_cli

NO_KUBE = "--no-kube"


@contextmanager
def open_and_silent() -> Iterator[str]:
    """A --peer value: one loopback port that answers, one that never does."""
    with responder() as open_port, blackhole() as silent_port:
        yield f"127.0.0.1:{open_port},127.0.0.1:{silent_port}"


def start_check(
    tmp_path: Path, peer: str, *extra: str, mode: str = "connect"
) -> subprocess.Popen[str]:
    """`voltprobe check` that is probing (its -v line says so) when this returns."""
    process = subprocess.Popen(
        [
            VOLTPROBE,
            "check",
            "--peer",
            peer,
            NO_KUBE,
            "--mode",
            mode,
            "--timeout",
            "30",
            "-v",
            "-o",
            "json",
            "--report-file",
            str(tmp_path / "report.json"),
            "--termination-log",
            str(tmp_path / "termination"),
            "--values-out",
            str(tmp_path / "values.yaml"),
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    seen = []
    for line in process.stderr:
        seen.append(line)
        if "probing" in line:
            break
    else:
        pytest.fail(f"never started probing: {seen}")
    time.sleep(0.5)  # the open port's answer is in; the silent one is still waiting
    return process


def finish(process: subprocess.Popen[str], within: float) -> tuple[int, str, str, float]:
    started = time.monotonic()
    out, err = process.communicate(timeout=within + 10)
    return process.returncode, out, err, time.monotonic() - started


def assert_partial(tmp_path: Path, stdout: str, exit_code: int, why: str) -> dict[str, Any]:
    """The report on stdout and in --report-file is the partial one: the open port's
    answer kept, the silent one unknown, complete false; no values file."""
    report = json.loads(stdout)
    assert json.loads((tmp_path / "report.json").read_text()) == report
    assert report["complete"] is False and report["exitCode"] == exit_code
    assert why in report["error"] and report["verdict"].startswith("INCOMPLETE")
    states = sorted((p["state"], p["reason"]) for p in report["probes"])
    assert states == [("error", "not answered before the run stopped"), ("open", "syn-ack")]
    assert report["recommendation"]["ipFamilies"] == []
    termination = (tmp_path / "termination").read_text().splitlines()
    assert termination[0].startswith("INCOMPLETE") and why in termination[0]
    assert json.loads(termination[1]) == {"complete": False, "exitCode": exit_code}
    assert not (tmp_path / "values.yaml").exists()
    return report


@pytest.mark.parametrize("mode", ["connect", "raw"])  # raw: root (CAP_NET_RAW), as in CI
@pytest.mark.parametrize(
    ("sig", "exit_code", "why"),
    [(signal.SIGTERM, 3, "stopped by SIGTERM"), (signal.SIGINT, 130, "interrupted")],
)
def test_a_signal_mid_probe_keeps_the_answers_already_received(
    tmp_path: Path, sig: signal.Signals, exit_code: int, why: str, mode: str
) -> None:
    with open_and_silent() as peer:
        process = start_check(tmp_path, peer, mode=mode)
        process.send_signal(sig)
        code, out, err, took = finish(process, 5)
    assert code == exit_code, err
    assert took < 3, "the probes did not stop"
    assert "Traceback" not in err and f"voltprobe: error: {why}" in err
    assert "values.yaml not written: the run did not finish" in err
    assert_partial(tmp_path, out, exit_code, why)


def test_the_deadline_stops_the_run_and_keeps_what_it_learned(tmp_path: Path) -> None:
    with open_and_silent() as peer:
        started = time.monotonic()
        done = run_cli(
            "check", "--peer", peer, NO_KUBE, "--mode", "connect", "--timeout", "30",
            "--deadline", "1.5", "-o", "json",
            "--report-file", str(tmp_path / "report.json"),
            "--termination-log", str(tmp_path / "termination"),
            "--values-out", str(tmp_path / "values.yaml"),
            timeout=30,
        )  # fmt: skip
        took = time.monotonic() - started
    assert done.returncode == 3, done.stderr
    assert took < 6
    report = assert_partial(tmp_path, done.stdout, 3, "deadline of 1.5 s passed")
    assert report["options"]["deadline"] == 1.5


def test_the_default_deadline_is_in_the_report() -> None:
    done = run_cli("check", "--peer", "192.0.2.1", NO_KUBE, "--help")
    assert "--deadline" in done.stdout
    from probe.options import CheckOptions
    from probe.stop import default_deadline

    # 5 + max(2 x 3, 4 x 5) + 2 x (2 + ceil(8 x 1 / 512)) = 31
    assert default_deadline(1, 2.0, 3.0, 5.0, 512) == 31.0
    assert CheckOptions().run_deadline() == default_deadline(0, 2.0, 3.0, 5.0, 512)


def test_ctrl_c_while_the_inventory_waits_for_the_api_is_130_not_sigabrt(
    tmp_path: Path,
) -> None:
    from tests.fakeapi import FakeApiServer, Fault, objects
    from tests.fakeapi.files import kubeconfig_for

    with FakeApiServer() as api, responder() as port:
        api.load(objects.dual_stack())
        api.add_fault(Fault(delay=30))  # every API call hangs
        kubeconfig = kubeconfig_for(api, tmp_path / "kubeconfig", namespace="volt")
        process = subprocess.Popen(
            [
                VOLTPROBE,
                "check",
                "--peer",
                f"127.0.0.1:{port}",
                "--kubeconfig",
                str(kubeconfig),
                "--report-file",
                str(tmp_path / "report.json"),
                "-o",
                "json",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 10
        while not api.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        assert api.requests, "the inventory never called the API"
        process.send_signal(signal.SIGINT)
        code, out, err, _took = finish(process, 5)
    assert code == 130, err
    assert "Fatal Python error" not in err and "Traceback" not in err
    report = json.loads(out)
    assert report["complete"] is False and report["error"] == "interrupted"
    assert report["dns"], "the DNS answers (a literal) were kept"


# -- outputs ----------------------------------------------------------------------------


def test_a_symlinked_report_file_is_refused_and_its_target_untouched(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    link = tmp_path / "report.json"
    link.symlink_to(victim)
    done = run_cli("check", "--peer", "192.0.2.1", NO_KUBE, "--report-file", str(link))
    assert done.returncode == 2
    assert f"--report-file {link}: is a symbolic link" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert victim.read_text() == "precious\n" and link.is_symlink()


def test_a_report_file_replaces_the_old_one_whole_with_a_private_mode(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    values = tmp_path / "values.yaml"
    values.write_text("old\n")
    values.chmod(0o640)
    with responder() as port:
        done = run_cli(
            "check", "--peer", f"127.0.0.1:{port}", NO_KUBE,
            "--report-file", str(report), "--values-out", str(values),
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(report.read_text())["complete"] is True
    assert stat.S_IMODE(report.stat().st_mode) == 0o600  # new: private
    assert stat.S_IMODE(values.stat().st_mode) == 0o640  # existing: its mode kept
    assert "ipFamilies" in values.read_text()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".voltprobe-")] == []


def test_a_fifo_with_a_reader_gets_the_report(tmp_path: Path) -> None:
    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(0.2)  # cat has the FIFO open for reading
        with responder() as port:
            done = run_cli(
                "check", "--peer", f"127.0.0.1:{port}", NO_KUBE, "--report-file", str(fifo),
                timeout=20,
            )  # fmt: skip
        out, _ = reader.communicate(timeout=10)
    finally:
        if reader.poll() is None:
            reader.kill()
            reader.wait()
    assert done.returncode == 0, done.stderr
    assert json.loads(out)["complete"] is True


def test_report_file_dash_with_json_prints_the_report_once() -> None:
    with responder() as port:
        done = run_cli(
            "check", "--peer", f"127.0.0.1:{port}", NO_KUBE, "-o", "json", "--report-file", "-"
        )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["complete"] is True  # one document, parsed whole


def test_report_file_dash_with_a_table_is_exit_2() -> None:
    done = run_cli("check", "--peer", "192.0.2.1", NO_KUBE, "--report-file", "-")
    assert done.returncode == 2 and "use -o json" in done.stderr


def test_stdout_full_is_exit_3_after_the_files(tmp_path: Path) -> None:
    with responder() as port, open("/dev/full", "w") as full:
        done = subprocess.run(
            [VOLTPROBE, "check", "--peer", f"127.0.0.1:{port}", NO_KUBE,
             "--report-file", str(tmp_path / "report.json")],
            stdout=full, stderr=subprocess.PIPE, text=True, timeout=30, check=False,
        )  # fmt: skip
    assert done.returncode == 3, done.stderr
    assert "cannot write the report to stdout" in done.stderr
    assert "Traceback" not in done.stderr
    assert json.loads((tmp_path / "report.json").read_text())["complete"] is True


def test_stdout_closed_is_not_a_traceback(tmp_path: Path) -> None:
    with responder() as port:
        done = subprocess.run(
            [VOLTPROBE, "check", "--peer", f"127.0.0.1:{port}", NO_KUBE,
             "--report-file", str(tmp_path / "report.json")],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=30,
            check=False, preexec_fn=lambda: os.close(1),
        )  # fmt: skip
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr
    assert json.loads((tmp_path / "report.json").read_text())["complete"] is True


# -- bounds: not a scanner ------------------------------------------------------------


def test_more_than_16_ports_is_exit_2() -> None:
    peers = ",".join(f"127.0.0.1:{port}" for port in range(40000, 40017))
    done = run_cli("check", "--peer", peers, NO_KUBE, "--mode", "connect", "-o", "json")
    assert done.returncode == 2
    assert "17 distinct ports is over the cap of 16" in done.stderr
    report = json.loads(done.stdout)
    assert report["complete"] is False and report["exitCode"] == 2


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--rate", "50001", "--rate must be from 1 to 50000"),
        ("--concurrency", "4097", "--concurrency must be from 1 to 4096"),
        ("--deadline", "0", "--deadline must be > 0"),
    ],
)
def test_scanner_sized_options_are_exit_2(option: str, value: str, message: str) -> None:
    done = run_cli("check", "--peer", "192.0.2.1", NO_KUBE, option, value)
    assert done.returncode == 2 and message in done.stderr


# -- voltprobe job run ---------------------------------------------------------------


def _stored(api: Any, group_version: str, plural: str, namespace: str | None) -> list[str]:
    from tests.fakeapi import resources

    rt = resources.find(group_version, plural)
    assert rt is not None
    return [o["metadata"]["name"] for o in api.store.list(rt, namespace, lambda o: True).items]


OWNED = (
    ("v1", "serviceaccounts", "volt"),
    ("rbac.authorization.k8s.io/v1", "roles", "volt"),
    ("rbac.authorization.k8s.io/v1", "rolebindings", "volt"),
    ("batch/v1", "jobs", "volt"),
    ("rbac.authorization.k8s.io/v1", "clusterroles", None),
    ("rbac.authorization.k8s.io/v1", "clusterrolebindings", None),
)


def test_sigterm_during_job_run_deletes_what_it_created(tmp_path: Path) -> None:
    from tests.fakeapi import FakeApiServer
    from tests.fakeapi.files import kubeconfig_for

    with FakeApiServer() as api:  # no hook completes the Job: the run waits
        kubeconfig = kubeconfig_for(api, tmp_path / "kubeconfig", namespace="volt")
        process = subprocess.Popen(
            [
                VOLTPROBE,
                "job",
                "run",
                "--kubeconfig",
                str(kubeconfig),
                "--cluster-read",
                "--peer",
                "dr.peer.example:5555",
                "--wait",
                "60",
                "--image",
                "registry.example/voltprobe:test",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 15
        while not _stored(api, "batch/v1", "jobs", "volt") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _stored(api, "batch/v1", "jobs", "volt"), "the Job was never created"
        process.send_signal(signal.SIGTERM)
        code, _out, err, took = finish(process, 10)
        left = {plural: _stored(api, gv, plural, ns) for gv, plural, ns in OWNED}
    assert code == 3, err
    assert "stopped by SIGTERM" in err and "Traceback" not in err
    assert took < 5
    assert all(not names for names in left.values()), left


def test_concurrent_cluster_read_runs_never_delete_each_others_cluster_role(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from probe import cli
    from tests.fakeapi import FakeApiServer
    from tests.fakeapi.files import kubeconfig_for
    from tests.fakeapi.hooks import complete_jobs
    from tests.test_job import report_log

    with FakeApiServer() as api:
        api.on_create("jobs", complete_jobs(report_log()))
        kubeconfig = str(kubeconfig_for(api, tmp_path / "kubeconfig", namespace="volt"))
        run = ["job", "run", "--kubeconfig", kubeconfig, "--cluster-read", "--peer", "p:5555"]
        run += ["--image", "registry.example/voltprobe:test"]
        assert cli.main([*run, "--keep"]) == 0  # the first run's objects stay (still in use)
        first = _stored(api, "rbac.authorization.k8s.io/v1", "clusterroles", None)
        assert cli.main(run) == 0  # a second run comes and goes
        after = _stored(api, "rbac.authorization.k8s.io/v1", "clusterroles", None)
    capsys.readouterr()
    assert len(first) == 1 and first[0].startswith("voltprobe-cluster-read-volt-voltprobe-")
    assert after == first  # the second run deleted only its own


def test_a_bind_mounted_termination_log_is_written_in_place(tmp_path: Path) -> None:
    """The kubelet bind-mounts /dev/termination-log: rename cannot replace a mount point
    (EBUSY), so the message is written into the file itself. A private mount namespace
    (unshare -m, root) stands in for the kubelet's bind mount."""
    kept = tmp_path / "kept"  # what the kubelet reads back
    kept.write_text("")
    log = tmp_path / "termination-log"
    log.write_text("")
    with responder() as port:
        done = subprocess.run(
            [
                "unshare",
                "--mount",
                "sh",
                "-c",
                f'mount --bind "$1" "$2" && exec "$3" check --peer 127.0.0.1:{port} --no-kube '
                '--termination-log "$2"',
                "sh",
                str(kept),
                str(log),
                VOLTPROBE,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    assert kept.read_text().startswith("PASS: XDCR can use IPv4")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".voltprobe-")] == []


def test_a_trickling_api_costs_the_inventory_not_the_probes(tmp_path: Path) -> None:
    """Every API answer trickles (one byte per 0.2 s: each read within the client's
    timeout): the inventory is given up when the deadline leaves only the probes' reserve
    (5 s + 3 x --timeout), and the probes still run; the report is complete."""
    from tests.fakeapi import FakeApiServer, Fault, objects
    from tests.fakeapi.files import kubeconfig_for

    with FakeApiServer() as api, responder() as port:
        api.load(objects.dual_stack())
        api.add_fault(Fault(trickle=0.2))
        kubeconfig = kubeconfig_for(api, tmp_path / "kubeconfig", namespace="volt")
        started = time.monotonic()
        done = run_cli(
            "check", "--peer", f"127.0.0.1:{port}", "--kubeconfig", str(kubeconfig),
            "--mode", "connect", "--timeout", "1", "--deadline", "12", "-o", "json",
            timeout=60,
        )  # fmt: skip
        took = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["complete"] is True and report["probes"][0]["state"] == "open"
    assert "did not answer in time" in report["local"]["kubernetes"]["reason"]
    assert took < 9
