"""Evidence -> (ProbeState, reason), shared by the raw and connect probers.

Reasons follow nmap's --reason vocabulary (syn-ack, reset, no-response,
admin-prohibited, host-unreachable, net-unreachable, port-unreachable ...).
"""

from __future__ import annotations

import errno

from probe.model import Endpoint, Family, IcmpError, Method, ProbeResult, ProbeState

# ICMPv4 type 3 (destination unreachable) codes, RFC 792 / RFC 1812
_ICMP4_UNREACH = {
    0: "net-unreachable",
    1: "host-unreachable",
    2: "proto-unreachable",
    3: "port-unreachable",
    4: "fragmentation-needed",
    5: "source-route-failed",
    6: "net-unknown",
    7: "host-unknown",
    9: "net-prohibited",
    10: "host-prohibited",
    11: "net-tos-unreachable",
    12: "host-tos-unreachable",
    13: "admin-prohibited",
}
# ICMPv6 type 1 (destination unreachable) codes, RFC 4443
_ICMP6_UNREACH = {
    0: "no-route",
    1: "admin-prohibited",
    2: "beyond-scope",
    3: "addr-unreachable",
    4: "port-unreachable",
    5: "policy-failed",
    6: "reject-route",
}
ICMP4_DEST_UNREACH = 3
ICMP6_DEST_UNREACH = 1


def icmp_reason(family: Family, icmp_type: int, code: int) -> str:
    """nmap-style name of an ICMP error, e.g. 'admin-prohibited'."""
    if family is Family.IPV4:
        if icmp_type == ICMP4_DEST_UNREACH:
            return _ICMP4_UNREACH.get(code, f"unreachable-code-{code}")
        if icmp_type == 11:
            return "time-exceeded"
        return f"icmp-{icmp_type}-{code}"
    if icmp_type == ICMP6_DEST_UNREACH:
        return _ICMP6_UNREACH.get(code, f"unreachable-code-{code}")
    if icmp_type == 3:
        return "time-exceeded"
    return f"icmpv6-{icmp_type}-{code}"


def describe_icmp(family: Family, icmp: IcmpError) -> str:
    """'admin-prohibited from 192.0.2.2 (ICMP 3/13)'."""
    proto = "ICMP" if family is Family.IPV4 else "ICMPv6"
    name = icmp_reason(family, icmp.type, icmp.code)
    return f"{name} from {icmp.sender} ({proto} {icmp.type}/{icmp.code})"


# errno of a failed connect() -> state, when no ICMP detail is known
_LOCAL_NO_ROUTE = {errno.ENETUNREACH, errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT}
_UNREACHABLE = {errno.EHOSTUNREACH, errno.EACCES, errno.EHOSTDOWN, errno.ENETDOWN, errno.EPERM}
# refused by this host before anything was sent: a netfilter/nftables OUTPUT rule, a
# cgroup BPF program or an LSM (the kernel returns EPERM, or EACCES, to the caller)
_LOCAL_DENY = {errno.EPERM, errno.EACCES}
# raised at once by connect() or sendto(): this host's routing table said so, nothing
# was sent (`ip route add unreachable ...` gives EHOSTUNREACH, `blackhole` EINVAL)
_LOCAL_ROUTE_VERDICT = {errno.EHOSTUNREACH, errno.EINVAL}
# the reason of a probe the run's stop (deadline, SIGTERM, Ctrl-C) left unanswered
STOPPED = "not answered before the run stopped"


def stopped_row(endpoint: Endpoint, method: Method) -> ProbeResult:
    """The row of a probe the run's stop left unanswered (or never sent): one reason,
    STOPPED, whichever prober or stage made it (VP307 says it as such)."""
    return ProbeResult(
        endpoint.target,
        endpoint.family,
        endpoint.port,
        ProbeState.ERROR,
        STOPPED,
        method,
        endpoint.address,
    )


# the one reason both probers give for local-deny, so raw and connect rows agree
LOCAL_DENY_REASON = "local-rule (a rule on this host refused to send; nothing left it)"


def connect_errno_state(err: int, synchronous: bool) -> ProbeState:
    """Map a connect() errno to a state.

    ENETUNREACH, EHOSTUNREACH (an `unreachable` route) or EINVAL (a `blackhole`
    route) raised synchronously by connect() or sendto() is a local routing verdict
    (no-route, nothing sent); the same errno arriving later came from an ICMP
    error and means the path is unreachable. EPERM/EACCES raised synchronously (by
    connect() or sendto()) is a local rule (local-deny); EACCES arriving later is an
    ICMPv6 administratively-prohibited error (unreachable).
    """
    if err == errno.ECONNREFUSED:
        return ProbeState.CLOSED
    if err == errno.ETIMEDOUT:
        return ProbeState.FILTERED
    if synchronous and err in _LOCAL_DENY:
        return ProbeState.LOCAL_DENY
    if synchronous and err in _LOCAL_ROUTE_VERDICT:
        return ProbeState.NO_ROUTE
    if err in _LOCAL_NO_ROUTE:
        return (
            ProbeState.NO_ROUTE
            if synchronous or err != errno.ENETUNREACH
            else ProbeState.UNREACHABLE
        )
    if err in _UNREACHABLE:
        return ProbeState.UNREACHABLE
    return ProbeState.ERROR


def no_route_reason(err: int) -> str:
    """The one reason both probers give when this host's routing refused to send."""
    return f"no-route ({errno_name(err)}: no route from this host, nothing sent)"


def errno_name(err: int) -> str:
    """'EHOSTUNREACH'; EINVAL, which a route of type blackhole gives, says so."""
    name = errno.errorcode.get(err, f"errno {err}")
    return f"{name} (a blackhole route?)" if err == errno.EINVAL else name
