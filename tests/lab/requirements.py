"""Can the lab run here? One function that returns the reason it cannot, or None.

A missing precondition is a skip with that reason, unless VOLTPROBE_REQUIRE_LAB=1
(set by .ci/run), which turns it into a failure: CI can never pass without the lab.
"""

from __future__ import annotations

import os
import shutil

REQUIRE_ENV = "VOLTPROBE_REQUIRE_LAB"
TOOLS = ("ip", "nft", "dnsmasq", "sysctl")


def lab_required() -> bool:
    return os.environ.get(REQUIRE_ENV, "") == "1"


def missing_reason() -> str | None:
    """Why the lab cannot run here (the least obvious reason first), or None."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "the network-namespace lab needs root (run as root, or in CI via .ci/run)"
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        return (
            f"the lab needs {', '.join(missing)} on PATH "
            "(apt-get install nftables dnsmasq-base iproute2 procps)"
        )
    if not os.path.isdir("/proc/self/ns") or not os.path.exists("/proc/self/ns/net"):
        return "this kernel has no network namespaces"
    return None
