"""`voltprobe serve` on a peer: the DR-port responder the probes should find open."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from .netns import Namespace
from .resources import Resources

READY_SECONDS = 15.0
HERE = Path(__file__).resolve().parent


def voltprobe_script() -> Path:
    """The installed console script of the venv running the tests."""
    return Path(sys.executable).parent / "voltprobe"


def start_serve(
    resources: Resources,
    ns: Namespace,
    port: int,
    ready_address: str,
    binds: Sequence[str] = (),
) -> subprocess.Popen[bytes]:
    """Start `voltprobe serve` in `ns` and return once `ready_address:port` accepts."""
    args = [str(voltprobe_script()), "serve", "--port", str(port)]
    for bind in binds:
        args += ["--bind", bind]
    log_name = f"serve-{ns.name}-{port}.log"
    proc = resources.start(ns, args, log_name)
    check = subprocess.run(
        ns.exec_args(
            sys.executable, str(HERE / "nscheck.py"), "tcp", ready_address, str(port),
            str(READY_SECONDS),
        ),
        capture_output=True, text=True, timeout=READY_SECONDS + 10, check=False,
    )  # fmt: skip
    if check.returncode != 0 or proc.poll() is not None:
        raise RuntimeError(
            f"voltprobe serve in {ns.name} not ready on {ready_address}:{port} "
            f"(exit {proc.poll()}): {check.stderr.strip()}\n{resources.log_text(log_name)}"
        )
    return proc
