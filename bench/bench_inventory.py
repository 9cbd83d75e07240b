"""Inventory wall time against the local fake API server at scale.

The namespace holds 5,000 pods and 500 Services (plus their EndpointSlices) on top
of the dual-stack Volt release; the inventory must finish in under 2 s.

    .venv/bin/python bench/bench_inventory.py [--pods 5000] [--services 500] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo root, for tests.fakeapi

from probe.inventory import Environment, gather
from probe.model import Family
from probe.options import KubeOptions
from tests.fakeapi import FakeApiServer, objects
from tests.fakeapi.files import kubeconfig_for


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=5000)
    parser.add_argument("--services", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    flavour = objects.scale(pods=args.pods, services=args.services)
    env = Environment(
        environ={"POD_NAME": objects.PROBE_POD, "POD_NAMESPACE": objects.NAMESPACE},
        resolve_host=lambda host, timeout: ((), "not resolved in the benchmark"),
        interface_families=lambda: (Family.IPV4,),
    )
    with FakeApiServer() as api, tempfile.TemporaryDirectory() as tmp:
        api.load(flavour)
        kubeconfig = kubeconfig_for(api, Path(tmp) / "kubeconfig", namespace=objects.NAMESPACE)
        options = KubeOptions(kubeconfig=str(kubeconfig))
        started = time.perf_counter()
        gather(options, 5555, env)  # the first run also imports the kubernetes client
        cold = time.perf_counter() - started
        times = []
        for _ in range(args.runs):
            api.clear_requests()
            started = time.perf_counter()
            inventory = gather(options, 5555, env)
            times.append(time.perf_counter() - started)
        assert inventory.available and not inventory.problems, inventory.problems
        assert len(inventory.dr_services) == 4 and len(inventory.volt_pods) == 3
        requests = len(api.requests)
    print(
        f"inventory over {args.pods} pods, {args.services} Services (+{args.services} EndpointSlices): "
        f"median {statistics.median(times):.3f} s, max {max(times):.3f} s over {args.runs} runs "
        f"(first run, with the client import: {cold:.3f} s); "
        f"{requests} API requests per run"
    )
    return 0 if max(times) < 2.0 else 1


if __name__ == "__main__":
    sys.exit(main())
