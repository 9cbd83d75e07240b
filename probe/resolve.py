"""A and AAAA lookups for every named target, concurrently, with dnspython.

The resolver reads resolv.conf as a pod has it (nameservers, search domains,
ndots), so a short Service name resolves the way VoltDB's JVM would see it.
Each (target, family) gets exactly one DnsAnswer; failures are outcomes, not
exceptions. dnspython's exceptions are translated here and nowhere else.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from probe.errors import CannotRunError
from probe.model import DnsAnswer, DnsOutcome, Family, Target

if TYPE_CHECKING:
    from dns.asyncresolver import Resolver

_RDTYPE = {Family.IPV4: "A", Family.IPV6: "AAAA"}
MAX_LOOKUPS_IN_FLIGHT = 64  # be gentle with the cluster's DNS


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
    targets: Sequence[Target], resolv_conf: str, lifetime: float
) -> tuple[DnsAnswer, ...]:
    """One DnsAnswer per (target, family); IP literals get a `literal` answer."""
    answers = list(
        {
            t.text: DnsAnswer(t.text, t.literal_family, DnsOutcome.LITERAL, (t.host,))
            for t in targets
            if t.literal_family is not None
        }.values()
    )
    # one lookup per (name, family): the same name on two ports is asked once
    names = {t.text: t for t in targets if not t.is_literal}
    if names:
        answers += _look_up_all(list(names.values()), resolv_conf, lifetime)
    order = {t.text: i for i, t in enumerate(targets)}
    return tuple(sorted(answers, key=lambda a: (order[a.target], a.family.value)))


def _look_up_all(names: list[Target], resolv_conf: str, lifetime: float) -> list[DnsAnswer]:
    import asyncio  # here: IP-literal peers need no event loop (~40 ms of imports)

    resolver = make_resolver(resolv_conf, lifetime)

    async def all_lookups() -> list[DnsAnswer]:
        slots = asyncio.Semaphore(MAX_LOOKUPS_IN_FLIGHT)

        async def bounded(target: Target, family: Family) -> DnsAnswer:
            async with slots:
                return await _lookup(resolver, target, family)

        return list(
            await asyncio.gather(
                *(bounded(t, f) for t in names for f in (Family.IPV4, Family.IPV6))
            )
        )

    return asyncio.run(all_lookups())


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

    async def both() -> tuple[DnsAnswer, DnsAnswer]:
        v4, v6 = await asyncio.gather(
            _lookup(resolver, target, Family.IPV4, search),
            _lookup(resolver, target, Family.IPV6, search),
        )
        return v4, v6

    return asyncio.run(both())


async def _lookup(
    resolver: Resolver, target: Target, family: Family, search: bool = True
) -> DnsAnswer:
    import dns.exception
    import dns.resolver

    started = time.perf_counter()

    def answer(outcome: DnsOutcome, addresses: tuple[str, ...] = (), detail: str = "") -> DnsAnswer:
        elapsed = (time.perf_counter() - started) * 1000
        return DnsAnswer(target.text, family, outcome, addresses, detail, elapsed)

    try:
        result = await resolver.resolve(
            target.host, _RDTYPE[family], search=search, raise_on_no_answer=True
        )
    except dns.resolver.NXDOMAIN as exc:
        tried = ", ".join(str(n) for n in exc.qnames())
        return answer(DnsOutcome.NXDOMAIN, detail=f"NXDOMAIN for {tried}")
    except dns.resolver.NoAnswer as exc:
        return answer(DnsOutcome.NO_ADDRESS, detail=f"no {_RDTYPE[family]} record: {exc}")
    except dns.resolver.LifetimeTimeout as exc:
        return answer(DnsOutcome.TIMEOUT, detail=str(exc))
    except dns.resolver.NoNameservers as exc:
        return answer(DnsOutcome.SERVFAIL, detail=_servers_said(exc))
    except dns.exception.DNSException as exc:
        return answer(DnsOutcome.ERROR, detail=f"{type(exc).__name__}: {exc}")
    addresses = tuple(sorted({rr.to_text() for rr in result}, key=_address_key))
    return answer(DnsOutcome.OK, addresses, detail=f"{result.qname}".rstrip("."))


def _servers_said(exc: Exception) -> str:
    """'SERVFAIL from 192.0.2.2' style text from dnspython's NoNameservers."""
    errors = getattr(exc, "kwargs", {}).get("errors", [])
    # dnspython's error tuples are (server, tcp, port, error, message)
    parts = [f"{error[0]} answered {error[3]}" for error in errors]
    return "all nameservers failed: " + "; ".join(parts) if parts else str(exc)


def _address_key(address: str) -> tuple[int, ...]:
    import ipaddress

    return tuple(ipaddress.ip_address(address).packed)
