"""Benchmark: whole-process wall time of `voltprobe check` (raw, raw --quick, connect)
against `nmap -sS` on the same targets, in a lab of two network namespaces.

    sudo .venv/bin/python bench/bench_probe.py --n 500 --runs 5 --timeout 1

The lab: namespace `vpr-<pid><rand>-p` (the prober) and `-q` (the peer), joined by a
veth pair. The peer answers for whole documentation prefixes (AnyIP local routes):
N IPv4 addresses in 198.51.100.0/24 + 203.0.113.0/24 and N IPv6 addresses in
2001:db8:2::/64, port 5555. Half the addresses of each family are open (a listener),
a quarter closed (nft: reject with tcp reset), a quarter dropped (nft: drop).

Before timing, the `probe` package is compiled to bytecode (as `pip install` does; with
PYTHONDONTWRITEBYTECODE set, an editable install would otherwise recompile every module
in every run) and one untimed voltprobe run fills the benchmark's own SYN template cache
(a first run on a machine builds the templates with scapy; its time is printed apart).

Each run times every method once, in a shuffled order, with a pause between them;
every method must classify every target as the lab says, or the run is marked wrong.
Traffic goes only to the peer namespace's documentation addresses; the namespaces
and the processes the benchmark started are removed at the end, by name and by PID.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import json
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

PORT = 5555
V4_PREFIXES = ("198.51.100.0/24", "203.0.113.0/24")
V6_PREFIX = "2001:db8:2::/64"
MAX_V4 = 2 * 254
RUN_LIMIT_SECONDS = 120.0  # every timed process is killed after this long

# argv: port, seconds, behaviour ("close": accept and close; "silent": accept and hold,
# as a real DR listener that waits for its client, at most 20,000 held)
LISTENER = """
import socket, sys, time, selectors
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", int(sys.argv[1])))
s.listen(8192)
deadline = time.monotonic() + float(sys.argv[2])
silent = sys.argv[3] == "silent"
held = []
s.settimeout(1.0)
while time.monotonic() < deadline:
    try:
        conn, _ = s.accept()
    except socket.timeout:
        continue
    if silent:
        held = held[-20000:] + [conn]
    else:
        conn.close()
"""
PEER_LISTENERS = ("close", "silent", "serve")


def sh(args: Sequence[str], stdin: str | None = None) -> str:
    proc = subprocess.run(list(args), input=stdin, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: {proc.stderr.strip()}")
    return proc.stdout


@dataclass
class Lab:
    """Two namespaces and a listener; `close()` removes exactly what `open()` made."""

    n: int
    peer_listener: str = "close"  # PEER_LISTENERS: what answers on the open addresses
    name: str = field(default_factory=lambda: f"vpr-{os.getpid()}{secrets.token_hex(2)}")
    listener: subprocess.Popen[bytes] | None = None
    created: list[str] = field(default_factory=list)
    expected: dict[str, str] = field(default_factory=dict)  # address -> state

    @property
    def prober(self) -> str:
        return f"{self.name}-p"

    @property
    def peer(self) -> str:
        return f"{self.name}-q"

    def exec_args(self, *args: str) -> list[str]:
        return ["ip", "netns", "exec", self.prober, *args]

    def open(self) -> None:
        if self.n > MAX_V4:
            raise SystemExit(f"--n must be <= {MAX_V4} (two IPv4 /24 documentation prefixes)")
        for ns in (self.prober, self.peer):
            sh(["ip", "netns", "add", ns])
            self.created.append(ns)
            sh(["ip", "-n", ns, "link", "set", "lo", "up"])
        sh(["ip", "link", "add", "va0", "netns", self.prober, "type", "veth",
            "peer", "name", "vb0", "netns", self.peer])  # fmt: skip
        p, q = self.prober, self.peer
        for ns, dev, v4, v6 in ((p, "va0", "192.0.2.1/24", "2001:db8:1::1/64"),
                                (q, "vb0", "192.0.2.2/24", "2001:db8:1::2/64")):  # fmt: skip
            sh(["ip", "-n", ns, "link", "set", dev, "up"])
            sh(["ip", "-n", ns, "addr", "add", v4, "dev", dev])
            sh(["ip", "-n", ns, "addr", "add", v6, "dev", dev, "nodad"])
        for prefix in V4_PREFIXES:
            sh(["ip", "-n", q, "route", "add", "local", prefix, "dev", "lo"])
            sh(["ip", "-n", p, "route", "add", prefix, "via", "192.0.2.2"])
        sh(["ip", "-n", q, "-6", "route", "add", "local", V6_PREFIX, "dev", "lo"])
        sh(["ip", "-n", p, "-6", "route", "add", V6_PREFIX, "via", "2001:db8:1::2"])
        sh(["ip", "netns", "exec", q, "sysctl", "-qw", "net.core.somaxconn=8192",
            "net.ipv4.tcp_max_syn_backlog=8192", "net.ipv4.icmp_ratelimit=0",
            "net.ipv6.icmp.ratelimit=0"])  # fmt: skip
        self._plan_states()
        sh(["ip", "netns", "exec", q, "nft", "-f", "-"], stdin=self._ruleset())
        if self.peer_listener == "serve":  # voltprobe's responder: greets, echoes
            script = str(Path(sys.executable).parent / "voltprobe")
            command = [script, "serve", "--port", str(PORT)]
        else:
            command = [sys.executable, "-c", LISTENER, str(PORT), "3600", self.peer_listener]
        self.listener = subprocess.Popen(
            ["ip", "netns", "exec", q, *command], stderr=subprocess.DEVNULL
        )
        self._wait_listening()

    def _plan_states(self) -> None:
        v4 = [a for prefix in V4_PREFIXES for a in list(ipaddress.ip_network(prefix).hosts())]
        v6_net = ipaddress.ip_network(V6_PREFIX)
        v6 = [v6_net[i] for i in range(1, self.n + 1)]
        for addresses in (v4[: self.n], v6):
            for index, address in enumerate(addresses):
                share = index / self.n
                state = "open" if share < 0.5 else "closed" if share < 0.75 else "filtered"
                self.expected[str(address)] = state

    def _ruleset(self) -> str:
        def elements(state: str, version: int) -> str:
            return ", ".join(
                a for a, s in self.expected.items()
                if s == state and ipaddress.ip_address(a).version == version
            )  # fmt: skip

        return (
            "table inet vprbench {\n  chain input {\n"
            "    type filter hook input priority 0; policy accept;\n"
            f"    ip daddr {{ {elements('closed', 4)} }} tcp dport {PORT} reject with tcp reset\n"
            f"    ip6 daddr {{ {elements('closed', 6)} }} tcp dport {PORT} reject with tcp reset\n"
            f"    ip daddr {{ {elements('filtered', 4)} }} tcp dport {PORT} drop\n"
            f"    ip6 daddr {{ {elements('filtered', 6)} }} tcp dport {PORT} drop\n"
            "  }\n}\n"
        )

    def _wait_listening(self) -> None:
        probe = f"import socket; socket.create_connection(('192.0.2.2', {PORT}), 0.5).close()"
        for _ in range(100):
            if subprocess.run(self.exec_args(sys.executable, "-c", probe),
                              capture_output=True, check=False).returncode == 0:  # fmt: skip
                return
            time.sleep(0.1)
        raise RuntimeError("the lab listener did not start")

    def close(self) -> None:
        if self.listener is not None and self.listener.poll() is None:
            self.listener.terminate()
            try:
                self.listener.wait(5)
            except subprocess.TimeoutExpired:
                self.listener.kill()
                self.listener.wait()
        for ns in reversed(self.created):
            subprocess.run(["ip", "netns", "delete", ns], check=False)
        self.created.clear()


@dataclass(frozen=True)
class Outcome:
    """One timed method run: wall seconds, CPU seconds, peak RSS (MiB) and its verdicts."""

    wall: float
    cpu: float
    rss_mb: float
    states: dict[str, str]  # address -> open/closed/filtered/unreachable
    note: str = ""


def timed(commands: Sequence[Sequence[str]]) -> tuple[float, float, float, list[str]]:
    """Start the commands together; wall time until the last exits, summed CPU, max RSS."""
    outputs: list[str] = []
    with contextlib.ExitStack() as stack:
        files = [stack.enter_context(tempfile.TemporaryFile()) for _ in commands]
        wall, cpu, rss = _wait_all(commands, files)
        for f in files:
            f.seek(0)
            outputs.append(f.read().decode())
    return wall, cpu, rss, outputs


def _wait_all(
    commands: Sequence[Sequence[str]], files: list[IO[bytes]]
) -> tuple[float, float, float]:
    started = time.perf_counter()
    procs = [subprocess.Popen(list(c), stdout=f, stderr=subprocess.DEVNULL)
             for c, f in zip(commands, files, strict=True)]  # fmt: skip
    cpu = 0.0
    rss = 0.0
    deadline = started + RUN_LIMIT_SECONDS
    for proc in procs:
        while True:
            pid, _status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                proc.returncode = 0  # reaped by wait4; Popen must not wait again
                break
            if time.perf_counter() > deadline:
                proc.kill()
            time.sleep(0.0005)
        cpu += usage.ru_utime + usage.ru_stime
        rss = max(rss, usage.ru_maxrss / 1024)
    return time.perf_counter() - started, cpu, rss


def voltprobe_states(report_text: str) -> dict[str, str]:
    report = json.loads(report_text)
    return {row["address"]: row["state"] for row in report["probes"] if row["address"]}


def nmap_states(xml_text: str) -> dict[str, str]:
    """nmap puts ICMP answers in `filtered` with the reason; split them out as unreachable."""
    states: dict[str, str] = {}
    for host in ET.fromstring(xml_text).iter("host"):
        address = host.find("address")
        port = host.find("ports/port/state")
        if address is None or port is None:
            continue
        state = port.get("state", "")
        if state == "filtered" and port.get("reason") != "no-response":
            state = "unreachable"
        states[str(ipaddress.ip_address(address.get("addr", "")))] = state
    return states


@dataclass(frozen=True)
class Method:
    name: str
    run: Callable[[], Outcome]


def voltprobe_args(lab: Lab, extra: Sequence[str], timeout: float) -> list[str]:
    peers = ",".join(f"[{a}]:{PORT}" if ":" in a else f"{a}:{PORT}" for a in lab.expected)
    script = str(Path(sys.executable).parent / "voltprobe")
    return lab.exec_args(script, "check", "--no-kube", "-o", "json", "--timeout",
                         str(timeout), "--peer", peers, *extra)  # fmt: skip


def prepare_voltprobe(lab: Lab, workdir: Path, timeout: float, rate: int) -> float:
    """Bytecode for the package, a template cache of our own, filled by one untimed run;
    returns that first (cold-cache) run's wall time."""
    import probe

    package = Path(probe.__file__).parent
    if package.resolve().is_relative_to(Path(__file__).resolve().parent.parent):
        print("note: voltprobe is an editable install, whose import hook adds ~10 ms to every "
              "start; for figures, run this from a regular install (pip install .)")  # fmt: skip
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=True)
    os.environ["VOLTPROBE_CACHE_DIR"] = str(workdir / "cache")  # the timed runs inherit it
    args = voltprobe_args(
        lab, ["--mode", "raw", "--quick", "--rate", str(rate), "--data-path", "off"], timeout
    )
    wall, _cpu, _rss, _out = timed([args])
    return wall


def voltprobe_method(lab: Lab, name: str, extra: Sequence[str], timeout: float) -> Method:
    args = voltprobe_args(lab, extra, timeout)

    def run() -> Outcome:
        wall, cpu, rss, (out,) = timed([args])
        report = json.loads(out)
        note = " ".join(f"{k}={v:.0f}" for k, v in report.get("timings", {}).items())
        return Outcome(wall, cpu, rss, voltprobe_states(out), note)

    return Method(name, run)


def nmap_method(lab: Lab, name: str, workdir: Path, extra: Sequence[str]) -> Method:
    lists = {}
    for version in (4, 6):
        path = workdir / f"targets-v{version}.txt"
        path.write_text("\n".join(a for a in lab.expected
                                  if ipaddress.ip_address(a).version == version) + "\n")  # fmt: skip
        lists[version] = path
    base = ["nmap", "-sS", "-Pn", "-n", "--reason", "-p", str(PORT), "-oX", "-", *extra]
    commands = [
        lab.exec_args(*base, "-iL", str(lists[4])),
        lab.exec_args(*base, "-6", "-iL", str(lists[6])),
    ]

    def run() -> Outcome:
        wall, cpu, rss, outputs = timed(commands)
        states: dict[str, str] = {}
        for out in outputs:
            states.update(nmap_states(out))
        return Outcome(wall, cpu, rss, states)

    return Method(name, run)


def engine_figures(lab: Lab, timeout: float) -> dict[str, float]:
    """The raw engine alone, unpaced, in-process: packets/s of the send phase, CPU/probe."""
    code = f"""
import json, time, resource
from probe.model import Endpoint, Family
from probe.probers.raw import RawProber
from probe.probers.rawpackets import build_templates
templates = build_templates()  # scapy's import is start-up cost, timed with the processes
addresses = {list(lab.expected)!r}
endpoints = [Endpoint(a, a, Family.of(a), {PORT}) for a in addresses]
prober = RawProber({timeout}, rate=10_000_000, templates=lambda: templates)
cpu = time.process_time()
wall = time.perf_counter()
results = prober.probe(endpoints)
wall = time.perf_counter() - wall
cpu = time.process_time() - cpu
stats = prober.stats
print(json.dumps({{"probes": len(results), "wall": wall, "cpu": cpu,
                  "sent": stats.sent, "send_seconds": stats.send_seconds,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""
    out = sh(lab.exec_args(sys.executable, "-c", code))
    return json.loads(out)


def ratio(a: float, b: float) -> float:
    return a / b if b else float("inf")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=500, help="addresses per family (<= 508)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=1.0)
    parser.add_argument(
        "--rate",
        type=int,
        default=25_000,
        help="voltprobe --rate; nmap -T5 --min-rate 5000 was measured here sending ~12,800 "
        "SYNs/s in each of its two processes (--packet-trace)",
    )
    parser.add_argument("--pause", type=float, default=1.0, help="seconds between methods")
    parser.add_argument("--methods", default="", help="comma list of method names to run")
    parser.add_argument(
        "--peer-listener",
        choices=PEER_LISTENERS,
        default="close",
        help="what answers on the open addresses: close (accept, close), silent (accept, "
        "hold: a real DR listener), serve (voltprobe serve: greeting, RTT, MTU ladder)",
    )
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        raise SystemExit("run as root: the benchmark creates network namespaces")
    lab = Lab(args.n, args.peer_listener)
    workdir = Path(tempfile.mkdtemp(prefix="vpr-bench-"))
    try:
        lab.open()
        cold = prepare_voltprobe(lab, workdir, args.timeout, args.rate)
        print(f"voltprobe raw --quick, first run (cold template cache, scapy import): {cold:.3f} s")
        t = args.timeout
        rate = ["--rate", str(args.rate)]
        off = ["--data-path", "off"]  # the probing figures; "+data-path" adds the stage
        methods = [
            voltprobe_method(lab, "voltprobe raw", ["--mode", "raw", *rate, *off], t),
            voltprobe_method(
                lab, "voltprobe raw --quick", ["--mode", "raw", "--quick", *rate, *off], t
            ),
            voltprobe_method(lab, "voltprobe connect", ["--mode", "connect", *off], t),
            voltprobe_method(lab, "voltprobe raw +data-path", ["--mode", "raw", *rate], t),
            voltprobe_method(lab, "voltprobe connect +data-path", ["--mode", "connect"], t),
            nmap_method(lab, "nmap -T4 --max-retries 1", workdir, ["-T4", "--max-retries", "1"]),
            nmap_method(lab, "nmap -T5 --min-rate 5000", workdir, ["-T5", "--min-rate", "5000"]),
        ]
        if args.methods:
            wanted = {m.strip() for m in args.methods.split(",")}
            methods = [m for m in methods if m.name in wanted]
        return run_campaign(lab, methods, args)
    finally:
        lab.close()
        shutil.rmtree(workdir, ignore_errors=True)


def run_campaign(lab: Lab, methods: list[Method], args: argparse.Namespace) -> int:
    results: dict[str, list[Outcome]] = {m.name: [] for m in methods}
    print(f"lab {lab.name}: {args.n} addresses per family, {len(lab.expected)} probes, "
          f"T={args.timeout}s, voltprobe --rate {args.rate}", flush=True)  # fmt: skip
    for run in range(1, args.runs + 1):
        order = methods[:]
        random.shuffle(order)
        for method in order:
            time.sleep(args.pause)
            outcome = method.run()
            wrong = sum(1 for a, s in lab.expected.items() if outcome.states.get(a) != s)
            results[method.name].append(outcome)
            print(
                f"run {run} {method.name:<28} {outcome.wall:6.3f} s  cpu {outcome.cpu:5.2f} s  "
                f"rss {outcome.rss_mb:5.1f} MiB  wrong {wrong}  {outcome.note}",
                flush=True,
            )
    print_table(lab, results, args)
    if any(m.name == "voltprobe raw" for m in methods):
        time.sleep(args.pause)
        engine = engine_figures(lab, args.timeout)
        print(
            f"\nengine (unpaced, in-process): {engine['probes']} first SYNs in "
            f"{engine['send_seconds'] * 1000:.1f} ms = "
            f"{engine['probes'] / engine['send_seconds']:,.0f} packets/s "
            f"({engine['sent']} packets with retries); "
            f"CPU {engine['cpu'] * 1000 / engine['probes']:.3f} ms/probe; "
            f"wall {engine['wall']:.3f} s; RSS {engine['rss_mb']:.1f} MiB"
        )
    return 0


def print_table(lab: Lab, results: dict[str, list[Outcome]], args: argparse.Namespace) -> None:
    print("\n| method | median s | min-max s | CPU s | peak RSS MiB | wrong (worst run) |")
    print("|---|---|---|---|---|---|")
    medians: dict[str, float] = {}
    for name, outcomes in results.items():
        walls = [o.wall for o in outcomes]
        medians[name] = statistics.median(walls)
        worst = max(sum(1 for a, s in lab.expected.items() if o.states.get(a) != s)
                    for o in outcomes)  # fmt: skip
        print(
            f"| {name} | {medians[name]:.3f} | {min(walls):.3f}-{max(walls):.3f} | "
            f"{statistics.median(o.cpu for o in outcomes):.2f} | "
            f"{max(o.rss_mb for o in outcomes):.1f} | {worst}/{len(lab.expected)} |"
        )
    print()
    pairs = [
        ("voltprobe raw", "nmap -T4 --max-retries 1", 0.8),
        ("voltprobe raw --quick", "nmap -T5 --min-rate 5000", 1.0),
    ]
    for ours, theirs, target in pairs:
        if ours in results and theirs in results:
            per_run = [
                ratio(a.wall, b.wall) for a, b in zip(results[ours], results[theirs], strict=True)
            ]
            r = statistics.median(per_run)
            print(
                f"{ours} / {theirs}: median of per-run ratios {r:.2f} "
                f"(target <= {target}) {'MET' if r <= target else 'MISSED'}"
            )
    budgets = [("voltprobe raw", args.timeout + 0.5), ("voltprobe connect", args.timeout + 1.0)]
    for name, budget in budgets:
        if name in medians:
            print(
                f"{name}: median {medians[name]:.3f} s (target <= {budget:.1f} s) "
                f"{'MET' if medians[name] <= budget else 'MISSED'}"
            )


if __name__ == "__main__":
    sys.exit(main())
