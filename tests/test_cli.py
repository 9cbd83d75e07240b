"""The installed CLI end to end on loopback: exit codes, outputs, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from probe.model import Family
from tests.support.processes import closed_port, responder, run_cli, run_json

NO_KUBE = "--no-kube"


def test_help_does_not_import_heavy_modules() -> None:
    code = (
        "import sys, runpy\n"
        "sys.argv = ['voltprobe', '--help']\n"
        "try:\n    runpy.run_module('probe', run_name='__main__')\n"
        "except SystemExit as exc:\n    assert exc.code == 0, exc.code\n"
        "heavy = [m for m in ('kubernetes', 'scapy', 'dns', 'tabulate') if m in sys.modules]\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "usage: voltprobe" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "HEAVY="  # no heavy module imported


def test_python_dash_m_probe_works() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "probe", "check", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    assert "--peer" in done.stdout and "connection.source" in done.stdout


def test_demo_passes_with_ipv4_and_json_keys() -> None:
    code, report = run_json("demo")
    assert code == 0
    assert report["schema"] == "voltprobe/v1"
    rows = report["probes"]
    assert {(r["family"], r["state"]) for r in rows} >= {("IPv4", "open")}
    for row in rows:
        assert set(row) >= {
            "target",
            "address",
            "family",
            "port",
            "state",
            "reason",
            "method",
            "rttMs",
        }
        assert row["method"] == "connect"
    assert report["recommendation"]["ipFamilies"] == ["IPv4"]
    assert report["recommendation"]["helmValues"] == {
        "cluster": {"serviceSpec": {"dr": {"ipFamilies": ["IPv4"]}}}
    }
    assert report["local"]["kubernetes"]["available"] is False


def test_check_open_and_closed_ports_over_loopback(tmp_path: Path) -> None:
    with responder() as port:
        dead = closed_port()
        code, report = run_json(
            "check", "--peer", f"127.0.0.1:{port}", "--peer", f"127.0.0.1:{dead}", NO_KUBE
        )
    states = {(r["port"], r["state"], r["reason"]) for r in report["probes"]}
    assert states == {(port, "open", "syn-ack"), (dead, "closed", "reset")}
    assert code == 1
    assert report["recommendation"]["ipFamilies"] == []
    assert report["exitCode"] == 1
    ids = {f["id"] for f in report["findings"]}
    assert "VP301" in ids  # some refuse, some accept: DR listener not armed


def test_ip_literal_appears_only_in_its_own_family() -> None:
    with responder() as port:
        code, report = run_json("check", "--peer", f"127.0.0.1:{port}", NO_KUBE)
    assert code == 0
    assert [r["family"] for r in report["probes"]] == ["IPv4"]
    assert report["probes"][0]["target"] == "127.0.0.1"


def test_timings_name_every_phase_in_order() -> None:
    with responder() as port:
        _code, report = run_json("check", "--peer", f"127.0.0.1:{port}", NO_KUBE)
    timings = report["timings"]
    assert list(timings) == ["startup", "inventory", "resolve", "probe", "dataPath", "checks"]
    assert all(isinstance(ms, float) and ms >= 0 for ms in timings.values())
    assert 0 < timings["startup"] < 60_000


def test_values_output_and_files(tmp_path: Path) -> None:
    values = tmp_path / "values.yaml"
    term = tmp_path / "termination-log"
    report_file = tmp_path / "report.json"
    with responder() as port:
        done = run_cli(
            "check",
            "--peer",
            f"127.0.0.1:{port}",
            NO_KUBE,
            "--per-pod",
            "-o",
            "values",
            "--values-out",
            str(values),
            "--termination-log",
            str(term),
            "--report-file",
            str(report_file),
        )
    assert done.returncode == 0, done.stderr
    expected = {"cluster": {"serviceSpec": {"perpod": {"dr": {"ipFamilies": ["IPv4"]}}}}}
    assert yaml.safe_load(done.stdout) == expected
    assert yaml.safe_load(values.read_text()) == expected
    assert term.read_text().startswith("PASS")
    assert len(term.read_text().encode()) < 4096
    assert json.loads(report_file.read_text())["recommendation"]["helmKey"] == (
        "cluster.serviceSpec.perpod.dr.ipFamilies"
    )


def test_values_output_when_nothing_works_is_a_comment_and_exit_1() -> None:
    dead = closed_port()
    done = run_cli("check", "--peer", f"127.0.0.1:{dead}", NO_KUBE, "-o", "values")
    assert done.returncode == 1
    assert all(line.startswith("#") for line in done.stdout.splitlines())
    assert yaml.safe_load(done.stdout) is None


def test_log_json_markers_carry_the_full_report() -> None:
    with responder() as port:
        done = run_cli("check", "--peer", f"127.0.0.1:{port}", NO_KUBE, "--log-json")
    begin = done.stdout.index("----- BEGIN VOLTPROBE REPORT -----")
    end = done.stdout.index("----- END VOLTPROBE REPORT -----")
    body = done.stdout[begin:end].split("\n", 1)[1]
    assert json.loads(body)["exitCode"] == 0
    assert done.stdout[:begin].startswith("voltprobe ")  # the human checklist comes first


def test_yaml_output_is_the_same_document_as_json(tmp_path: Path) -> None:
    json_file = tmp_path / "report.json"
    with responder() as port:
        yaml_done = run_cli(
            "check", "--peer", f"127.0.0.1:{port}", NO_KUBE, "-o", "yaml",
            "--report-file", str(json_file),
        )  # fmt: skip
    document = yaml.safe_load(yaml_done.stdout)
    assert document == json.loads(json_file.read_text())  # one run, two formats
    assert document["probes"][0]["state"] == "open"


@pytest.mark.parametrize(
    "args",
    [
        ["check"],
        ["check", "--peer", ""],
        ["check", "--peer", "a..b"],
        ["check", "--peer", "a:70000"],
        ["check", "--peer", "a", "--timeout", "0"],
        ["check", "--peer", "a", "--timeout", "61"],
        ["check", "--peer", "a", "--timeout", "nan"],
        ["check", "--peer", "a", "--port", "0"],
        ["check", "--peer", "a", "--mode", "fast"],
        ["check", "--peer", "a!"],
        ["explain", "VP999"],
        ["no-such-command"],
        ["serve", "--bind", "not-an-ip", "--port", "0"],
        ["manifest", "--peer", "a", "--timeout", "0"],
        ["manifest", "--peer", "a..b"],
        ["job", "run", "--peer", "a", "--port", "70000"],
        ["job", "run", "--peer", "a", "--deadline", "0"],
        ["check", "--peer", "a", "--kubeconfig", "/nonexistent/kubeconfig"],
        ["check", "--peer", "h:\u00b2"],
        [
            "check",
            "--peer",
            "a",
            "--mode",
            "connect",
            "--pcap",
            "/tmp/x.pcap",
        ],  # a Unicode digit is not a port
        ["check", "--peer", "a\n.example"],
        ["check", "--peer", "fe80::1%eth0"],
        ["check", "--peer", "[fe80::1%eth0]:5555"],
        ["check", "--peer", "[::ffff:127.0.0.1]:5555"],
        ["check", "--peer", "0.0.0.0"],
        ["check", "--peer", "255.255.255.255"],
        ["check", "--peer", "224.0.0.1"],
        ["check", "--peer", "[ff02::1]:5555"],
        ["check", "--peer", "http://peer.example:5555"],
        ["check", "--peer", "peer.example:99999\x1b[2J"],
        ["manifest", "--peer", "peer.example\n# injected: true"],
        ["check", "--peer", "a", "--jvm-prefer", "ipv5"],
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str]) -> None:
    done = run_cli(*args)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "error:" in done.stderr
    assert not any((ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) < 0xA0 for c in done.stderr)


def test_a_mapped_literal_error_names_the_ipv4_form() -> None:
    done = run_cli("check", "--peer", "[::ffff:127.0.0.1]:5555", NO_KUBE)
    assert done.returncode == 2 and "127.0.0.1" in done.stderr and done.stdout == ""


def test_a_named_resolv_conf_without_nameservers_is_exit_2_before_any_work(
    tmp_path: Path,
) -> None:
    """--resolv-conf steers only the DNS lens, but a file the user named that cannot
    serve is a typo in the command: one line naming it, exit 2, nothing probed. (A
    stopped run's partial report: test_faults.py, the deadline.)"""
    report_file = tmp_path / "report.json"
    (tmp_path / "empty.conf").write_text("# no nameserver line\n")
    done = run_cli(
        "check",
        "--peer",
        "peer.example",
        NO_KUBE,
        "--resolv-conf",
        str(tmp_path / "empty.conf"),
        "--report-file",
        str(report_file),
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "empty.conf" in done.stderr
    assert "Traceback" not in done.stderr and not report_file.exists()


def test_an_unusable_lens_configuration_leaves_getaddrinfo_in_charge() -> None:
    """The default resolv.conf unreadable by dnspython (a container without nameserver
    lines): the lens is off and says so; getaddrinfo's answer still decides."""
    from probe.resolve import resolve_targets
    from probe.targets import parse_peers

    def lookup(host: str) -> tuple[list[tuple[Family, str]], str]:
        return [(Family.IPV4, "192.0.2.4")], host

    answers = resolve_targets(parse_peers(["peer"]), "/nonexistent/resolv.conf", 1.0, lookup)
    v4 = next(a for a in answers if a.family is Family.IPV4)
    assert v4.addresses == ("192.0.2.4",) and v4.lens is None
    assert "no DNS lens: cannot read resolver configuration" in v4.detail


# A name that does not resolve (dns-error rows in both families, VP201) is a lab scenario
# ("nxdomain"): names go through the system's getaddrinfo, which a test outside a lab
# namespace must never call (it would query this machine's nameservers).


def test_explain_fits_80_columns_for_every_check(capsys: pytest.CaptureFixture[str]) -> None:
    """`voltprobe explain VPxxx` is the hint on every table line: readable at 80 columns,
    without the docstrings' source indentation."""
    from probe.checks import DEFAULT_REGISTRY
    from probe.cli import main

    for spec in DEFAULT_REGISTRY.specs():
        assert main(["explain", spec.id]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert max(len(line) for line in lines) <= 80, spec.id
        assert not any(line.startswith("    ") for line in lines), spec.id


def test_explain_prints_text_and_remedy() -> None:
    done = run_cli("explain", "vp304")
    assert done.returncode == 0
    assert "VP304" in done.stdout and "Remedy:" in done.stdout
    assert "admin" in done.stdout.lower()


def test_endpoint_cap_refuses_scanner_sized_input_before_sending_anything() -> None:
    peers = ",".join(f"192.0.2.1:{port}" for port in range(1, 4098))
    done = run_cli("check", "--peer", peers, NO_KUBE, "-o", "json")
    assert done.returncode == 2
    assert "not a scanner" in done.stderr
    assert done.stdout == ""  # refused while parsing: nothing resolved, nothing probed


def test_serve_answers_with_one_json_line_naming_the_client() -> None:
    import socket

    with responder() as port, socket.create_connection(("127.0.0.1", port), 5) as client:
        line = client.makefile().readline()
        local = client.getsockname()
    answer = json.loads(line)
    assert answer["server"] == "voltprobe"
    assert answer["listener"] == f"127.0.0.1:{port}"
    assert answer["client"] == f"{local[0]}:{local[1]}"


def test_an_unwritable_destination_is_exit_2_before_the_run(tmp_path: Path) -> None:
    values = tmp_path / "values.yaml"
    missing = tmp_path / "missing-dir" / "report.json"
    done = run_cli(
        "check", "--peer", "192.0.2.1", NO_KUBE, "--report-file", str(missing),
        "--values-out", str(values),
    )  # fmt: skip
    assert done.returncode == 2
    assert f"--report-file {missing}: directory" in done.stderr and "does not exist" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""  # nothing ran
    assert not values.exists()


def test_a_pipe_with_no_reader_is_exit_3_and_the_other_outputs_still_happen(
    tmp_path: Path,
) -> None:
    values = tmp_path / "values.yaml"
    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    with responder() as port:
        done = run_cli(
            "check", "--peer", f"127.0.0.1:{port}", NO_KUBE,
            "--report-file", str(fifo), "--values-out", str(values),
            timeout=20,
        )  # fmt: skip
    assert done.returncode == 3
    assert f"cannot write {fifo}: a pipe with no reader" in done.stderr
    assert "Traceback" not in done.stderr
    assert "PASS: XDCR can use" in done.stdout  # the report still reached stdout
    assert yaml.safe_load(values.read_text()) is not None  # and the other file was written


@pytest.mark.parametrize(
    ("first", "second"),
    [("--report-file", "--values-out"), ("--report-file", "--termination-log")],
)
def test_two_outputs_naming_one_file_are_refused(tmp_path: Path, first: str, second: str) -> None:
    target = tmp_path / "out.txt"
    target.write_text("kept\n")
    done = run_cli(
        "check", "--peer", "127.0.0.1:1", NO_KUBE, first, str(target), second,
        str(tmp_path / "." / "out.txt"),
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert f"{first} and {second} both name" in done.stderr and "Traceback" not in done.stderr
    assert target.read_text() == "kept\n"  # nothing was written: refused before any work


@pytest.mark.parametrize(
    ("options", "said"),
    [
        (["--mode", "connect", "--rate", "100"], "--rate paces raw SYN probes: it has no effect with --mode connect"),
        (["--mode", "raw", "--concurrency", "8"], "--concurrency bounds connect() probes: it has no effect with --mode raw"),
        (["--data-path", "off", "--samples", "3"], "it has no effect with --data-path off"),
        (["--path-quality", "off", "--samples", "3"], "it has no effect with --path-quality off"),
    ],
)  # fmt: skip
def test_an_option_without_effect_names_the_setting_that_voids_it(
    options: list[str], said: str
) -> None:
    done = run_cli("check", "--peer", "127.0.0.1:1", NO_KUBE, *options)
    assert done.returncode == 2 and said in done.stderr, done.stderr


@pytest.mark.parametrize("name", ["", "  ", "a\tb"])
def test_an_empty_or_invisible_cluster_name_is_refused(name: str) -> None:
    done = run_cli("check", "--peer", "127.0.0.1:1", NO_KUBE, "--cluster", name)
    assert done.returncode == 2 and "--cluster needs a non-empty" in done.stderr, done.stderr


def test_a_context_without_any_kubeconfig_says_there_is_none(tmp_path: Path) -> None:
    env = {**os.environ, "HOME": str(tmp_path), "KUBECONFIG": ""}
    done = subprocess.run(
        [sys.executable, "-m", "probe", "check", "--peer", "127.0.0.1:1", "--context", "nope"],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "there is no kubeconfig" in done.stderr and "does not exist" in done.stderr


def test_who_probed_whom_must_pair(tmp_path: Path) -> None:
    """A cluster does not probe itself, and --peer-cluster must agree with the name in
    --peer-report: either would make a report the merge cannot pair."""
    itself = run_cli(
        "check", "--peer", "127.0.0.1:1", NO_KUBE, "--cluster", "a", "--peer-cluster", "a"
    )
    assert itself.returncode == 2 and "does not probe itself" in itself.stderr
    from tests.support.reports import lb_service, local

    inventory = {
        "schema": "voltprobe/v1",
        "kind": "inventory",
        "version": "0.2.0",
        "cluster": {"name": "y"},
        "local": local(lb_service("127.0.0.1", "::1")),
    }
    path = tmp_path / "y.json"
    path.write_text(json.dumps(inventory))
    other = run_cli("check", NO_KUBE, "--peer-report", str(path), "--peer-cluster", "q")
    assert other.returncode == 2 and "is the report of cluster y" in other.stderr, other.stderr


@pytest.mark.parametrize("output", ["markdown", "table", "wide", "short"])
def test_an_ascii_only_stdout_gets_the_whole_report(output: str) -> None:
    """PYTHONIOENCODING=ascii: what the encoding cannot show is escaped, the report is
    still delivered (a reviewer's markdown ended with exit 3 on an arrow)."""
    port = closed_port()
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    done = subprocess.run(
        [sys.executable, "-m", "probe", "check", "--peer", f"127.0.0.1:{port}", NO_KUBE,
         "--mode", "connect", "-o", output],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "cannot write" not in done.stderr and done.stdout
