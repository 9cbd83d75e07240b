"""`voltprobe job run --context a --context b --context c` end to end: three simulated
clusters (tests/lab/test_multi_cluster.py build_clusters: a namespace each, a veth per
pair, a fake API server each whose Jobs run as local processes in that namespace), and
one one-way rule: a drops IPv4 to its DR address arriving on its link from c, so c -> a
fails over IPv4 while b -> a, a -> c and every IPv6 cell work. a must then be
recommended IPv6 (the one family both b and c reach it in), b and c their DR Service's
primary family, IPv4.

    ns "ca" a: 198.51.100.1 2001:db8:0:a::1 --va0/vb0 192.0.2.40/29-- b (ns "cb")
               --va1/vc1 192.0.2.48/29-- c: 192.0.2.129 2001:db8:0:c::1 (ns "cc")
    b: 203.0.113.1 2001:db8:0:b::1 --vb2/vc2 192.0.2.56/29-- c
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.processes import run_cli

from . import firewall
from .kubelet import run_jobs_in
from .netns import Namespace
from .resources import LabRun, Resources
from .shell import run
from .test_multi_cluster import (
    A4,
    A6,
    B4,
    C4,
    SITES,
    assert_nothing_stored,
    build_clusters,
    cell,
    fake_apis,
    flavour,
    link_name,
)

pytestmark = pytest.mark.lab

NAMES = ("a", "b", "c")
BROKEN = ("c", "a", "IPv4")  # the one cell the firewall breaks


@pytest.fixture(scope="module")
def three(lab_run: LabRun) -> Iterator[tuple[Resources, dict[str, Namespace]]]:
    made = Resources(lab_run)
    try:
        spaces = build_clusters(made, NAMES)
        # one way, one neighbour: what c sends to a's IPv4 DR address is dropped, b's is not
        firewall.apply(
            spaces["a"], [firewall.drop(address=A4, interface=link_name(NAMES, "a", "c"))]
        )
        yield made, spaces
    finally:
        errors = made.close()
        if errors:
            pytest.fail("lab teardown: " + "; ".join(errors), pytrace=False)


def test_three_clusters_one_way_rule_names_the_one_cell_and_each_clusters_family(
    three: tuple[Resources, dict[str, Namespace]], tmp_path: Path
) -> None:
    made, spaces = three
    flavours = {n: flavour(f"xdcr-{n}", SITES[n].v4, SITES[n].v6) for n in NAMES}
    runs: list[tuple[float, float]] = []
    with fake_apis(tmp_path, flavours) as (apis, kubeconfig):
        for name, api in apis.items():
            api.on_create("jobs", run_jobs_in(spaces[name], tmp_path / name, runs=runs))
        done = run_cli(
            "job", "run", "--context", "a", "--context", "b", "--context", "c",
            "--kubeconfig", str(kubeconfig), "--image", "registry.example/voltprobe:lab",
            "--timeout", "1", "-o", "json", timeout=120,
        )  # fmt: skip
        assert "Traceback" not in done.stderr, done.stderr
        assert done.returncode == 0, done.stderr  # every cluster has a family
        document = json.loads(done.stdout)
        assert sorted((d["from"], d["to"]) for d in document["directions"]) == sorted(
            itertools.permutations(NAMES, 2)
        )
        for source, target in itertools.permutations(NAMES, 2):
            for family in ("IPv4", "IPv6"):
                got = cell(document, source, target, family)
                if (source, target, family) == BROKEN:
                    assert (got["status"], got["stage"], got["open"], got["total"]) == (
                        "fail", "tcp", 0, 1,
                    ), got  # fmt: skip
                    assert f"{A4}:5555 filtered" in got["detail"], got
                else:
                    assert (got["status"], got["open"], got["total"]) == ("ok", 1, 1), (
                        source, target, got,
                    )  # fmt: skip
        (asymmetry,) = document["asymmetries"]
        assert asymmetry.startswith("a -> c works over IPv4, c -> a does not"), asymmetry
        by_name = {c["name"]: c for c in document["clusters"]}
        # a: the only family both b and c reach it in; b and c: both work, IPv4 is primary
        assert by_name["a"]["ipFamilies"] == ["IPv6"]
        assert any(r.startswith("IPv4 does not qualify: c reaches 0 of 1") for r in
                   by_name["a"]["rationale"]), by_name["a"]["rationale"]  # fmt: skip
        assert by_name["b"]["ipFamilies"] == ["IPv4"]
        assert by_name["c"]["ipFamilies"] == ["IPv4"]
        # each cluster's connection.source: the two others, each in its recommended family
        assert by_name["a"]["connectionSource"] == f"{B4}:5555,{C4}:5555"
        assert by_name["b"]["connectionSource"] == f"[{A6}]:5555,{C4}:5555"
        assert by_name["c"]["connectionSource"] == f"[{A6}]:5555,{B4}:5555"
        for name in NAMES:
            assert f"[{name}] advertises" in done.stderr
        assert len(runs) == 3
        assert max(start for start, _ in runs) < min(end for _, end in runs), (
            "the three Jobs did not all run at the same time"
        )
        assert "could not delete" not in done.stderr and "left behind" not in done.stderr
        assert_nothing_stored(*apis.values())
    # no Job process outlived the run: each namespace holds its DR listener alone
    serving = {proc.pid for proc in made.processes if proc.poll() is None}
    for name, ns in spaces.items():
        pids = {int(pid) for pid in _pids(ns)}
        assert len(pids) == 1 and pids <= serving, f"{name}: processes {pids} (serve: {serving})"


def _pids(ns: Namespace) -> list[str]:
    """`ip netns pids NAME`: every process whose network namespace is `ns`."""
    return run(["ip", "netns", "pids", ns.name]).split()
