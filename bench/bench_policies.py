"""NetworkPolicy evaluation time: every Volt pod x every peer endpoint, both families.

The namespace holds P policies (the shapes of tests/test_policies.py: the docs' example,
an IPv4-only DR rule, an except range, DNS-only egress, a matchExpressions ingress rule,
repeated); the peer has N endpoints per family. Pure computation, no traffic.

    .venv/bin/python bench/bench_policies.py [--policies 20] [--endpoints 1000] [--pods 3] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo root, for tests.*

from probe.model import FAMILIES
from probe.policies import Direction, PolicySet, summarize
from tests.test_policies import (
    DNS_ONLY_EGRESS,
    DOCS_TEST_POLICY,
    EXCEPT_PEER,
    INGRESS_DR,
    IPV4_ONLY_EGRESS,
    VOLT,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policies", type=int, default=20)
    parser.add_argument("--endpoints", type=int, default=1000)
    parser.add_argument("--pods", type=int, default=3)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    shapes = [IPV4_ONLY_EGRESS, EXCEPT_PEER, DNS_ONLY_EGRESS, DOCS_TEST_POLICY, INGRESS_DR]
    policies = [shapes[i % len(shapes)] for i in range(args.policies)]
    endpoints = [(f"192.0.2.{i % 250 + 1}", 5555 + i // 250) for i in range(args.endpoints)]
    endpoints += [(f"2001:db8::{i:x}", 5555) for i in range(args.endpoints)]
    pods = [{**VOLT, "statefulset.kubernetes.io/pod-name": f"mydb-{i}"} for i in range(args.pods)]
    evaluations = args.pods * len(endpoints)

    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        policy_set = PolicySet.decode(policies)
        for labels in pods:
            for family in FAMILIES:
                summarize(policy_set, labels, Direction.EGRESS, family, endpoints)
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    print(
        f"{args.policies} policies, {args.pods} pods x {len(endpoints)} endpoints = "
        f"{evaluations} evaluations: median {median * 1000:.1f} ms over {args.runs} runs "
        f"({median / evaluations * 1e6:.1f} us each; min {min(times) * 1000:.1f} ms)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
