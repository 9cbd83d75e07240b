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
    """Addresses of `hostname` in both families, within one shared time budget."""
    import time

    import dns.exception
    import dns.resolver

    try:
        resolver = dns.resolver.Resolver(filename=resolv_conf)
    except (dns.exception.DNSException, OSError, ValueError) as exc:
        # NoResolverConfiguration: no readable resolv.conf, or one without nameservers
        return (), f"cannot read resolver configuration {resolv_conf}: {exc}"
    deadline = time.monotonic() + timeout
    addresses: list[str] = []
    errors: list[str] = []
    for rdtype in ("A", "AAAA"):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            errors.append(f"{rdtype}: timeout")
            continue
        try:
            answer = resolver.resolve(hostname, rdtype, lifetime=remaining, search=False)
        except dns.resolver.NoAnswer:
            continue  # NODATA: the name exists without this family
        except dns.resolver.NXDOMAIN:
            return (), "NXDOMAIN"
        except dns.resolver.NoNameservers:
            errors.append(f"{rdtype}: no nameserver answered")
            continue
        except dns.exception.Timeout:
            errors.append(f"{rdtype}: timeout")
            continue
        except (dns.exception.DNSException, ValueError) as exc:
            errors.append(f"{rdtype}: {exc}")
            continue
        addresses.extend(r.address for r in answer)
    return tuple(addresses), "; ".join(errors)
