"""The peer as VoltDB's JVM sees it, end to end in the lab (prober j, see jvmlab.py):
getaddrinfo's answers (/etc/hosts, the search walk), DNS findings that fit the evidence,
the JVM's dialling order checked against a real JVM, one state for a local refusal in
both probers, and a finding for every failure.
"""

from __future__ import annotations

import ipaddress
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from probe.model import Family, Method

from . import firewall
from .firewall import drop
from .jvmlab import (
    NAT64_PREFIX,
    ONE_FAMILY_PORT,
    UNROUTED_DNS,
    JvmLab,
    build_jvm_lab,
    resolv_conf,
)
from .topology import DR_PORT, Lab, pod4, pod6
from .voltcheck import CheckRun, run_check

pytestmark = pytest.mark.lab

V4, V6 = "IPv4", "IPv6"
HERE = Path(__file__).resolve().parent
NAMES = (
    "dual",
    "peer-dr",
    "servfail6",
    "mapped",
    "mapped-only",
    "nat64",
    "v6only",
    "hosts-peer",
    "hosts-v4",
)


@pytest.fixture(scope="module")
def jvm_lab(lab: Lab) -> JvmLab:
    return build_jvm_lab(lab)


@pytest.fixture
def j(jvm_lab: JvmLab) -> Iterator[JvmLab]:
    jvm_lab.lab.reset()
    yield jvm_lab
    jvm_lab.lab.reset()


def check(
    j: JvmLab, *args: str, method: Method = Method.CONNECT
) -> tuple[CheckRun, dict[str, Any]]:
    run = run_check(j.prober, list(args), method)
    assert run.report is not None, run.describe()
    return run, run.report


def rows(report: dict[str, Any], target: str, family: str) -> list[dict[str, Any]]:
    return [r for r in report["probes"] if r["target"] == target and r["family"] == family]


def findings(report: dict[str, Any], check_id: str) -> list[dict[str, Any]]:
    return [f for f in report["findings"] if f["id"] == check_id]


def dns_of(report: dict[str, Any], target: str, family: str) -> dict[str, Any]:
    (answer,) = [a for a in report["dns"] if a["target"] == target and a["family"] == family]
    return answer


def assert_every_failure_explained(run: CheckRun, report: dict[str, Any]) -> None:
    """Every row that is not open is a subject (or the target) of some finding, and a
    FAIL has an error finding."""
    subjects = " | ".join(s for f in report["findings"] for s in f["subjects"])
    for row in report["probes"]:
        if row["state"] != "open":
            assert row["target"] in subjects, (row, run.describe())
    if run.exit_code == 1:
        assert any(f["severity"] == "error" for f in report["findings"]), run.describe()


# --- resolution = getaddrinfo ---------------------------------------------------------


def test_names_from_etc_hosts_are_seen_as_the_jvm_sees_them(j: JvmLab) -> None:
    run, report = check(j, "--peer", "hosts-peer")
    assert run.exit_code == 0, run.describe()
    assert [r["address"] for r in rows(report, "hosts-peer", V4)] == [pod4(11)]
    assert [r["address"] for r in rows(report, "hosts-peer", V6)] == [pod6(11)]
    assert {r["state"] for r in report["probes"]} == {"open"}
    assert report["recommendation"]["connectionSource"]["value"] == f"hosts-peer:{DR_PORT}"
    (vp205, *_rest) = findings(report, "VP205")  # DNS itself does not know the name
    assert "/etc/hosts" in vp205["message"]
    assert not findings(report, "VP201") and not findings(report, "VP204")


def test_a_hosts_entry_in_one_family_is_not_a_dns_failure(j: JvmLab) -> None:
    run, report = check(j, "--peer", "hosts-v4")
    assert run.exit_code == 0, run.describe()
    assert dns_of(report, "hosts-v4", V6)["outcome"] == "no-address"
    assert not findings(report, "VP204")


def test_search_walk_once_for_both_types_no_wildcard_aaaa_from_another_domain(j: JvmLab) -> None:
    """The issue's case 2: A at peer-dr.b.example, its AAAA NXDOMAIN (a broken server),
    wildcard A and AAAA under corp.example. glibc stops at peer-dr.b.example and sees the
    A only; with IPv4 dropped the run must FAIL, not pass over the wildcard's IPv6."""
    j.lab.set_rules((drop(Family.IPV4),))
    with j.resolver(resolv_conf("b.example corp.example")):
        run, report = check(j, "--peer", "peer-dr")
    assert run.exit_code == 1, run.describe()
    assert [r["state"] for r in rows(report, "peer-dr", V4)] == ["filtered"]
    assert [(r["state"], r["address"]) for r in rows(report, "peer-dr", V6)] == [
        ("dns-error", None)
    ]
    assert pod6(2) not in str(report["probes"]) and pod4(2) not in str(report["probes"])
    assert report["recommendation"]["ipFamilies"] == []
    assert report["recommendation"]["connectionSource"] is None
    (vp204,) = findings(report, "VP204")
    assert vp204["severity"] == "error" and "nxdomain" in vp204["message"]
    assert findings(report, "VP300")[0]["severity"] == "error"
    assert findings(report, "VP303")
    assert dns_of(report, "peer-dr", V4)["canonicalName"] == "peer-dr.b.example"
    assert_every_failure_explained(run, report)


GETADDRINFO = """
import socket, sys
for name in sys.argv[1:]:
    try:
        infos = socket.getaddrinfo(name, None, 0, socket.SOCK_STREAM)
    except socket.gaierror:
        print(name)
        continue
    print(name, *dict.fromkeys(info[4][0] for info in infos))
"""


def system_answers(ns_run: Any, names: tuple[str, ...]) -> dict[str, list[str]]:
    out = ns_run(sys.executable, "-c", GETADDRINFO, *names)
    lines = [line.split() for line in out.splitlines() if line.strip()]
    return {words[0]: on_the_wire(words[1:]) for words in lines}


def on_the_wire(addresses: list[str]) -> list[str]:
    """Each address as it goes on the wire (a mapped IPv6 address is IPv4), once, sorted."""
    wire = set()
    for address in addresses:
        ip = ipaddress.ip_address(address)
        mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
        wire.add(str(mapped or ip))
    return sorted(wire)


def voltprobe_answers(report: dict[str, Any], names: tuple[str, ...]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name in names:
        answers = [a for a in report["dns"] if a["target"] == name]
        found[name] = on_the_wire(
            [x for a in answers for x in a["addresses"] + a.get("ignored", [])]
        )
    return found


def test_differential_voltprobe_addresses_equal_getaddrinfo_in_the_same_namespace(
    j: JvmLab,
) -> None:
    lab_names = ("volt-dr", "volt-pods", "volt-legacy", "volt-v6", "volt-stale")
    for ns, names in ((j.prober, NAMES), (j.lab.prober(), lab_names)):
        run = run_check(ns, ["--peer", ",".join(names)])
        assert run.report is not None, run.describe()
        expected = system_answers(ns.run, names)
        assert voltprobe_answers(run.report, names) == expected, run.describe()


# --- DNS findings that fit the evidence -------------------------------------------------


def test_one_type_refused_says_refused_not_servfail(j: JvmLab) -> None:
    run, report = check(j, "--peer", "refused6")
    assert run.exit_code == 0 and report["recommendation"]["ipFamilies"] == [V4], run.describe()
    assert dns_of(report, "refused6", V6)["outcome"] == "refused"
    (vp204,) = findings(report, "VP204")
    assert "refused after" in vp204["message"]


def test_one_type_servfail_is_its_own_warning_on_a_passing_run(j: JvmLab) -> None:
    run, report = check(j, "--peer", "servfail6")
    assert run.exit_code == 0 and report["recommendation"]["ipFamilies"] == [V4]
    assert dns_of(report, "servfail6", V6)["outcome"] == "servfail"
    assert not findings(report, "VP201")
    (vp204,) = findings(report, "VP204")
    assert vp204["severity"] == "warning" and " ms" in vp204["message"]
    assert "RFC 8020" in vp204["remedy"] and "30 s" in vp204["remedy"]


@pytest.mark.parametrize("dns_timeout", ["1", "3"])
def test_one_type_silent_is_waited_out_as_glibc_and_the_jvm_do(j: JvmLab, dns_timeout: str) -> None:
    # the AAAA of silent6 is never answered: glibc (timeout:1 attempts:1) returns the A
    # after 3 s, past --dns-timeout 1 (and, at 3, while the lens still waits on the AAAA);
    # the JVM gets that A, so the run does too
    run, report = check(j, "--peer", "silent6", "--dns-timeout", dns_timeout)
    v4, v6 = dns_of(report, "silent6", V4), dns_of(report, "silent6", V6)
    assert v4["outcome"] == "ok" and v4["addresses"] == [pod4(1)], run.describe()
    assert 2500 <= v4["ms"] < 5000, v4
    assert v6["outcome"] == "timeout" and v6["lens"]["outcome"] == "timeout"
    assert run.exit_code == 0 and report["recommendation"]["ipFamilies"] == [V4]
    assert not findings(report, "VP201")
    (vp204,) = findings(report, "VP204")
    assert vp204["severity"] == "warning" and "getaddrinfo took 3." in vp204["message"]
    assert run.seconds < 3 * float(dns_timeout) + 6, run.describe()  # a hang guard


def test_a_prefer_ipv4_stack_jvm_never_asks_for_the_silent_aaaa(j: JvmLab) -> None:
    # that JVM resolves with AF_INET (A records only): no AAAA timeout to wait out, no
    # AAAA failure to report; its IPv6 answer says it was not asked
    run, report = check(j, "--peer", "silent6", "--dns-timeout", "1", "--jvm-prefer", "ipv4-stack")
    v4, v6 = dns_of(report, "silent6", V4), dns_of(report, "silent6", V6)
    assert v4["outcome"] == "ok" and v4["ms"] < 1000, run.describe()
    assert v6["outcome"] == "no-address" and "preferIPv4Stack" in v6["detail"]
    assert run.exit_code == 0 and report["recommendation"]["ipFamilies"] == [V4]
    assert not findings(report, "VP204") and not findings(report, "VP201")
    (vp202,) = findings(report, "VP202")
    assert "not looked up" in vp202["message"]


def test_a_run_deadline_shorter_than_glibc_says_so_not_that_the_name_is_missing(
    j: JvmLab,
) -> None:
    run, report = check(j, "--peer", "silent6", "--dns-timeout", "1", "--deadline", "8")
    # 8 s minus the probes' reserve leaves less than glibc's 3 s: the A never came
    assert run.exit_code in (1, 3), run.describe()
    (vp201,) = findings(report, "VP201")
    assert "while DNS answered IPv4" in vp201["message"] and "--deadline" in vp201["remedy"]
    assert "does not resolve" not in vp201["message"]


def test_an_unreachable_nameserver_is_its_own_outcome_not_servfail(j: JvmLab) -> None:
    with j.resolver(resolv_conf(nameserver=UNROUTED_DNS)):
        run, report = check(j, "--peer", "dual", "--dns-timeout", "1")
    assert run.exit_code == 1, run.describe()
    outcomes = {dns_of(report, "dual", f)["outcome"] for f in (V4, V6)}
    assert outcomes == {"nameserver-unreachable"}, run.describe()
    (vp201,) = findings(report, "VP201")
    assert "nameserver-unreachable" in vp201["message"]
    assert_every_failure_explained(run, report)


def test_an_ipv4_mapped_aaaa_is_a_dns_finding_and_never_an_ipv6_row(j: JvmLab) -> None:
    run, report = check(j, "--peer", "mapped")
    assert run.exit_code == 0 and report["recommendation"]["ipFamilies"] == [V4]
    assert [r["state"] for r in rows(report, "mapped", V6)] == ["no-address"]
    for row in report["probes"]:  # the family in a row is the family on the wire
        if row["address"]:
            ip = ipaddress.ip_address(row["address"])
            assert (ip.version == 6) == (row["family"] == V6)
            assert not (ip.version == 6 and ip.ipv4_mapped), row
    assert findings(report, "VP206")


def test_a_name_with_only_a_mapped_aaaa_is_probed_as_its_ipv4_address(j: JvmLab) -> None:
    run, report = check(j, "--peer", "mapped-only")
    # the JVM dials ::ffff:198.51.100.1 as 198.51.100.1 over IPv4: so does the check
    assert [(r["address"], r["state"]) for r in rows(report, "mapped-only", V4)] == [
        (pod4(1), "open")
    ], run.describe()
    assert run.exit_code == 0 and report["recommendation"]["ipFamilies"] == [V4]
    assert findings(report, "VP206") and not findings(report, "VP201")
    assert not findings(report, "VP205"), run.describe()


def test_a_mapped_literal_is_refused_naming_the_ipv4_form(j: JvmLab) -> None:
    run = run_check(j.prober, ["--peer", f"[::ffff:{pod4(1)}]:5555"])
    assert run.exit_code == 2 and run.stdout == ""
    assert pod4(1) in run.stderr and len(run.stderr.strip().splitlines()) == 1


def test_dns64_synthesis_under_an_announced_prefix_is_recognised(j: JvmLab) -> None:
    run, report = check(j, "--peer", "nat64")
    assert dns_of(report, "nat64", V6)["nat64Prefix"] == NAT64_PREFIX, run.describe()
    (vp207,) = findings(report, "VP207")
    assert vp207["severity"] == "warning" and "NAT64" in vp207["message"]
    assert "fails" in vp207["message"]  # no route to the NAT64 prefix from j
    assert report["recommendation"]["ipFamilies"] == [V4]


def test_an_unbracketed_ipv6_with_a_decimal_last_group_is_warned(j: JvmLab) -> None:
    text = f"{pod6(1)}:5555"
    run, report = check(j, "--peer", text)
    assert [r["address"] for r in report["probes"]] == [f"{pod6(1)}:5555"]
    (vp208,) = findings(report, "VP208")
    assert f"[{pod6(1)}]:5555" in vp208["message"], run.describe()


# --- the JVM's dialling order -------------------------------------------------------------

JVM_FLAGS = {
    "ipv4": (),
    "ipv6": ("-Djava.net.preferIPv6Addresses=true",),
    "system": ("-Djava.net.preferIPv6Addresses=system",),
    "ipv4-stack": ("-Djava.net.preferIPv4Stack=true",),
}


def java_first(j: JvmLab, flags: tuple[str, ...], names: tuple[str, ...]) -> dict[str, str]:
    java = shutil.which("java")
    assert java, "the lab needs a JVM (Debian default-jdk-headless)"
    out = j.prober.run(java, *flags, str(HERE / "JvmOrder.java"), *names, timeout=60)
    first: dict[str, str] = {}
    for line in out.splitlines():
        name, *addresses = line.split()
        if addresses == ["-"]:
            first[name] = ""
            continue
        ip = ipaddress.ip_address(addresses[0])
        mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
        first[name] = str(mapped or ip)  # a mapped address goes on the wire as IPv4
    return first


@pytest.mark.parametrize("prefer", sorted(JVM_FLAGS))
def test_predicted_first_address_equals_a_real_jvms(j: JvmLab, prefer: str) -> None:
    names = tuple(n for n in NAMES if n != "servfail6")  # glibc retries SERVFAIL: slow
    run, report = check(j, "--peer", ",".join(names), "--jvm-prefer", prefer)
    predicted = {f["subjects"][0]: f["subjects"][1] for f in findings(report, "VP503")}
    assert predicted == java_first(j, JVM_FLAGS[prefer], names), run.describe()


def test_a_listener_on_one_family_and_ipv6_first_jvm_gets_literals(j: JvmLab) -> None:
    port = str(ONE_FAMILY_PORT)
    run, report = check(j, "--peer", "dual", "--port", port, "--jvm-prefer", "ipv6")
    assert run.exit_code == 0, run.describe()
    assert [r["state"] for r in rows(report, "dual", V4)] == ["open"]
    assert [r["state"] for r in rows(report, "dual", V6)] == ["closed"]
    assert report["recommendation"]["ipFamilies"] == [V4]
    assert report["recommendation"]["connectionSource"]["value"] == f"{pod4(1)}:{port}"
    (vp501,) = findings(report, "VP501")
    assert f"[{pod6(1)}]:{port}" in vp501["message"] and "closed" in vp501["message"]
    assert findings(report, "VP302")  # the closed IPv6 row is explained
    # the JDK default dials IPv4 first: the name is kept
    run, report = check(j, "--peer", "dual", "--port", port)
    assert report["recommendation"]["connectionSource"]["value"] == f"dual:{port}"
    assert not findings(report, "VP501")


def test_prefer_ipv4_stack_rules_ipv6_out(j: JvmLab) -> None:
    run, report = check(j, "--peer", "v6only", "--jvm-prefer", "ipv4-stack")
    assert run.exit_code == 1, run.describe()
    (vp300,) = findings(report, "VP300")
    assert "cannot use IPv6" in vp300["message"] and "preferIPv4Stack" in vp300["message"]


# --- one state vocabulary: a local refusal --------------------------------------------------


@pytest.mark.parametrize("method", [Method.CONNECT, Method.RAW], ids=str)
@pytest.mark.parametrize(
    "verdict",
    [
        "drop",
        "reject with icmpx admin-prohibited",
        "reject",
        "reject with icmpx host-unreachable",
        "reject with icmpx no-route",
    ],
    ids=["drop", "prohibit", "reject", "host-unreachable", "no-route"],
)
def test_a_local_output_rule_is_local_deny_in_both_modes(
    j: JvmLab, method: Method, verdict: str
) -> None:
    rule = f"tcp dport {DR_PORT} {verdict}"
    with j.output_rule(rule):
        # connect mode sees the refusal at the SYN's first retransmission (~1 s)
        run, report = check(j, "--peer", "dual", "--timeout", "2", method=method)
    states = {(r["family"], r["state"], r["reason"]) for r in report["probes"]}
    reason = "local-rule (a rule on this host refused to send; nothing left it)"
    assert states == {(V4, "local-deny", reason), (V6, "local-deny", reason)}, run.describe()
    assert run.exit_code == 1
    assert findings(report, "VP309")
    blamed = {f["id"] for f in report["findings"]} & {"VP303", "VP304", "VP305"}
    assert not blamed, run.describe()  # nothing blames a router, a firewall or the peer
    assert_every_failure_explained(run, report)


@pytest.mark.parametrize("method", [Method.CONNECT, Method.RAW], ids=str)
@pytest.mark.parametrize("kind", ["unreachable", "blackhole"])
def test_a_local_route_that_refuses_is_no_route_in_both_modes(
    j: JvmLab, method: Method, kind: str
) -> None:
    """`ip route add unreachable|blackhole` for the peer's addresses: this host's routing
    refused, nothing was sent; no finding may blame a router (VP305) or call it an
    unexpected error (VP307)."""
    routes = [(pod4(1) + "/32", "-4"), (pod6(1) + "/128", "-6")]
    for prefix, version in routes:
        j.prober.ip(version, "route", "add", kind, prefix)
    try:
        run, report = check(j, "--peer", f"{pod4(1)},[{pod6(1)}]", method=method)
    finally:
        for prefix, version in routes:
            j.prober.ip(version, "route", "del", kind, prefix)
    assert {r["state"] for r in report["probes"]} == {"no-route"}, run.describe()
    assert {r["reason"].split(" ")[0] for r in report["probes"]} == {"no-route"}
    found = {f["id"] for f in report["findings"]}
    assert "VP306" in found and not found & {"VP305", "VP307"}, run.describe()


def test_a_local_tcp_reset_rule_is_local_deny_in_raw_mode_and_said_in_connect_mode(
    j: JvmLab,
) -> None:
    rule = f"tcp dport {DR_PORT} reject with tcp reset"
    with j.output_rule(rule):
        raw_run, raw = check(j, "--peer", "dual", method=Method.RAW)
        connect_run, connect = check(j, "--peer", "dual", method=Method.CONNECT)
    assert {r["state"] for r in raw["probes"]} == {"local-deny"}, raw_run.describe()
    assert not {f["id"] for f in raw["findings"]} & {"VP302", "VP303", "VP305"}
    # connect() gets ECONNREFUSED and cannot see where the reset came from: it says so
    assert {r["state"] for r in connect["probes"]} == {"closed"}, connect_run.describe()
    (vp302,) = findings(connect, "VP302")
    assert "reject with tcp reset" in vp302["message"] and "--mode raw" in vp302["message"]


# --- the DNS deadline ----------------------------------------------------------------------


@pytest.mark.parametrize("count", [10, 640])
def test_silent_dns_ends_at_the_deadline(j: JvmLab, count: int) -> None:
    j.lab.set_rules(firewall.silent_dns())
    names = ",".join(f"n{i}" for i in range(count))
    started = time.monotonic()
    run, report = check(j, "--peer", names, "--dns-timeout", "1")
    assert time.monotonic() - started < 10, run.describe()  # a hang guard, not a benchmark
    assert run.exit_code == 1
    assert {a["outcome"] for a in report["dns"]} == {"timeout"}
    assert len(findings(report, "VP201")) == count


def test_java_is_installed_for_the_reference() -> None:
    done = subprocess.run(["java", "-version"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
