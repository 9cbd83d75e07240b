"""Data-path settings: --data-path, --responder, --path-quality, --samples, the waits.

The data-path values (what came after the handshake, RTT, NAT, the MTU ladder) are
report vocabulary and live in `probe.model`; they are re-exported here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from probe.model import (
    AfterHandshake,
    DataPath,
    Greeting,
    MtuStep,
    Nat,
    RttStats,
    StepOutcome,
)

__all__ = [
    "DEFAULT_SAMPLES",
    "GREETING_WAIT",
    "MTU_LADDER",
    "AfterHandshake",
    "DataPath",
    "DataPathOptions",
    "Greeting",
    "MtuStep",
    "Nat",
    "PathQuality",
    "RttStats",
    "StepOutcome",
]


class PathQuality(str, enum.Enum):
    """--path-quality: RTT samples and the MTU ladder."""

    AUTO = "auto"  # for endpoints that greet as a voltprobe responder
    ON = "on"  # RTT samples for every open endpoint, the ladder where one greets
    OFF = "off"

    def __str__(self) -> str:
        return self.value


GREETING_WAIT = 0.3  # seconds to wait for the first byte after the handshake
DEFAULT_SAMPLES = 5
# IP packet sizes: IPv6's minimum MTU, common tunnel sizes, Ethernet, jumbo frames
MTU_LADDER = (1280, 1400, 1480, 1500, 9000)


@dataclass(frozen=True)
class DataPathOptions:
    enabled: bool = True
    responder: bool = False  # the user declares every peer a voltprobe responder
    path_quality: PathQuality = PathQuality.AUTO
    samples: int = DEFAULT_SAMPLES
    wait: float = GREETING_WAIT  # seconds for the greeting
    timeout: float = 2.0  # seconds for a connect, and for one MTU step's echo
    concurrency: int = 256  # first (read-only) connections in flight at once
    quality_concurrency: int = 64  # RTT and MTU-ladder connections in flight at once
