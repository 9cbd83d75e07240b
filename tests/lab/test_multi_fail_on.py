"""`voltprobe job run --context a --context b --fail-on warning`: the merge passes (exit 0
without the gate) but a's report has a warning (IPv6 to b is dropped), so the gate trips:
exit 4, saying so on stderr. The clusters of tests/lab/test_multi_cluster.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakeapi.server import FakeApiServer
from tests.support.processes import run_cli

from .kubelet import run_jobs_in
from .test_multi_cluster import Clusters, apis, clusters  # noqa: F401 - pytest fixtures

pytestmark = pytest.mark.lab


def test_fail_on_gates_the_merged_result(
    clusters: Clusters,  # noqa: F811 - the fixture
    apis: tuple[FakeApiServer, FakeApiServer, Path],  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    api_a, api_b, kubeconfig = apis
    api_a.on_create("jobs", run_jobs_in(clusters.a, tmp_path / "a"))
    api_b.on_create("jobs", run_jobs_in(clusters.b, tmp_path / "b"))
    done = run_cli(
        "job", "run", "--context", "a", "--context", "b", "--kubeconfig", str(kubeconfig),
        "--image", "registry.example/voltprobe:lab", "--timeout", "1", "-o", "json",
        "--fail-on", "warning", timeout=120,
    )  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    document = json.loads(done.stdout)
    assert document["exitCode"] == 0, done.stderr  # the merge itself passes
    severities = {f["severity"] for f in document["findings"]}
    assert severities & {"warning", "error"}, document["findings"]
    assert done.returncode == 4, done.stderr
    assert "--fail-on warning: a finding of that severity (exit 4)" in done.stderr
