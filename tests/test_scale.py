"""The inventory's memory at scale: a namespace with thousands of Volt pods must stay far
under the probe Job's 256Mi limit (probe/k8sjob/objects.py `_resources`). The pods are
trimmed as each page arrives (probe.kube.reader `keep`, probe.inventory.parse.trim_pod).

CI runs 2,000 pods and checks the growth per pod; the full 20,000-pod run:

    .venv/bin/python -m pytest -q -p no:cacheprovider -m scale tests/test_scale.py

Peak memory is the voltprobe process's own (VmHWM), with the fake API server in this
process.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakeapi import FakeApiServer, objects
from tests.fakeapi.files import kubeconfig_for
from tests.support.processes import closed_port

JOB_LIMIT_MIB = 256


def volt_pods(count: int) -> list[objects.Obj]:
    """`count` Volt pods the DR Services select, shaped like the chart's."""
    return [
        objects.pod(
            f"{objects.FULLNAME}-cluster-{i + 100}",
            [f"10.244.{i // 250}.{i % 250 + 1}", f"fd00:10:244::{i:x}"],
            labels={**objects.VOLT_LABELS, "statefulset.kubernetes.io/pod-name": f"p-{i}"},
            node=f"k8s-worker-{i % 3 + 1}",
            ports=[21212, 21211, 3021, 5555, 8080],
        )
        for i in range(count)
    ]


# voltprobe's own main(), then its peak RSS: VmHWM belongs to the exec'ed process alone
# (ru_maxrss from wait4 would also count the pages of the forked test process)
MEASURED = (
    "import sys\n"
    "from probe.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "status = dict(l.split(':', 1) for l in open('/proc/self/status'))\n"
    "print('VmHWM', status['VmHWM'].split()[0], file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def peak_mib(api: FakeApiServer, tmp_path: Path, pods: int) -> tuple[float, int]:
    """(peak RSS of one `voltprobe check` in MiB, Volt pods it counted) with `pods` extra."""
    api.store.put_many(volt_pods(pods))
    kubeconfig = kubeconfig_for(api, tmp_path / f"kubeconfig-{pods}", namespace=objects.NAMESPACE)
    report = tmp_path / f"r-{pods}.json"
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            MEASURED,
            "check",
            "--peer",
            f"127.0.0.1:{closed_port()}",
            "--mode",
            "connect",
            "--kubeconfig",
            str(kubeconfig),
            "--report-file",
            str(report),
            "-o",
            "json",
            "--deadline",
            "120",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 1, done.stderr  # the closed port: no family; the run finished
    peak_kib = int(done.stderr.rsplit("VmHWM", 1)[1].split()[0])
    return peak_kib / 1024, len(json.loads(report.read_text())["local"]["pods"]["volt"])


def test_inventory_memory_grows_little_per_pod(tmp_path: Path) -> None:
    with FakeApiServer() as api:
        api.load(objects.dual_stack())
        base, counted = peak_mib(api, tmp_path, 0)
        grown, counted_more = peak_mib(api, tmp_path, 2000)
    assert counted_more == counted + 2000
    # holding whole pods cost ~25 KiB each (504 MiB at 20,000); trimmed, a few KiB
    print(f"base {base:.1f} MiB, +2000 pods {grown:.1f} MiB")
    assert (grown - base) * 1024 / 2000 < 8, (base, grown)
    assert grown < JOB_LIMIT_MIB / 2


@pytest.mark.scale
def test_20000_volt_pods_stay_under_the_jobs_memory_limit(tmp_path: Path) -> None:
    with FakeApiServer() as api:
        api.load(objects.dual_stack())
        peak, counted = peak_mib(api, tmp_path, 20_000)
    assert counted >= 20_000
    assert peak < JOB_LIMIT_MIB * 3 / 4, f"{peak:.0f} MiB"  # 147 MiB measured
