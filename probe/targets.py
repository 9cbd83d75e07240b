"""Parse --peer values and VoltDB's `cluster.config.deployment.dr.connection.source`.

Accepted forms, comma-separated, any mix:
    host    host:port    [v6]:port    v6 (bare literal)    192.0.2.7:5555
`\\,` (the escaped comma `helm --set` needs) counts as a plain comma, so the
Helm value can be pasted verbatim. Names are validated the way a resolver
would: ASCII letters, digits, hyphens, underscores; IDNA for other scripts.
"""

from __future__ import annotations

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
    unique: dict[tuple[str, int], Target] = {}
    for target in targets:
        unique.setdefault((target.host, target.port), target)
    if len(unique) > MAX_TARGETS:
        raise UsageError(
            f"{len(unique)} peer endpoints is over the cap of {MAX_TARGETS}: voltprobe checks "
            "a peer cluster's DR endpoints, it is not a scanner"
        )
    return tuple(unique.values())


def parse_peer_list(value: str, default_port: int = DEFAULT_DR_PORT) -> list[Target]:
    """One comma list, as --peer or connection.source give it."""
    text = value.strip().strip("'\"").replace("\\,", ",")
    if not text.strip():
        raise UsageError(f"empty peer list {value!r}")
    items = [item.strip() for item in text.split(",")]
    if any(not item for item in items):
        raise UsageError(f"empty entry in peer list {value!r}")
    return [parse_endpoint(item, default_port) for item in items]


def parse_endpoint(item: str, default_port: int = DEFAULT_DR_PORT) -> Target:
    """`host`, `host:port`, `[v6]:port` or a bare IPv6 literal."""
    host, port_text = _split_host_port(item)
    port = default_port if port_text is None else _parse_port(port_text, item)
    if "%" in host:
        raise UsageError(
            f"{host!r} has a zone index: DR endpoints between clusters are never link-local"
        )
    literal = parse_ip(host)
    if literal is not None:
        family, address = literal
        return Target(text=host, host=address, port=port, literal_family=family)
    return Target(text=host, host=normalize_name(host), port=port)


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
        raise UsageError(f"port {port} in {where} is outside 1..65535")


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
