"""`voltprobe demo` on a host without ::1 (IPv6 disabled by sysctl): IPv6 rows say so,
IPv4 still passes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from .topology import Lab, Prober

pytestmark = pytest.mark.lab
VOLTPROBE = str(Path(sys.executable).parent / "voltprobe")


def test_demo_without_ipv6_loopback_passes_on_ipv4(lab: Lab) -> None:
    import subprocess

    prober = lab.prober(Prober.NO_IPV6)
    done = subprocess.run(
        prober.exec_args(VOLTPROBE, "demo", "-o", "json"),
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "no responder on ::1" in done.stderr
    report = json.loads(done.stdout)
    rows = {row["family"]: row for row in report["probes"]}
    assert rows["IPv4"]["state"] == "open"
    assert rows["IPv6"]["state"] == "no-route"
    assert rows["IPv6"]["reason"].startswith("no-route (EADDRNOTAVAIL")
    assert report["recommendation"]["ipFamilies"] == ["IPv4"]
