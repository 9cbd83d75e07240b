"""The checklist table: 80 columns, the verdict first and last, a hint per problem, one
line per finding id, collapsed groups, ASCII and colour; and the CLI's output options."""

from __future__ import annotations

import json
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
    assert_hints(lines)


def assert_hints(lines: list[str]) -> None:
    """Every problem line has its hint after it, past the finding's continuation lines
    (a wrapped title, or subjects that did not fit after the title)."""
    for index, line in enumerate(lines):
        match = re.match(f"  [{CROSS}{BANG}] (VP\\d{{3}}) ", line)
        if not match:
            continue
        after = lines[index + 1 : index + 4]
        hint = next(i for i, x in enumerate(after) if not x.startswith("      ") or "hint:" in x)
        assert after[hint].strip() == f"hint: voltprobe explain {match.group(1)}", after


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
    assert "VP302 not found: Nothing listens on the DR port" in verbose  # a passed check, listed
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


# -- whole units: names, addresses and state tokens are elided, never cut across ----------

NAME = "a" * 40 + "." + "b" * 30 + ".lab.example"


def mixed_long_names() -> Report:
    """Long peer names, one open endpoint and refused, unreachable and filtered ones: the
    VP301 title with its subjects, and `unreachable (admin-prohibited)` state tokens."""
    from probe.model import IcmpError

    names = [f"{c * 40}.{'b' * 30}.lab.example" for c in "acd"]
    peers = ",".join(f"{n}:5557" for n in names) + ",192.0.2.9:5559"
    answers = [dns(n, V4, f"192.0.2.{i + 2}") for i, n in enumerate(names)]
    answers += [dns(n, V6) for n in names]
    icmp = IcmpError(3, 13, "192.0.2.9")
    rows = [
        row(names[0], "192.0.2.2", ProbeState.OPEN, "syn-ack", port=5557),
        row(names[1], "192.0.2.3", ProbeState.CLOSED, "reset", port=5557),
        row(names[2], "192.0.2.4", ProbeState.CLOSED, "reset", port=5557),
        row(
            "192.0.2.9",
            "192.0.2.9",
            ProbeState.UNREACHABLE,
            "admin-prohibited from 192.0.2.9 (ICMP 3/13), EHOSTUNREACH",
            port=5559,
            icmp=icmp,
        ),
    ]
    rows += [row(n, None, ProbeState.NO_ADDRESS, "no AAAA", port=5557, family=V6) for n in names]
    return report_of(peers, answers, rows)


def plain_lines(text: str) -> list[str]:
    return [ANSI.sub("", line) for line in text.splitlines()]


@pytest.mark.parametrize("make", [many_endpoints, dns_errors, passing, mixed_long_names])
@pytest.mark.parametrize("unicode", [True, False])
def test_verbose_fits_80_columns_too(make, unicode: bool) -> None:
    report = make()
    report.timings.update({"startup": 130.0, "inventory": 5012.4, "resolve": 3.0, "probe": 40.2})
    report.timings.update({"dataPath": 8.0, "checks": 1.0, "render": 0.5})
    lines = plain_lines(render(report, "table", verbose=True, unicode=unicode))
    assert max(len(line) for line in lines) <= WIDTH, "\n".join(lines)
    # the probe rows are there, one line each, and the timings are whole tokens
    start = next(i for i, line in enumerate(lines) if line.startswith("Probe rows"))
    assert lines[start + 1].split()[:3] == ["TARGET", "FAMILY", "ADDRESS"]
    assert len(lines[start + 3 : start + 3 + len(report.probes)]) == len(report.probes)
    timings = " ".join(line for line in lines if line.startswith(("Timings: ", "         ")))
    for name, ms in report.timings.items():
        assert f"{name} {ms:.0f} ms" in timings, timings


def test_verbose_probe_rows_elide_names_and_addresses_in_the_middle() -> None:
    lines = plain_lines(render(many_endpoints(), "table", verbose=True))
    start = next(i for i, line in enumerate(lines) if line.startswith("Probe rows"))
    v6 = [line for line in lines[start:] if " IPv6 " in line]
    assert len(v6) == 40
    for index, line in enumerate(v6):
        target, _family, address, port, state, reason, *_ = line.split()
        assert target.startswith("volt-b") and target.endswith("example") and target.count("…") == 1
        assert address.startswith("2001:db8") and address.endswith(f":{index:x}")
        assert (port, state, reason) == ("5555", "filtered", "no-response")  # never cut


def test_titles_and_state_tokens_are_never_cut_and_a_name_has_one_ellipsis() -> None:
    report = mixed_long_names()
    lines = plain_lines(render(report, "table"))
    assert max(len(line) for line in lines) <= WIDTH, "\n".join(lines)
    text = "\n".join(lines)
    # every finding's title is whole
    for finding in report.findings:
        if finding.severity.value != "info":
            assert f"{finding.id} {finding.title}" in text, (finding.title, text)
    # the reach lines list whole units: `endpoint state (token)` or `+N more`
    states = "|".join(s.value for s in ProbeState)
    unit = re.compile(rf"\S+ ({states})( \([\w-]+\))?|\+\d+ more")
    reach = [line for line in lines if re.match(r"  \S+ IPv[46]  ", line)]
    assert len(reach) == 2, text
    for line in reach:
        for item in line.split("  ", 3)[-1].split(", "):
            assert unit.fullmatch(item), (item, line)
    single = mixed_long_names()
    only = [p for p in single.probes if p.port == 5559 or p.state is ProbeState.OPEN]
    single = report_of("192.0.2.9:5559", [], only)
    assert "192.0.2.9:5559 unreachable (admin-prohibited)" in render(single, "table")
    # an elided name has one ellipsis, never two
    for word in re.findall(r"[\w.:…\[\]-]*…[\w.:…\[\]-]*", text):
        assert word.count("…") == 1, word
    # the subjects that do not fit are counted, and the hint follows the finding's lines
    vp301 = next(i for i, line in enumerate(lines) if " VP301 " in line)
    block = lines[vp301 : vp301 + 3]
    assert "more" in " ".join(block) or "192.0.2.4:5557" in " ".join(block), block
    assert any(line.strip() == "hint: voltprobe explain VP301" for line in block), block


def test_a_title_longer_than_the_line_wraps_whole() -> None:
    from probe.model import Finding, Severity
    from probe.render.table import Style, finding_lines

    title = "A DR load balancer advertises an ingress in a family the Service does not have"
    finding = Finding("VP404", Severity.WARNING, "m", None, title, (LONG, "volt/other-dr"))
    lines = finding_lines(finding, Style())
    assert all(len(line) <= WIDTH for line in lines), lines
    assert " ".join(line.strip() for line in lines).startswith(f"{BANG} VP404 {title}")
    assert lines[-1] == "      hint: voltprobe explain VP404"
    assert "volt/other-dr" in " ".join(lines) and "…" in " ".join(lines)  # LONG elided once


def test_short_lists_the_first_subjects_and_counts_the_rest() -> None:
    peers = [f"192.0.2.{i % 250 + 1}:{5555 + i // 250}" for i in range(2000)]
    answers = []
    rows = []
    for peer in peers:
        address, port = peer.split(":")
        rows.append(row(address, address, ProbeState.FILTERED, "no-response", port=int(port)))
    report = report_of(",".join(peers), answers, rows)
    lines = render(report, "short").splitlines()
    assert max(len(line) for line in lines) < 200, max(len(line) for line in lines)
    vp303 = next(line for line in lines if line.startswith("VP303 "))
    assert "192.0.2.1:5555" in vp303 and "and 1995 more" in vp303, vp303
    subjects = next(f for f in report.findings if f.id == "VP303").subjects
    assert len(subjects) == 2000  # the JSON keeps them all


def test_elide_words_gives_each_word_one_ellipsis() -> None:
    from probe.render.table import elide_words

    assert elide_words("name.example 192.0.2.2:5557", 80) == "name.example 192.0.2.2:5557"
    out = elide_words(f"{NAME} 192.0.2.2:5557", 40)
    assert len(out) == 40 and out.count("…") == 1 and out.endswith(" 192.0.2.2:5557")
    assert elide_words("x" * 30, 10) == elide("x" * 30, 10)


# -- a namespace without Volt DR Services: does it exist? -------------------------------


def test_a_namespace_without_dr_services_says_whether_it_exists(tmp_path: Path) -> None:
    """Through the real client against the fake API server: GET /api/v1/namespaces/NAME
    answers 404 (the table says the namespace does not exist), 200 (it exists: the table
    says only that it holds no DR Service) or 403 (the table says it could not tell)."""
    from tests.fakeapi import FakeApiServer, Fault, objects
    from tests.fakeapi.files import kubeconfig_for

    with FakeApiServer() as api, responder() as port:
        api.load(objects.dual_stack())
        kubeconfig = str(kubeconfig_for(api, tmp_path / "kc"))
        peer = ["--peer", f"127.0.0.1:{port}", "--kubeconfig", kubeconfig, "--mode", "connect"]
        missing = run_cli("check", *peer, "-n", "nosuchns")
        empty = run_cli("check", *peer, "-n", "default")
        found = run_cli("check", *peer, "-n", objects.NAMESPACE)
        gets = [r.path for r in api.requests if r.path.startswith("/api/v1/namespaces/")]
        api.add_fault(Fault(verb="get", resource="namespaces", status=403))
        forbidden = run_cli("check", *peer, "-n", "nosuchns", "-o", "json")
        forbidden_table = run_cli("check", *peer, "-n", "nosuchns")
    for done in (missing, empty, found, forbidden, forbidden_table):
        assert done.returncode in (0, 1) and "Traceback" not in done.stderr, done.stderr
    assert f"{BANG} namespace nosuchns does not exist\n" in missing.stdout, missing.stdout
    assert f"{BANG} no Volt DR Service in namespace default\n" in empty.stdout, empty.stdout
    assert "does not exist" not in empty.stdout and "could not read" not in empty.stdout
    assert "no Volt DR Service" not in found.stdout
    # only asked when the namespace has no DR Service
    assert "/api/v1/namespaces/nosuchns" in gets and "/api/v1/namespaces/default" in gets
    assert f"/api/v1/namespaces/{objects.NAMESPACE}" not in gets
    kube = json.loads(forbidden.stdout)["local"]["kubernetes"]
    assert kube["namespaceExists"] is None and kube["namespaceUnread"] == "HTTP 403 Forbidden"
    assert "no Volt DR Service in namespace nosuchns\n" in forbidden_table.stdout
    assert "could not read whether it exists (HTTP 403 Forbidden)" in forbidden_table.stdout


def test_sentences_wrap_between_words_and_the_header_is_one_line() -> None:
    """A skip's reason wraps onto continuation lines (never cut inside a word); the
    header's no-cluster reason is shortened between words to keep the header one line."""
    report = mixed_long_names()
    long_reason = (
        "the EndpointSlices were not read: " + "403 Forbidden for list endpointslices " * 3
    )
    from dataclasses import replace

    from probe.model import SkippedCheck

    skipped = (*report.skipped_checks, SkippedCheck("VP106", "t", long_reason.strip()))
    report = replace(report, skipped_checks=skipped)
    lines = plain_lines(render(report, "table", verbose=True))
    assert max(len(line) for line in lines) <= WIDTH
    joined = " ".join(line.strip() for line in lines)
    assert f"VP106 skipped: {long_reason.strip()}" in joined
    assert lines[0].startswith("voltprobe ") and lines[1][2:6] == "FAIL"
    reason = re.search(r"no cluster \((.*)\)", lines[0])
    assert reason and reason.group(1).endswith("…") and " " in reason.group(1)
    assert "the run stopped before the inventory".startswith(reason.group(1)[:-1].strip())
