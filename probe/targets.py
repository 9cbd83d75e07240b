"""Parse --peer values and VoltDB's `cluster.config.deployment.dr.connection.source`.

Accepted forms, comma-separated, any mix:
    host    host:port    [v6]:port    v6 (bare literal)    192.0.2.7:5555
`\\,` (the escaped comma `helm --set` needs) counts as a plain comma, so the
Helm value can be pasted verbatim. Names are validated the way a resolver
would: ASCII letters, digits, hyphens, underscores; IDNA for other scripts.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

from probe.errors import UsageError
from probe.model import DEFAULT_DR_PORT, Family, Target, parse_ip

MAX_NAME = 253
MAX_LABEL = 63
# a peer cluster has a handful of DR endpoints; thousands of names are a mistake (and DNS load)
MAX_TARGETS = 4096
_LABEL = re.compile(r"[A-Za-z0-9_-]+")


def parse_peers(values: Iterable[str], default_port: int = DEFAULT_DR_PORT) -> tuple[Target, ...]:
    """Every --peer value (each possibly a comma list) to unique targets, in order."""
    check_port(default_port, "--port")
    targets: list[Target] = []
    for value in values:
        targets.extend(parse_peer_list(value, default_port))
    if not targets:
        raise UsageError("no peer given: use --peer HOST[:PORT][,HOST[:PORT]...]")
    return unique_targets(tuple(targets))


def unique_targets(targets: tuple[Target, ...]) -> tuple[Target, ...]:
    """Each (host, port) once, the first kept, under MAX_TARGETS (UsageError above it:
    voltprobe checks a peer cluster's DR endpoints, it is not a scanner)."""
    unique: dict[tuple[str, int], Target] = {}
    for target in targets:
        unique.setdefault((target.host, target.port), target)
    if len(unique) > MAX_TARGETS:
        raise UsageError(
            f"{len(unique)} peer endpoints is over the cap of {MAX_TARGETS}: voltprobe checks "
            "a peer cluster's DR endpoints, it is not a scanner"
        )
    return tuple(unique.values())


def printable(text: str, limit: int = 80) -> str:
    """`text` safe for a terminal or a manifest comment: control characters (C0, DEL, C1)
    shown as escapes, long text cut."""
    shown = "".join(
        f"\\x{ord(c):02x}" if (ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0) else c for c in text
    )
    return shown if len(shown) <= limit else shown[:limit] + "..."


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def parse_peer_list(value: str, default_port: int = DEFAULT_DR_PORT) -> list[Target]:
    """One comma list, as --peer or connection.source give it."""
    if _CONTROL.search(value):
        raise UsageError(
            f"peer '{printable(value)}' holds a control character (a newline or similar): "
            "give host[:port] values only"
        )
    text = value.strip().strip("'\"").replace("\\,", ",")
    if not text.strip():
        raise UsageError(f"empty peer list {value!r}")
    items = [item.strip() for item in text.split(",")]
    if any(not item for item in items):
        raise UsageError(f"empty entry in peer list {value!r}")
    return [parse_endpoint(item, default_port) for item in items]


def parse_endpoint(item: str, default_port: int = DEFAULT_DR_PORT) -> Target:
    """`host`, `host:port`, `[v6]:port` or a bare IPv6 literal.

    Raises UsageError for a `scheme://` prefix, an address that cannot be a DR peer
    (`check_peer_address`) and anything unparseable."""
    scheme = re.match(r"([A-Za-z][A-Za-z0-9+.-]*)://", item)
    if scheme:
        raise UsageError(
            f"{item!r} starts with {scheme.group(0)!r}: a DR endpoint is host[:port] "
            "(connection.source takes no scheme)"
        )
    host, port_text = _split_host_port(item)
    port = default_port if port_text is None else _parse_port(port_text, item)
    if "%" in host:
        raise UsageError(
            f"{host!r} has a zone index: DR endpoints between clusters are never link-local"
        )
    literal = parse_ip(host)
    if literal is not None:
        family, address = literal
        check_peer_address(address)
        warning = _unbracketed_port_warning(item, address, port_text is None)
        return Target(text=host, host=address, port=port, literal_family=family, warning=warning)
    return Target(text=host, host=normalize_name(host), port=port)


def check_peer_address(address: str) -> None:
    """Refuse addresses that cannot be a peer's DR endpoint, naming what to write instead.

    IPv4-mapped IPv6 (::ffff:0:0/96, RFC 4291 2.5.5.2) is dialled over IPv4 by the
    kernel, so probing it "as IPv6" would report the wrong family; unspecified
    (0.0.0.0/8, ::), limited broadcast and multicast (224.0.0.0/4, ff00::/8) are not
    unicast hosts. Raises UsageError."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        raise UsageError(
            f"{address} is an IPv4-mapped IPv6 address: it is dialled over IPv4, not IPv6; "
            f"write the IPv4 address {ip.ipv4_mapped} instead"
        )
    if ip.is_multicast:
        raise UsageError(f"{address} is a multicast address: a DR peer is a unicast host")
    if ip.is_unspecified or (isinstance(ip, ipaddress.IPv4Address) and ip.packed[0] == 0):
        raise UsageError(f'{address} is an unspecified address ("this host"), not a peer')
    if ip == ipaddress.IPv4Address("255.255.255.255"):
        raise UsageError(f"{address} is the broadcast address, not a peer")


def _unbracketed_port_warning(item: str, address: str, bare: bool) -> str:
    """An unbracketed IPv6 literal whose last group is decimal and whose text without
    `:<group>` is itself an IPv6 address (2001:db8:5::10:5555) may be a port written
    without brackets. VoltDB reads it as one address too, so it is kept, but said."""
    if not bare or item.startswith("["):
        return ""
    head, _, last = item.rpartition(":")
    head_literal = parse_ip(head)
    if not (last.isascii() and last.isdigit()) or head_literal is None:
        return ""
    if head_literal[0] is not Family.IPV6:
        return ""
    return (
        f"{item} is read as the IPv6 address {address} on the default port; if {last} is "
        f"meant as the port, write [{head}]:{last} (VoltDB requires brackets for IPv6 with a port)"
    )


def _split_host_port(item: str) -> tuple[str, str | None]:
    if item.startswith("["):
        close = item.find("]")
        if close < 0:
            raise UsageError(f"missing ']' in {item!r}")
        host, rest = item[1:close], item[close + 1 :]
        literal = parse_ip(host)
        if literal is None or literal[0] is not Family.IPV6:
            raise UsageError(f"{host!r} in brackets is not an IPv6 address")
        if not rest:
            return host, None
        if not rest.startswith(":"):
            raise UsageError(f"unexpected {rest!r} after ']' in {item!r}")
        return host, rest[1:]
    if item.count(":") > 1:  # a bare IPv6 literal: no port possible
        return item, None
    if ":" in item:
        host, port = item.split(":")
        if not host:
            raise UsageError(f"missing host in {item!r}")
        return host, port
    return item, None


def _parse_port(text: str, item: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise UsageError(f"bad port {text!r} in {item!r}: use a number from 1 to 65535")
    port = int(text)
    check_port(port, item)
    return port


def check_port(port: int, where: str) -> None:
    if not 1 <= port <= 65535:
        raise UsageError(f"port {port} in {printable(where)} is outside 1..65535")


def normalize_name(name: str) -> str:
    """A DNS name, validated and IDNA-encoded; raises UsageError with the reason."""
    ascii_name = name
    if not name.isascii():
        try:
            ascii_name = name.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise UsageError(f"{name!r} is not a valid internationalized name: {exc}") from exc
    absolute = ascii_name.endswith(".")
    bare = ascii_name[:-1] if absolute else ascii_name
    if not bare:
        raise UsageError(f"empty host name in {name!r}")
    if len(bare) > MAX_NAME:
        raise UsageError(f"host name {name!r} is {len(bare)} characters long (at most {MAX_NAME})")
    labels = bare.split(".")
    for label in labels:
        if not label:
            raise UsageError(f"empty label in host name {name!r}")
        if len(label) > MAX_LABEL:
            raise UsageError(f"label {label[:20]!r}... in {name!r} is over {MAX_LABEL} characters")
        if not _LABEL.fullmatch(label):
            bad = sorted({c for c in label if not re.match(r"[A-Za-z0-9_-]", c)})
            raise UsageError(
                f"host name {name!r} holds {''.join(bad)!r}: only letters, digits, '-' and '_'"
            )
    if all(label.isdigit() for label in labels):
        raise UsageError(f"{name!r} is neither a valid IP address nor a host name")
    return ascii_name.lower()


def format_endpoints(targets: Iterable[Target]) -> str:
    """The comma list VoltDB's connection.source expects."""
    return ",".join(t.endpoint_text() for t in targets)
