"""The system resolver, as VoltDB's JVM calls it: getaddrinfo in bounded worker threads.

The JVM's InetAddress.getAllByName asks glibc's getaddrinfo once per name with
AF_UNSPEC and AI_CANONNAME (OpenJDK Inet6AddressImpl.c), so /etc/hosts (and the
pod's hostAliases, which land there), nsswitch.conf, the search list walked once
for both record types, ndots and the resolv.conf options all apply. We call the
same function, not an emulation of it.

getaddrinfo blocks and cannot be cancelled, so lookups run on daemon threads (at
most MAX_THREADS) and the caller waits with deadlines: a lookup still running when
its time is up is reported as timed out and its late answer is dropped.
"""

from __future__ import annotations

import queue
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from probe.model import Family

if TYPE_CHECKING:
    from probe.progress import Tally

# enough for every DR endpoint name of a peer at once, few enough to be gentle with DNS
MAX_THREADS = 32
GLIBC_MARGIN = 1.0  # seconds on top of glibc's own bound: its answer comes just after
POLL = 0.05  # seconds between looks at the clock while waiting for answers

# host -> [(family, address)] in getaddrinfo's order, and the canonical name;
# raises socket.gaierror (or OSError) like socket.getaddrinfo
Lookup = Callable[[str], tuple[list[tuple[Family, str]], str]]


def system_lookup(host: str, af: int = socket.AF_UNSPEC) -> tuple[list[tuple[Family, str]], str]:
    """getaddrinfo(host, af, SOCK_STREAM, AI_CANONNAME): the addresses in the C
    library's order (RFC 6724 sorting, /etc/gai.conf), without duplicates, and the
    canonical name it settled on ('' when none). Raises socket.gaierror."""
    infos = socket.getaddrinfo(host, None, af, socket.SOCK_STREAM, 0, socket.AI_CANONNAME)
    canonical = next((info[3] for info in infos if info[3]), "")
    seen: dict[str, Family] = {}
    for af, _type, _proto, _canon, sockaddr in infos:
        if af == socket.AF_INET:
            seen.setdefault(str(sockaddr[0]), Family.IPV4)
        elif af == socket.AF_INET6:
            seen.setdefault(str(sockaddr[0]), Family.IPV6)
    return [(family, address) for address, family in seen.items()], canonical


def system_lookup_ipv4(host: str) -> tuple[list[tuple[Family, str]], str]:
    """getaddrinfo with AF_INET: what a JVM run with -Djava.net.preferIPv4Stack=true asks
    (Inet4AddressImpl: A records only, no AAAA query at all). Raises socket.gaierror."""
    return system_lookup(host, socket.AF_INET)


@dataclass(frozen=True)
class GaiResult:
    """One name's getaddrinfo outcome. `error` is the EAI_* name ('' on success);
    `timed_out` means no answer came within the lookup's time (or the stage's)."""

    host: str
    addresses: tuple[tuple[Family, str], ...] = ()
    canonical: str = ""
    error: str = ""
    detail: str = ""
    elapsed_ms: float = 0.0
    timed_out: bool = False


def gai_error_name(exc: OSError) -> str:
    """'EAI_NONAME' style name of a getaddrinfo error."""
    for name in dir(socket):
        if name.startswith("EAI_") and getattr(socket, name) == exc.errno:
            return name
    return f"errno {exc.errno}"


class SystemLookups:
    """getaddrinfo for every host, concurrently on up to MAX_THREADS daemon threads,
    started at construction. `collect` waits for the first answers; `wait_late` keeps
    waiting for chosen hosts whose lookups are still running (glibc may answer one
    record type only after the other's timeouts, and the JVM waits for it)."""

    def __init__(
        self, hosts: Sequence[str], lookup: Lookup = system_lookup, answered: Tally | None = None
    ) -> None:
        self.hosts = list(dict.fromkeys(hosts))
        self._answered = answered  # counts lookups that ended (live progress)
        self._pending: queue.SimpleQueue[str] = queue.SimpleQueue()
        for host in self.hosts:
            self._pending.put(host)
        self._answers: queue.SimpleQueue[GaiResult] = queue.SimpleQueue()
        self._started: dict[str, float] = {}
        self._lock = threading.Lock()
        self._lookup = lookup
        self._after_time: dict[str, GaiResult] = {}  # answers `collect` got too late
        for index in range(min(len(self.hosts), MAX_THREADS)):
            threading.Thread(target=self._work, name=f"getaddrinfo-{index}", daemon=True).start()

    def _work(self) -> None:
        while True:
            try:
                host = self._pending.get_nowait()
            except queue.Empty:
                return
            begin = time.monotonic()
            with self._lock:
                self._started[host] = begin
            self._answers.put(_one(host, self._lookup, begin))
            if self._answered is not None:
                self._answered.add()

    def started_at(self, host: str) -> float | None:
        """When `host`'s lookup began (time.monotonic()), None: not yet."""
        with self._lock:
            return self._started.get(host)

    def collect(self, per_lookup: float, deadline: float) -> dict[str, GaiResult]:
        """One result per host. `per_lookup` (seconds) bounds each lookup from the moment
        it starts; `deadline` (a time.monotonic() value) bounds the whole wait: hosts not
        answered by then, started or not, are `timed_out`. Never raises."""
        results: dict[str, GaiResult] = {}
        while len(results) < len(self.hosts):
            now = time.monotonic()
            with self._lock:
                running = {h: t for h, t in self._started.items() if h not in results}
            for host, begin in running.items():
                if now - begin >= per_lookup:
                    results[host] = _timed_out(
                        host, now - begin, f"getaddrinfo gave no answer in {now - begin:.1f} s"
                    )
            if now >= deadline:
                break
            wake = min([deadline, *(t + per_lookup for t in running.values())])
            result = self._next(min(wake - now, POLL))
            if result is None:
                continue
            if result.host in results:  # its time was up a moment ago: `wait_late`'s
                self._after_time[result.host] = result
            else:
                results[result.host] = result
        for host in self.hosts:
            if host not in results:
                began = self.started_at(host)
                why = "not started before the DNS deadline" if began is None else "no answer"
                ran = 0.0 if began is None else time.monotonic() - began
                results[host] = _timed_out(host, ran, f"getaddrinfo: {why}")
        return results

    def wait_late(self, hosts: Sequence[str], deadline: float) -> dict[str, GaiResult]:
        """One result per host of `hosts` (timed out by `collect`): its answer if it
        arrived, or arrives before `deadline` (time.monotonic()), else `timed_out` with
        the whole time waited. Answers of other hosts that arrive meanwhile are dropped:
        their results are already final. Never raises."""
        wanted: set[str] = set(hosts)
        late = {h: r for h, r in self._after_time.items() if h in wanted}
        while wanted - late.keys():
            # past the deadline, answers already queued (during the lens) are still taken
            left = deadline - time.monotonic()
            result = self._next(min(left, POLL))
            if result is None and left <= 0:
                break
            if result is not None and result.host in wanted:
                late[result.host] = result
        for host in wanted - late.keys():
            ran = time.monotonic() - (self.started_at(host) or time.monotonic())
            late[host] = _timed_out(host, ran, f"getaddrinfo gave no answer in {ran:.1f} s")
        return late

    def _next(self, wait: float) -> GaiResult | None:
        try:
            return self._answers.get(timeout=max(0.001, wait))
        except queue.Empty:
            return None


def look_up_all(
    hosts: Sequence[str], per_lookup: float, deadline: float, lookup: Lookup = system_lookup
) -> dict[str, GaiResult]:
    """`SystemLookups(hosts, lookup).collect(per_lookup, deadline)`: one result per host."""
    return SystemLookups(hosts, lookup).collect(per_lookup, deadline)


def glibc_wait(resolv_conf: str = "/etc/resolv.conf") -> float:
    """Seconds glibc's getaddrinfo may take for a name whose DNS server answers one
    record type and ignores the other (A and AAAA go out together; the silent one is
    retried, then asked alone): at most (2 x attempts + 1) x timeout per nameserver,
    from resolv.conf's `options timeout:N attempts:N` (resolv.conf(5): defaults 5 and
    2, capped at 30 and 5; at most 3 nameservers). Measured in the lab: 3 s at timeout:1
    attempts:1, 15 s at the defaults; GLIBC_MARGIN is added. An unreadable file gives the defaults' bound."""
    timeout, attempts = 5, 2
    try:
        text = Path(resolv_conf).read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    nameservers = 0
    for line in text.splitlines():
        words = line.split()
        if words[:1] == ["nameserver"]:
            nameservers += 1
        elif words[:1] == ["options"]:
            for word in words[1:]:
                key, _, value = word.partition(":")
                if key in ("timeout", "attempts") and value.isdigit():
                    if key == "timeout":
                        timeout = min(int(value), 30)
                    else:
                        attempts = min(int(value), 5)
    servers = min(max(nameservers, 1), 3)
    return float((2 * max(attempts, 1) + 1) * max(timeout, 1) * servers) + GLIBC_MARGIN


def _one(host: str, lookup: Lookup, begin: float) -> GaiResult:
    try:
        addresses, canonical = lookup(host)
    except socket.gaierror as exc:
        return GaiResult(
            host, error=gai_error_name(exc), detail=str(exc.strerror), elapsed_ms=_ms(begin)
        )
    except (OSError, UnicodeError, ValueError) as exc:
        return GaiResult(host, error="EAI_SYSTEM", detail=str(exc), elapsed_ms=_ms(begin))
    return GaiResult(host, tuple(addresses), canonical, elapsed_ms=_ms(begin))


def _timed_out(host: str, seconds: float, detail: str) -> GaiResult:
    return GaiResult(host, detail=detail, elapsed_ms=seconds * 1000, timed_out=True)


def _ms(begin: float) -> float:
    return (time.monotonic() - begin) * 1000
