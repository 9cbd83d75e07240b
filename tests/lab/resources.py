"""What a lab created (namespaces, /etc/netns dirs, processes, temp dirs), so that
teardown removes exactly that and nothing else, and a run can prove it left nothing.

Names are `vpl-<pid><rand>-<lab>-<role>`: unique per test run, so two runs (or another
engineer's `vpr-` namespaces) never collide, and teardown deletes by exact name.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from .netns import Namespace, add_namespace, delete_namespace, list_namespaces
from .shell import LabCommandError

PREFIX = "vpl-"
STOP_GRACE_SECONDS = 5.0


class LabRun:
    """One pytest session's lab bookkeeping: the name prefix and everything started."""

    def __init__(self) -> None:
        self.prefix = f"{PREFIX}{os.getpid()}{secrets.token_hex(2)}-"
        self.processes: list[subprocess.Popen[bytes]] = []
        self._labs = 0

    def next_lab_prefix(self) -> str:
        self._labs += 1
        return f"{self.prefix}{self._labs}"

    def leftovers(self) -> list[str]:
        """Namespaces with this run's prefix and processes this run started that still exist."""
        found = [f"namespace {name}" for name in list_namespaces() if name.startswith(self.prefix)]
        found += [
            f"process {proc.pid} ({' '.join(map(str, proc.args))})"  # type: ignore[arg-type]
            for proc in self.processes
            if proc.poll() is None
        ]
        found += [f"directory {path}" for path in Path("/etc/netns").glob(f"{self.prefix}*")]
        return found


class Resources:
    """Creates lab objects and records them; `close()` undoes exactly those, in reverse."""

    def __init__(self, run: LabRun) -> None:
        self.run = run
        self.prefix = run.next_lab_prefix()
        self.namespaces: list[Namespace] = []
        self.processes: list[subprocess.Popen[bytes]] = []
        self.workdir = Path(tempfile.mkdtemp(prefix=f"{self.prefix}-"))

    def namespace(self, role: str) -> Namespace:
        name = f"{self.prefix}-{role}"
        ns = add_namespace(name)
        self.namespaces.append(ns)
        return ns

    def start(self, ns: Namespace, args: Sequence[str], log_name: str) -> subprocess.Popen[bytes]:
        """Start a long-running process in `ns`; its stdout+stderr go to a log file.

        `ip netns exec` execs the command, so the PID we hold is the command's own.
        """
        log = (self.workdir / log_name).open("wb")
        try:
            proc = subprocess.Popen(
                ns.exec_args(*args),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C in pytest must not hit it before teardown
            )
        finally:
            log.close()
        self.processes.append(proc)
        self.run.processes.append(proc)
        return proc

    def log_text(self, log_name: str) -> str:
        path = self.workdir / log_name
        return path.read_text(errors="replace") if path.exists() else ""

    def close(self) -> list[str]:
        """Stop our processes by PID, then delete our namespaces and files. Returns errors."""
        errors: list[str] = []
        for proc in reversed(self.processes):
            errors += _stop(proc)
        for ns in reversed(self.namespaces):
            try:
                shutil.rmtree(ns.etc_dir, ignore_errors=True)
                delete_namespace(ns.name)
            except (OSError, LabCommandError) as exc:  # keep tearing down the rest
                errors.append(f"deleting {ns.name}: {exc}")
        shutil.rmtree(self.workdir, ignore_errors=True)
        return errors


def _stop(proc: subprocess.Popen[bytes]) -> list[str]:
    if proc.poll() is not None:
        return []
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=STOP_GRACE_SECONDS)
        return []
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=STOP_GRACE_SECONDS)
        return [f"process {proc.pid} ignored SIGTERM and was killed"]
