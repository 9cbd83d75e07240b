"""A and AAAA lookups for load-balancer hostnames (AWS NLBs report only a hostname).

Every failure is a result, never an exception: the resolver configuration that
cannot be read, a name dnspython refuses, a timeout, NXDOMAIN.
"""

from __future__ import annotations

from collections.abc import Callable

# (hostname, timeout seconds) -> (addresses, error text or "")
ResolveHost = Callable[[str, float], tuple[tuple[str, ...], str]]

RESOLV_CONF = "/etc/resolv.conf"


def resolve_host(
    hostname: str, timeout: float, resolv_conf: str = RESOLV_CONF
) -> tuple[tuple[str, ...], str]:
    """Addresses of `hostname` in both families (A and AAAA at once), and what failed."""
    from probe.model import DNS_FAILURES, DnsOutcome
    from probe.resolve import resolve_name

    answers = resolve_name(hostname, resolv_conf, timeout)
    if any(a.outcome is DnsOutcome.NXDOMAIN for a in answers):
        return (), "NXDOMAIN"
    addresses = tuple(address for a in answers for address in a.addresses)
    if answers[0].outcome is DnsOutcome.ERROR and answers[0].detail == answers[1].detail:
        return addresses, answers[0].detail  # one cause for both, e.g. no resolv.conf
    failed = DNS_FAILURES | {DnsOutcome.ERROR}  # NXDOMAIN has returned above
    errors = [
        f"{'A' if a.family.value == 'IPv4' else 'AAAA'}: {a.detail or a.outcome}"
        for a in answers
        if a.outcome in failed
    ]
    return addresses, "; ".join(errors)
