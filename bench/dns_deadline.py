"""How long `voltprobe check` spends on names whose DNS server stays silent.

Builds one namespace (`vpd-<pid><rand>`) whose loopback holds 192.0.2.53, named by its
resolv.conf, where nothing answers (an nftables input rule drops port 53, so every
query is silent, never refused). Runs `voltprobe check --no-kube -o json
--mode connect --dns-timeout T --peer n0,...,n{N-1}` inside it R times per N and prints
the wall time (median, min, max) and that every answer is a timeout. No packet leaves
the namespace. Usage (root):

    python3 bench/dns_deadline.py --names 10 640 --dns-timeout 1 --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

VOLTPROBE = str(Path(sys.executable).parent / "voltprobe")


def sh(*args: str, stdin: str | None = None) -> None:
    subprocess.run(args, input=stdin, text=True, check=True, capture_output=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", type=int, nargs="+", default=[10, 640])
    parser.add_argument("--dns-timeout", default="1")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    name = f"vpd-{os.getpid()}{secrets.token_hex(2)}"
    etc = Path("/etc/netns") / name
    sh("ip", "netns", "add", name)
    try:
        sh("ip", "-n", name, "link", "set", "lo", "up")
        sh("ip", "-n", name, "address", "add", "192.0.2.53/32", "dev", "lo")
        # dropped on input: the query leaves its socket and is never answered (an output
        # drop would be refused at sendto, which is "nameserver-unreachable", not silence)
        rules = "table inet silent {\n chain in {\n type filter hook input priority 0;\n"
        rules += " udp dport 53 drop\n tcp dport 53 drop\n }\n}\n"
        sh("ip", "netns", "exec", name, "nft", "-f", "-", stdin=rules)
        etc.mkdir(parents=True)
        (etc / "resolv.conf").write_text(
            "nameserver 192.0.2.53\nsearch lab.example\noptions ndots:5 timeout:1 attempts:1\n"
        )
        for count in args.names:
            peers = ",".join(f"n{i}" for i in range(count))
            times = []
            for _run in range(args.runs):
                started = time.monotonic()
                done = subprocess.run(
                    ["ip", "netns", "exec", name, VOLTPROBE, "check", "--no-kube", "-o", "json",
                     "--mode", "connect", "--dns-timeout", args.dns_timeout, "--peer", peers],
                    capture_output=True, text=True, check=False, timeout=120,
                )  # fmt: skip
                times.append(time.monotonic() - started)
                outcomes = {a["outcome"] for a in json.loads(done.stdout)["dns"]}
                assert outcomes == {"timeout"}, outcomes
            print(
                f"{count:4d} silent names, --dns-timeout {args.dns_timeout}: "
                f"median {statistics.median(times):.2f} s "
                f"(min {min(times):.2f}, max {max(times):.2f}, {args.runs} runs); all timeouts"
            )
    finally:
        shutil.rmtree(etc, ignore_errors=True)
        sh("ip", "netns", "delete", name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
