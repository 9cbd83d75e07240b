"""The checklist table: 80 columns, the verdict first and last, a hint per problem, one
line per finding id, collapsed groups, ASCII and colour; and the CLI's output options."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from probe.choice import choose
from probe.model import DnsOutcome, Family, ProbeState, Report
from probe.options import CheckOptions, KubeOptions, Mode
from probe.pipeline import Learned, build_report
from probe.render import render
from probe.render.table import WIDTH, elide, elide_list
from probe.targets import parse_peers
from tests.support.facts import V4, V6, dns, row
from tests.support.processes import closed_port, responder, run_cli

ANSI = re.compile(r"\033\[[0-9;]*m")
CROSS, BANG = "\u00d7", "\u203c"
LONG = "volt-b-voltdb-cluster-dr-discovery.really-long-namespace.svc.cluster.example"


def report_of(peers: str, answers: list, rows: list) -> Report:
    options = CheckOptions(
        targets=parse_peers([peers]), mode=Mode.CONNECT, kube=KubeOptions(enabled=False)
    )
    learned = Learned(dns=tuple(answers), probes=tuple(rows))
    return build_report(options, learned)


def many_endpoints() -> Report:
    v6 = [f"2001:db8:aaaa:bbbb:cccc:dddd:eeee:{i:x}" for i in range(40)]
    answers = [dns(LONG, V4, "192.0.2.7"), dns(LONG, V6, *v6)]
    rows = [row(LONG, "192.0.2.7", ProbeState.CLOSED, "reset")]
    rows += [row(LONG, a, ProbeState.FILTERED, "no-response") for a in v6]
    return report_of(LONG, answers, rows)


def dns_errors() -> Report:
    reason = "servfail: " + "the server at 192.0.2.53 answered SERVFAIL for AAAA " * 4
    answers = [
        dns(LONG, V4, outcome=DnsOutcome.NXDOMAIN),
        dns(LONG, V6, outcome=DnsOutcome.SERVFAIL),
    ]
    rows = [
        row(LONG, None, ProbeState.DNS_ERROR, "nxdomain", family=V4),
        row(LONG, None, ProbeState.DNS_ERROR, reason, family=V6),
    ]
    return report_of(LONG, answers, rows)


def passing() -> Report:
    answers = [dns("peer", V4, "192.0.2.2"), dns("peer", V6, "2001:db8::2")]
    rows = [row("peer", "192.0.2.2", ProbeState.OPEN), row("peer", "2001:db8::2", ProbeState.OPEN)]
    return report_of("peer", answers, rows)


@pytest.mark.parametrize("make", [many_endpoints, dns_errors, passing])
@pytest.mark.parametrize("color", [False, True])
def test_every_line_fits_80_columns_and_the_verdict_opens_and_closes(make, color) -> None:
    report = make()
    text = render(report, "table", color=color)
    lines = [ANSI.sub("", line) for line in text.splitlines()]
    assert max(len(line) for line in lines) <= WIDTH, "\n".join(lines)
    assert lines[1] == lines[-1] and lines[1][2:6] in ("PASS", "FAIL")
    assert ("\033[" in text) is color
    # every problem line has its hint on the next line
    for index, line in enumerate(lines):
        match = re.match(f"  [{CROSS}{BANG}] (VP\\d{{3}}) ", line)
        if match:
            assert lines[index + 1].strip() == f"hint: voltprobe explain {match.group(1)}"


def test_one_line_per_finding_id_and_the_fail_names_the_family_problems() -> None:
    report = many_endpoints()
    text = render(report, "table")
    assert text.count("VP303") == 2  # the line and its hint, not one per endpoint
    assert "IPv6  0/40 open" in text and "+" in text and "more" in text
    assert "IPv4  0/1 open  192.0.2.7:5555 closed (reset)" in text
    assert text.splitlines()[1] == f"{CROSS} FAIL: no IP family reaches every peer DR endpoint"
    assert report.verdict.startswith("FAIL: no IP family") and len(report.verdict) > 80  # JSON


def test_a_passing_run_collapses_and_offers_both_helm_forms() -> None:
    text = render(passing(), "table")
    assert "--set 'cluster.serviceSpec.dr.ipFamilies={IPv4}'" in text
    assert "    cluster:\n      serviceSpec:\n        dr:\n          ipFamilies:\n" in text
    verbose = render(passing(), "table", verbose=True)
    assert "VP302 Nothing listens on the DR port" in verbose  # a passed check, listed
    assert "check(s) passed" not in verbose


def test_ascii_marks_when_the_terminal_cannot_show_them() -> None:
    text = render(dns_errors(), "table", unicode=False)
    text.encode("ascii")  # raises if a mark slipped through
    assert "XX FAIL" in text


def test_short_is_the_verdict_then_one_line_per_problem() -> None:
    lines = render(many_endpoints(), "short").splitlines()
    assert lines[0] == "FAIL: no IP family reaches every peer DR endpoint"
    assert all(re.match(r"VP\d{3} (error|warning) ", line) for line in lines[1:])


def test_elision_keeps_both_ends() -> None:
    assert elide("2001:db8:aaaa:bbbb:cccc:dddd:eeee:1", 15) == "2001:db…:eeee:1"
    assert len(elide("x" * 200, 80)) == 80
    assert elide_list(["a", "b"]) == "a, b"
    assert elide_list([f"endpoint-{i}" for i in range(50)], 40).endswith("more")


def test_choice_of_the_fake_report_is_the_pipelines() -> None:
    report = passing()
    assert report.recommendation.ip_families == (Family.IPV4,)
    assert choose  # the table never decides: it shows the pipeline's choice


# -- the CLI's output options ------------------------------------------------------------

NO_KUBE = "--no-kube"


def test_no_color_env_and_a_pipe_give_plain_text() -> None:
    with responder() as port:
        done = run_cli("check", "--peer", f"127.0.0.1:{port}", NO_KUBE, env={"NO_COLOR": "1"})
    assert done.returncode == 0 and "\033[" not in done.stdout


def test_fail_on_warning_trips_only_a_passing_run(tmp_path: Path) -> None:
    closed = closed_port()
    with responder() as port:
        # IPv4 open, IPv6 closed: PASS with a warning finding (VP302 at warning)
        peers = f"127.0.0.1:{port},[::1]:{closed}"
        plain = run_cli("check", "--peer", peers, NO_KUBE, "-o", "short")
        gated = run_cli("check", "--peer", peers, NO_KUBE, "--fail-on", "warning")
        errors_only = run_cli("check", "--peer", peers, NO_KUBE, "--fail-on", "error")
    assert plain.returncode == 0 and " warning " in plain.stdout, plain.stdout
    assert gated.returncode == 4
    assert errors_only.returncode == 0


def test_values_out_is_never_replaced_by_a_fail(tmp_path: Path) -> None:
    values = tmp_path / "values.yaml"
    values.write_text("cluster: {serviceSpec: {dr: {ipFamilies: [IPv6]}}}\n")
    closed = closed_port()
    done = run_cli(
        "check", "--peer", f"127.0.0.1:{closed}", NO_KUBE, "--values-out", str(values)
    )  # fmt: skip
    assert done.returncode == 1
    assert values.read_text() == "cluster: {serviceSpec: {dr: {ipFamilies: [IPv6]}}}\n"
    assert "left as it was" in done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--mode", "connect", "--quick"], "--quick works on raw SYN probes"),
        (["--mode", "connect", "--pcap", "x.pcap"], "--pcap works on raw SYN probes"),
        (["--no-kube", "--namespace", "volt"], "--namespace cannot be used with --no-kube"),
        (["--context", "nope", "--kubeconfig", "KUBECONFIG"], 'context "nope" does not exist'),
        (["--mode", "connect", "--rate", "100"], "--rate paces raw SYN probes"),
        (["--mode", "raw", "--concurrency", "10"], "--concurrency bounds connect() probes"),
        (["--data-path", "off", "--samples", "3"], "--samples times handshakes"),
        (
            ["--no-kube", "--request-timeout", "3"],
            "--request-timeout cannot be used with --no-kube",
        ),
        (["--no-kube", "--dry-run-service"], "--dry-run-service cannot be used with --no-kube"),
    ],
)
def test_options_that_contradict_the_mode_are_usage_errors(
    tmp_path: Path, args: list[str], message: str
) -> None:
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\ncontexts: [{name: real, context: {}}]\n")
    args = [str(kubeconfig) if a == "KUBECONFIG" else a for a in args]
    done = run_cli("check", "--peer", "192.0.2.1", *args)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and done.stderr.count("\n") == 1


def test_report_file_dash_is_stdout_with_json_only() -> None:
    with responder() as port:
        done = run_cli(
            "check", "--peer", f"127.0.0.1:{port}", NO_KUBE, "-o", "json", "--report-file", "-"
        )
        table = run_cli("check", "--peer", f"127.0.0.1:{port}", NO_KUBE, "--report-file", "-")
    assert (
        done.returncode == 0 and done.stdout.startswith("{") and done.stdout.count('"schema"') == 1
    )
    assert table.returncode == 2 and "use -o json" in table.stderr


def test_request_timeout_takes_kubectls_spelling() -> None:
    from probe.cli.args import seconds

    parse = seconds("--request-timeout", 0, 300)
    assert (parse("5s"), parse("2m"), parse("500ms"), parse("7")) == (5.0, 120.0, 0.5, 7.0)
