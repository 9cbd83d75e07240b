"""One network namespace: run `ip`, sysctl and commands inside it, and its /etc/netns files."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .shell import run

ETC_NETNS = Path("/etc/netns")
MAX_IFNAME = 15  # IFNAMSIZ - 1


@dataclass(frozen=True)
class Namespace:
    name: str

    def ip(self, *args: str) -> str:
        """`ip -n NAME ...`"""
        return run(["ip", "-n", self.name, *args])

    def exec_args(self, *args: str) -> list[str]:
        """The argv that runs a command inside this namespace, the way users do."""
        return ["ip", "netns", "exec", self.name, *args]

    def run(self, *args: str, stdin: str | None = None, timeout: float = 30.0) -> str:
        return run(self.exec_args(*args), stdin=stdin, timeout=timeout)

    def sysctl(self, settings: Mapping[str, str]) -> None:
        """Set sysctls inside the namespace (only per-namespace keys are visible there)."""
        if settings:
            self.run("sysctl", "-qw", *(f"{key}={value}" for key, value in settings.items()))

    def has_sysctl(self, key: str) -> bool:
        """Whether a sysctl exists in this namespace (some are global on older kernels)."""
        path = "/proc/sys/" + key.replace(".", "/")
        return self.run("sh", "-c", f"test -e {path} && echo yes || echo no").strip() == "yes"

    @property
    def etc_dir(self) -> Path:
        """Files here are bind-mounted over /etc by `ip netns exec`."""
        return ETC_NETNS / self.name

    def write_etc(self, filename: str, text: str) -> Path:
        self.etc_dir.mkdir(parents=True, exist_ok=True)
        path = self.etc_dir / filename
        path.write_text(text)
        return path


def list_namespaces() -> list[str]:
    """Names from `ip netns list` (lines look like `name (id: 3)` or `name`)."""
    out = run(["ip", "netns", "list"])
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def add_namespace(name: str) -> Namespace:
    run(["ip", "netns", "add", name])
    ns = Namespace(name)
    ns.ip("link", "set", "lo", "up")
    return ns


def delete_namespace(name: str) -> None:
    run(["ip", "netns", "delete", name])


def add_veth(a: Namespace, a_if: str, b: Namespace, b_if: str) -> None:
    """A veth pair created directly inside both namespaces (never visible in the root one)."""
    for ifname in (a_if, b_if):
        if len(ifname) > MAX_IFNAME:
            raise ValueError(f"interface name {ifname!r} is longer than {MAX_IFNAME}")
    run(
        [
            "ip", "link", "add", a_if, "netns", a.name, "type", "veth",
            "peer", "name", b_if, "netns", b.name,
        ]
    )  # fmt: skip
    a.ip("link", "set", a_if, "up")
    b.ip("link", "set", b_if, "up")


def add_address(ns: Namespace, cidr: str, dev: str) -> None:
    """An address usable at once: IPv6 gets `nodad` so it is never tentative."""
    extra = ["nodad"] if ":" in cidr else []
    ns.ip("address", "add", cidr, "dev", dev, *extra)


def add_route(ns: Namespace, prefix: str, via: str) -> None:
    family = "-6" if ":" in prefix else "-4"
    ns.ip(family, "route", "add", prefix, "via", via)
