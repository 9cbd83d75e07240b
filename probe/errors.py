"""voltprobe's one exception tree. Only `cli.py` catches it and picks the exit code.

    VoltprobeError                 a failure of voltprobe itself, never a network outcome
    ├── UsageError                 bad --peer, connection.source, option value   -> exit 2
    ├── CannotRunError             the check cannot run here (e.g. --mode raw
    │                              without CAP_NET_RAW)                          -> exit 3
    └── Interrupted                Ctrl-C (the partial report is still written)  -> exit 130

Network outcomes (refused, filtered, ICMP errors, NXDOMAIN) are not exceptions:
they are `ProbeState` / `DnsOutcome` values in the report. An unreachable
Kubernetes API or a 403 is a finding, not an error: the network check goes on.
Programmer errors stay outside this tree.
"""

from __future__ import annotations


class VoltprobeError(Exception):
    """Root of every error voltprobe raises on purpose."""

    exit_code = 3


class UsageError(VoltprobeError):
    """The user's input cannot be used (a bad peer, port, timeout...)."""

    exit_code = 2


class CannotRunError(VoltprobeError):
    """The check cannot run in this environment."""

    exit_code = 3


class Interrupted(VoltprobeError):
    """The user stopped the run."""

    exit_code = 130

    def __init__(self) -> None:
        super().__init__("interrupted")


def sanitize(text: str, limit: int = 300, keep: str = "") -> str:
    """`text` safe to print on a terminal or in a manifest: control characters (C0, DEL,
    C1, line and paragraph separators; all but those in `keep`) shown as escapes, at most
    `limit` characters."""
    out = []
    for ch in text[:limit]:
        code = ord(ch)
        if ch in keep:
            out.append(ch)
        elif code < 0x20 or 0x7F <= code < 0xA0 or ch in "\u2028\u2029":
            out.append(ascii(ch)[1:-1])
        else:
            out.append(ch)
    return "".join(out) + ("..." if len(text) > limit else "")
