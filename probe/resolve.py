"""Resolve the peer's names as VoltDB's JVM will: the system's getaddrinfo decides the
addresses (probe/gai.py); DNS queried directly (dnspython) is the lens that says why.

For each name, getaddrinfo's answer (its addresses, in its order, and the canonical
name it settled on) is what gets probed. The lens then asks DNS for A and AAAA of that
settled name (or, when getaddrinfo found nothing, walks the search list per type as a
stub would) and records each type's outcome, the server and the time taken, so a
family that failed is explained by its own rcode: NXDOMAIN, SERVFAIL, a timeout or a
nameserver that cannot be reached. `--resolv-conf` steers only the lens.

Each (target, family) gets exactly one DnsAnswer; failures are outcomes, not
exceptions. dnspython's exceptions are translated here and nowhere else.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from probe.errors import CannotRunError
from probe.gai import GaiResult, Lookup, SystemLookups, system_lookup, system_lookup_ipv4
from probe.model import (
    DNS_FAILURES,
    FAMILIES,
    DnsAnswer,
    DnsLens,
    DnsOutcome,
    Family,
    Target,
    unmapped_ipv4,
)
from probe.stop import current as current_stop

if TYPE_CHECKING:
    from dns.asyncresolver import Resolver

    from probe.progress import Tally

_RDTYPE = {Family.IPV4: "A", Family.IPV6: "AAAA"}
MAX_LOOKUPS_IN_FLIGHT = 64  # be gentle with the cluster's DNS
# the whole getaddrinfo stage ends this many --dns-timeout after it starts, however many
# names wait (a name still unanswered then is a timeout); the lens gets one more
STAGE_TIMEOUTS = 2.0
WELL_KNOWN_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052 2.1
IPV4ONLY_ARPA = "ipv4only.arpa"  # RFC 7050: its AAAA reveals a DNS64 server's prefix
IPV4ONLY_ADDRESSES = (ipaddress.IPv4Address("192.0.0.170"), ipaddress.IPv4Address("192.0.0.171"))
RFC6052_LENGTHS = (32, 40, 48, 56, 64, 96)
# the IPv6 answer of a name resolved as a preferIPv4Stack JVM resolves it
NOT_ASKED = (
    "not looked up: VoltDB's JVM runs with -Djava.net.preferIPv4Stack=true and asks for A "
    "records only"
)


def make_resolver(resolv_conf: str, lifetime: float) -> Resolver:
    """A dnspython async resolver configured from `resolv_conf`."""
    import dns.asyncresolver
    import dns.exception

    try:
        resolver = dns.asyncresolver.Resolver(filename=resolv_conf)
    except (OSError, ValueError, dns.exception.DNSException) as exc:
        # NoResolverConfiguration: no readable resolv.conf, or one without nameservers
        raise CannotRunError(f"cannot read resolver configuration {resolv_conf}: {exc}") from exc
    resolver.lifetime = lifetime
    resolver.timeout = min(lifetime, max(lifetime / 2, 1.0))
    return resolver


def resolve_targets(
    targets: Sequence[Target],
    resolv_conf: str,
    lifetime: float,
    lookup: Lookup = system_lookup,
    late_until: float | None = None,
    answered: Tally | None = None,
    ipv4_only: bool = False,
) -> tuple[DnsAnswer, ...]:
    """One DnsAnswer per (target, family); IP literals get a `literal` answer.

    `lifetime` (seconds, --dns-timeout) bounds each getaddrinfo call; the getaddrinfo
    stage ends after STAGE_TIMEOUTS x lifetime and the lens after one more lifetime,
    so the whole resolution takes at most ~3 x lifetime whatever the number of names.
    Except: a name whose getaddrinfo outlasted `lifetime` while DNS answered one of its
    record types is waited for until `late_until` (time.monotonic(); None: not at all),
    because glibc answers it once the other type's retries run out (probe.gai.glibc_wait)
    and the JVM waits for that answer. `lookup` is the system resolver (a test may pass
    its own). A lens resolver configuration that cannot be read (no nameserver, say)
    leaves the lens off, said in each answer's detail: getaddrinfo still decides.
    `answered` counts the names whose getaddrinfo ended. `ipv4_only`: resolve as a JVM
    run with preferIPv4Stack=true does (getaddrinfo with AF_INET: no AAAA is asked, so a
    broken AAAA costs nothing); each name's IPv6 answer then says it was not asked."""
    answers = list(
        {
            t.text: DnsAnswer(t.text, t.literal_family, DnsOutcome.LITERAL, (t.host,))
            for t in targets
            if t.literal_family is not None
        }.values()
    )
    # one lookup per name: the same name on two ports is asked once
    names = {t.text: t for t in targets if not t.is_literal}
    if names:
        if ipv4_only and lookup is system_lookup:
            lookup = system_lookup_ipv4
        answers += _resolve_names(
            list(names.values()), resolv_conf, lifetime, lookup, late_until, answered, ipv4_only
        )
    order = {t.text: i for i, t in enumerate(targets)}
    return tuple(sorted(answers, key=lambda a: (order[a.target], a.family.value)))


def _resolve_names(
    names: list[Target],
    resolv_conf: str,
    lifetime: float,
    lookup: Lookup,
    late_until: float | None,
    answered: Tally | None,
    ipv4_only: bool = False,
) -> list[DnsAnswer]:
    hosts = list(dict.fromkeys(t.host for t in names))
    lookups = SystemLookups(hosts, lookup, answered)
    try:
        resolver: Resolver | None = make_resolver(resolv_conf, lifetime)
        lens_off = ""
    except CannotRunError as exc:  # the lens only explains: getaddrinfo still decides
        resolver, lens_off = None, f"; no DNS lens: {exc}"
    # the run's deadline (or a signal) cuts every wait here, as it cuts the probers'
    run = current_stop()
    system = lookups.collect(lifetime, time.monotonic() + run.bound(STAGE_TIMEOUTS * lifetime))
    families = (Family.IPV4,) if ipv4_only else FAMILIES
    lenses, prefixes = (
        _lens_all(hosts, system, resolver, lifetime, families) if resolver else ({}, ())
    )
    late = [
        host
        for host in hosts
        if system[host].timed_out
        and any(
            lens.outcome is DnsOutcome.OK
            for family in FAMILIES
            if (lens := lenses.get((host, family))) is not None
        )
    ]
    if late and late_until is not None:
        system.update(lookups.wait_late(late, late_until))
    answers: list[DnsAnswer] = []
    for target in names:
        if ipv4_only:
            answers.append(
                DnsAnswer(target.text, Family.IPV6, DnsOutcome.NO_ADDRESS, detail=NOT_ASKED)
            )
        for family, other in ((Family.IPV4, Family.IPV6), (Family.IPV6, Family.IPV4)):
            if ipv4_only and family is Family.IPV6:
                continue
            lens, other_lens = lenses.get((target.host, family)), lenses.get((target.host, other))
            answer = combine(target, family, system[target.host], lens, other_lens)
            answers.append(replace(answer, detail=answer.detail + lens_off))
    return [_mark_nat64(a, prefixes) for a in answers]


def combine(
    target: Target,
    family: Family,
    system: GaiResult,
    lens: DnsLens | None,
    other_lens: DnsLens | None = None,
) -> DnsAnswer:
    """getaddrinfo's answer for `family`, explained by the lens. Pure.

    The addresses are getaddrinfo's as they go on the wire: an IPv4-mapped IPv6 one
    (::ffff:a.b.c.d) is the IPv4 address it maps, which the kernel dials over IPv4 (RFC
    4291 2.5.5.2), so it counts for IPv4 and is listed in the IPv6 answer's `ignored`.
    With no address, the outcome is the lens's failure
    for this record type when it has one (NXDOMAIN, SERVFAIL, timeout, unreachable
    nameserver), else what getaddrinfo's error means. When getaddrinfo answered the
    other family but DNS knows the name in neither type (`other_lens` failed too), the
    answer came from /etc/hosts or another source: the missing family is no-address."""
    # on the wire, an IPv4-mapped AAAA (::ffff:a.b.c.d) is IPv4: the kernel dials it over
    # IPv4 (Java lists it as IPv6 but connects over IPv4), so it counts as IPv4 here
    wire = [(_wire_family(f, a), _unmapped(a), i) for i, (f, a) in enumerate(system.addresses)]
    usable = tuple(dict.fromkeys(a for f, a, _i in wire if f is family))
    ignored = tuple(a for f, a in system.addresses if f is family and _ipv4_mapped(a))
    native = {a for f, a in system.addresses if f is family}
    from_mapped = [
        a
        for f, a in system.addresses
        if f is not family and _ipv4_mapped(a) and _unmapped(a) not in native
    ]
    only_mapped = tuple(dict.fromkeys(_unmapped(a) for a in from_mapped))
    rank = next((i for f, _a, i in wire if f is family), None)
    where = f" via {system.canonical}" if system.canonical else ""
    seen = f"getaddrinfo: {len(usable)} address(es){where}"
    if from_mapped and family is Family.IPV4:
        seen += f" (from IPv4-mapped AAAA {', '.join(from_mapped)})"
    lens_text = f"; DNS {_RDTYPE[family]}: {describe_lens(lens)}" if lens else ""

    def answer(outcome: DnsOutcome, detail: str) -> DnsAnswer:
        return DnsAnswer(
            target.text,
            family,
            outcome,
            usable,
            detail,
            system.elapsed_ms,
            system.canonical,
            rank,
            ignored,
            lens,
            from_mapped=only_mapped,
        )

    if usable:
        return answer(DnsOutcome.OK, seen + lens_text)
    if system.timed_out:
        return answer(DnsOutcome.TIMEOUT, system.detail + lens_text)
    not_from_dns = (
        not system.error
        and system.addresses
        and other_lens is not None
        and other_lens.outcome is not DnsOutcome.OK
    )
    if lens is not None and lens.outcome in DNS_FAILURES and not not_from_dns:
        said = system.error or f"no {_RDTYPE[family]} address"
        return answer(lens.outcome, f"getaddrinfo: {said}{lens_text}")
    if ignored:
        return answer(
            DnsOutcome.NO_ADDRESS,
            f"getaddrinfo gave only IPv4-mapped addresses ({', '.join(ignored)}){lens_text}",
        )
    if not system.error:  # the name resolved, in the other family only
        source = " (not from DNS: /etc/hosts or another source)" if not_from_dns else ""
        return answer(
            DnsOutcome.NO_ADDRESS, f"getaddrinfo: no {family} address{where}{source}{lens_text}"
        )
    outcome = {
        "EAI_NONAME": DnsOutcome.NXDOMAIN,
        "EAI_NODATA": DnsOutcome.NO_ADDRESS,
        "EAI_AGAIN": DnsOutcome.SERVFAIL,
    }.get(system.error, DnsOutcome.ERROR)
    if (
        outcome is DnsOutcome.NXDOMAIN
        and lens is not None
        and lens.outcome is DnsOutcome.NO_ADDRESS
    ):
        outcome = DnsOutcome.NO_ADDRESS  # EAI_NONAME also covers "no data in either type"
    return answer(outcome, f"getaddrinfo: {system.error} ({system.detail}){lens_text}")


def describe_lens(lens: DnsLens) -> str:
    """'nxdomain for peer.b.example from 198.51.100.53 in 3 ms'."""
    server = f" from {lens.server}" if lens.server else ""
    text = f"{lens.outcome} for {lens.name}{server} in {lens.elapsed_ms:.0f} ms"
    if lens.addresses:
        text += f" ({', '.join(lens.addresses)})"
    return text


def _ipv4_mapped(address: str) -> bool:
    return unmapped_ipv4(address) is not None


def _unmapped(address: str) -> str:
    """'::ffff:192.0.2.1' -> '192.0.2.1'; any other address unchanged."""
    return unmapped_ipv4(address) or address


def _wire_family(family: Family, address: str) -> Family:
    return Family.IPV4 if family is Family.IPV6 and _ipv4_mapped(address) else family


def _lens_all(
    hosts: list[str],
    system: dict[str, GaiResult],
    resolver: Resolver,
    lifetime: float,
    families: tuple[Family, ...] = FAMILIES,
) -> tuple[dict[tuple[str, Family], DnsLens], tuple[str, ...]]:
    """The lens for every name, and the DNS64 prefixes the network announces (RFC 7050),
    within one more `lifetime` (+0.5 s): queries not done by then give no lens."""
    import asyncio  # here: IP-literal peers need no event loop (~40 ms of imports)

    keys = [(h, f) for h in hosts for f in families]
    want_prefix = any(
        f is Family.IPV6 for result in system.values() for f, _address in result.addresses
    )

    async def all_lenses() -> tuple[dict[tuple[str, Family], DnsLens], tuple[str, ...]]:
        slots = asyncio.Semaphore(MAX_LOOKUPS_IN_FLIGHT)

        async def bounded(host: str, family: Family) -> DnsLens:
            async with slots:
                return await _lens(resolver, host, system[host], family)

        tasks = {key: asyncio.ensure_future(bounded(*key)) for key in keys}
        prefix_task = asyncio.ensure_future(
            discover_nat64_prefixes(resolver) if want_prefix else _no_prefixes()
        )
        wait = current_stop().bound(lifetime + 0.5)
        await asyncio.wait([*tasks.values(), prefix_task], timeout=max(wait, 0.001))
        for task in [*tasks.values(), prefix_task]:
            task.cancel()  # a no-op for those already done
        lenses = {k: t.result() for k, t in tasks.items() if t.done() and not t.cancelled()}
        explained = await refusals_explained(resolver, list(lenses.values()))
        done = prefix_task.done() and not prefix_task.cancelled()
        return dict(zip(lenses, explained, strict=True)), prefix_task.result() if done else ()

    return asyncio.run(all_lenses())


async def _no_prefixes() -> tuple[str, ...]:
    return ()


async def _lens(resolver: Resolver, host: str, system: GaiResult, family: Family) -> DnsLens:
    """DNS's own answer for `family` of the name getaddrinfo settled on (absolute, no
    search); when getaddrinfo settled on none, of `host` through the search list."""
    settled = system.canonical.rstrip(".")
    return await query(resolver, settled + "." if settled else host, family, not settled)


async def discover_nat64_prefixes(resolver: Resolver) -> tuple[str, ...]:
    """The NAT64 prefixes a DNS64 server announces: the AAAA of ipv4only.arpa, each
    address searched at the RFC 6052 prefix lengths for 192.0.0.170/171 (RFC 7050 3)."""
    answer = await query(resolver, IPV4ONLY_ARPA + ".", Family.IPV6, search=False)
    found: list[str] = []
    for address in answer.addresses:
        prefix = prefix_embedding(address, IPV4ONLY_ADDRESSES)
        if prefix and prefix not in found:
            found.append(prefix)
    return tuple(found)


def embedded_ipv4(address: str, length: int) -> ipaddress.IPv4Address:
    """The IPv4 address embedded in an IPv6 address at an RFC 6052 prefix length
    (2.2: bits 64-71 are the reserved 'u' octet and are skipped)."""
    packed = ipaddress.IPv6Address(address).packed
    start = length // 8
    octets = [i for i in range(start, 16) if i != 8][:4]
    return ipaddress.IPv4Address(bytes(packed[i] for i in octets))


def prefix_embedding(address: str, candidates: Sequence[ipaddress.IPv4Address]) -> str | None:
    """The RFC 6052 prefix ('2001:db8:64::/96') under which `address` embeds one of
    `candidates`, or None."""
    for length in RFC6052_LENGTHS:
        if embedded_ipv4(address, length) in candidates:
            network = ipaddress.IPv6Network(f"{address}/{length}", strict=False)
            return str(network)
    return None


def _mark_nat64(answer: DnsAnswer, prefixes: tuple[str, ...]) -> DnsAnswer:
    """An IPv6 answer whose addresses are all DNS64-synthesized gets `nat64_prefix`."""
    if answer.family is not Family.IPV6 or not answer.addresses:
        return answer
    prefix = synthesis_prefix(answer.addresses, prefixes)
    return answer if prefix is None else replace(answer, nat64_prefix=prefix)


def synthesis_prefix(addresses: Sequence[str], prefixes: Sequence[str]) -> str | None:
    """The NAT64 prefix every one of `addresses` lies in: the well-known 64:ff9b::/96
    (RFC 6052 2.1) or one the network announced (RFC 7050); None otherwise. Pure."""
    for prefix in (str(WELL_KNOWN_NAT64), *prefixes):
        network = ipaddress.IPv6Network(prefix)
        if all(ipaddress.IPv6Address(a) in network for a in addresses):
            return prefix
    return None


def resolve_name(
    hostname: str, resolv_conf: str, lifetime: float, *, search: bool = False
) -> tuple[DnsAnswer, DnsAnswer]:
    """The A and the AAAA answer for one name (e.g. a load balancer's hostname). Never
    raises: an unreadable resolver configuration is an `error` answer in both families."""
    import asyncio

    target = Target(text=hostname, host=hostname, port=0)
    try:
        resolver = make_resolver(resolv_conf, lifetime)
    except CannotRunError as exc:
        return (
            DnsAnswer(hostname, Family.IPV4, DnsOutcome.ERROR, detail=str(exc)),
            DnsAnswer(hostname, Family.IPV6, DnsOutcome.ERROR, detail=str(exc)),
        )

    async def both() -> list[DnsLens]:
        lenses = await asyncio.gather(
            query(resolver, target.host, Family.IPV4, search),
            query(resolver, target.host, Family.IPV6, search),
        )
        return await refusals_explained(resolver, list(lenses))

    v4, v6 = (
        DnsAnswer(target.text, family, lens.outcome, lens.addresses, lens.detail, lens.elapsed_ms)
        for family, lens in zip((Family.IPV4, Family.IPV6), asyncio.run(both()), strict=True)
    )
    return v4, v6


async def query(resolver: Resolver, host: str, family: Family, search: bool) -> DnsLens:
    """One A or AAAA query through dnspython: its outcome, addresses, server and time.
    On success `detail` is the name that answered. Never raises."""
    import dns.exception
    import dns.resolver

    started = time.perf_counter()
    servers = ", ".join(str(s) for s in resolver.nameservers)

    def lens(
        outcome: DnsOutcome,
        addresses: tuple[str, ...] = (),
        detail: str = "",
        name: str = "",
        server: str = servers,
    ) -> DnsLens:
        elapsed = (time.perf_counter() - started) * 1000
        return DnsLens(name or host.rstrip("."), outcome, addresses, server, elapsed, detail)

    try:
        result = await resolver.resolve(
            host, _RDTYPE[family], search=search, raise_on_no_answer=True
        )
    except dns.resolver.NXDOMAIN as exc:
        tried = ", ".join(str(n).rstrip(".") for n in exc.qnames())
        return lens(DnsOutcome.NXDOMAIN, detail=f"NXDOMAIN for {tried}")
    except dns.resolver.NoAnswer as exc:
        return lens(DnsOutcome.NO_ADDRESS, detail=f"no {_RDTYPE[family]} record: {exc}")
    except dns.resolver.LifetimeTimeout as exc:
        return lens(DnsOutcome.TIMEOUT, detail=str(exc))
    except dns.resolver.NoNameservers as exc:
        outcome = DnsOutcome.SERVFAIL
        if _all_unreachable(exc):
            outcome = DnsOutcome.NAMESERVER_UNREACHABLE
        elif _all_refused(exc):  # a policy (an ACL, a view), not a failing server
            outcome = DnsOutcome.REFUSED
        return lens(outcome, detail=_servers_said(exc))
    except dns.exception.DNSException as exc:
        return lens(DnsOutcome.ERROR, detail=f"{type(exc).__name__}: {exc}")
    addresses = tuple(dict.fromkeys(rr.to_text() for rr in result))
    name = f"{result.qname}".rstrip(".")
    return lens(DnsOutcome.OK, addresses, name, name, str(result.nameserver or servers))


REFUSED_WAIT = 0.3  # seconds: a closed port answers with an ICMP error at once


async def refusals_explained(resolver: Resolver, lenses: list[DnsLens]) -> list[DnsLens]:
    """`lenses`, each timeout turned into nameserver-unreachable when every nameserver
    refuses a query outright (`refusing_nameservers`): asked once for all of them, so a
    silent server gets one extra query per run, not one per lookup."""
    timed_out = [lens for lens in lenses if lens.outcome is DnsOutcome.TIMEOUT]
    if not timed_out:
        return lenses
    refused = await refusing_nameservers(resolver, timed_out[0].name)
    if not refused:
        return lenses
    # a closed port, not a slow server: glibc is told at once, dnspython was not
    detail = f"nothing listens on {', '.join(refused)}: the port refused (ICMP port unreachable)"
    return [
        replace(lens, outcome=DnsOutcome.NAMESERVER_UNREACHABLE, detail=detail)
        if lens.outcome is DnsOutcome.TIMEOUT
        else lens
        for lens in lenses
    ]


async def refusing_nameservers(resolver: Resolver, host: str) -> list[str]:
    """The nameservers, when every one of them refuses a query on a connected UDP socket
    (ECONNREFUSED: ICMP port unreachable, nothing listens on port 53); [] otherwise.
    dnspython's unconnected sockets never see that error and wait out their timeout,
    where glibc's connected ones fail at once (EAI_AGAIN). One query per nameserver."""
    import asyncio
    import socket

    import dns.message

    wire = dns.message.make_query(host, "A").to_wire()
    loop = asyncio.get_running_loop()
    refused: list[str] = []
    for server in resolver.nameservers:
        address = str(server)
        port = int(resolver.nameserver_ports.get(address, resolver.port))
        af = socket.AF_INET6 if ":" in address else socket.AF_INET
        with socket.socket(af, socket.SOCK_DGRAM) as sock:
            sock.setblocking(False)
            try:
                sock.connect((address, port))
                await loop.sock_sendall(sock, wire)
                await asyncio.wait_for(loop.sock_recv(sock, 512), REFUSED_WAIT)
            except ConnectionRefusedError:
                refused.append(f"{address}:{port}")
                continue
            except (OSError, asyncio.TimeoutError):
                return []
            return []  # it answered: not refused
    return refused


def _all_unreachable(exc: Exception) -> bool:
    """Every nameserver failed with a socket error (ENETUNREACH, EHOSTUNREACH...), none
    with a DNS answer: the servers were never reached, which is not a SERVFAIL."""
    errors = getattr(exc, "kwargs", {}).get("errors", [])
    return bool(errors) and all(
        isinstance(error[3], OSError) and not isinstance(error[3], TimeoutError) for error in errors
    )


def _all_refused(exc: Exception) -> bool:
    """Every nameserver answered with RCODE REFUSED."""
    errors = getattr(exc, "kwargs", {}).get("errors", [])
    return bool(errors) and all(str(error[3]) == "REFUSED" for error in errors)


def _servers_said(exc: Exception) -> str:
    """'SERVFAIL from 192.0.2.2' style text from dnspython's NoNameservers."""
    errors = getattr(exc, "kwargs", {}).get("errors", [])
    # dnspython's error tuples are (server, tcp, port, error, message)
    parts = [f"{error[0]} answered {error[3]}" for error in errors]
    return "all nameservers failed: " + "; ".join(parts) if parts else str(exc)
