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

from probe.model import Family

# enough for every DR endpoint name of a peer at once, few enough to be gentle with DNS
MAX_THREADS = 32

# host -> [(family, address)] in getaddrinfo's order, and the canonical name;
# raises socket.gaierror (or OSError) like socket.getaddrinfo
Lookup = Callable[[str], tuple[list[tuple[Family, str]], str]]


def system_lookup(host: str) -> tuple[list[tuple[Family, str]], str]:
    """getaddrinfo(host, AF_UNSPEC, SOCK_STREAM, AI_CANONNAME): the addresses in the C
    library's order (RFC 6724 sorting, /etc/gai.conf), without duplicates, and the
    canonical name it settled on ('' when none). Raises socket.gaierror."""
    infos = socket.getaddrinfo(
        host, None, socket.AF_UNSPEC, socket.SOCK_STREAM, 0, socket.AI_CANONNAME
    )
    canonical = next((info[3] for info in infos if info[3]), "")
    seen: dict[str, Family] = {}
    for af, _type, _proto, _canon, sockaddr in infos:
        if af == socket.AF_INET:
            seen.setdefault(str(sockaddr[0]), Family.IPV4)
        elif af == socket.AF_INET6:
            seen.setdefault(str(sockaddr[0]), Family.IPV6)
    return [(family, address) for address, family in seen.items()], canonical


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


def look_up_all(
    hosts: Sequence[str], per_lookup: float, deadline: float, lookup: Lookup = system_lookup
) -> dict[str, GaiResult]:
    """getaddrinfo for every host, concurrently on up to MAX_THREADS daemon threads.

    `per_lookup` (seconds) bounds each lookup from the moment it starts; `deadline`
    (a time.monotonic() value) bounds the whole stage: hosts not answered by then,
    started or not, are `timed_out`. Never raises; returns one result per host."""
    pending: queue.SimpleQueue[str] = queue.SimpleQueue()
    for host in hosts:
        pending.put(host)
    answers: queue.SimpleQueue[GaiResult] = queue.SimpleQueue()
    started: dict[str, float] = {}
    lock = threading.Lock()

    def worker() -> None:
        while True:
            try:
                host = pending.get_nowait()
            except queue.Empty:
                return
            begin = time.monotonic()
            with lock:
                started[host] = begin
            answers.put(_one(host, lookup, begin))

    for index in range(min(len(hosts), MAX_THREADS)):
        threading.Thread(target=worker, name=f"getaddrinfo-{index}", daemon=True).start()

    results: dict[str, GaiResult] = {}
    while len(results) < len(hosts):
        now = time.monotonic()
        with lock:
            running = {h: t for h, t in started.items() if h not in results}
        for host, begin in running.items():
            if now - begin >= per_lookup:
                results[host] = _timed_out(host, now - begin, "getaddrinfo gave no answer")
        if now >= deadline:
            break
        wake = min([deadline, *(t + per_lookup for t in running.values())])
        try:
            result = answers.get(timeout=max(0.001, min(wake - now, 0.05)))
        except queue.Empty:
            continue
        results.setdefault(result.host, result)
    for host in hosts:
        if host not in results:
            with lock:
                began = started.get(host)
            why = "not started before the DNS deadline" if began is None else "no answer"
            ran = 0.0 if began is None else time.monotonic() - began
            results[host] = _timed_out(host, ran, f"getaddrinfo: {why}")
    return results


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
