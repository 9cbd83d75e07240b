"""How VoltDB's JVM orders a name's addresses, and which one it dials first.

Java resolves a name with InetAddress.getAllByName and a client connects to the first
address. Two system properties decide the order (OpenJDK, java.net package docs,
"Networking Properties"):

- java.net.preferIPv4Stack=true: the JVM uses IPv4 only; IPv6 cannot be used at all.
- java.net.preferIPv6Addresses: unset or false -> IPv4 addresses first (the default);
  true -> IPv6 first; system -> the system resolver's order (getaddrinfo, RFC 6724).

The properties are read from the Volt pods when the inventory has them (container
command/args and the environment variables a JVM or VoltDB's launcher take options
from), else from `--jvm-prefer`, else the JDK default. Pure: no I/O here.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from probe.model import DnsAnswer, Family, Target, unmapped_ipv4

if TYPE_CHECKING:
    from probe.facts import Facts

# In increasing precedence: JAVA_TOOL_OPTIONS is read first by the VM, JDK_JAVA_OPTIONS is
# prepended to the launcher's arguments, then the command line: the container's own args,
# then what VoltDB's launcher (voltcli) puts on java's command line, VOLTDB_OPTS and then
# JAVA_OPTS (a later -D wins); _JAVA_OPTIONS overrides them all.
ENV_ORDER = ("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "VOLTDB_OPTS", "JAVA_OPTS", "_JAVA_OPTIONS")
ARGS = "args"  # the containers' command and args
_PRECEDENCE = ("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", ARGS, "VOLTDB_OPTS", "JAVA_OPTS")
_FLAG = re.compile(r"-Djava\.net\.(preferIPv4Stack|preferIPv6Addresses)=(\S*)")
# `java @path` reads more options from a file (JDK 9+ launcher): unknown to us
_ARGFILE = re.compile(r"(?:^|\s)(@[\w./-]+)")


class JvmPrefer(str, enum.Enum):
    """The JVM's family order for a name's addresses."""

    IPV4 = "ipv4"  # preferIPv6Addresses unset/false: IPv4 addresses first (JDK default)
    IPV6 = "ipv6"  # preferIPv6Addresses=true
    SYSTEM = "system"  # preferIPv6Addresses=system: getaddrinfo's order
    IPV4_STACK = "ipv4-stack"  # preferIPv4Stack=true: IPv4 only

    def __str__(self) -> str:
        return self.value


ORDER_TEXT = {  # short forms, for "with ... it would dial"
    JvmPrefer.IPV4: "IPv4 first",
    JvmPrefer.IPV6: "IPv6 first (preferIPv6Addresses=true)",
    JvmPrefer.SYSTEM: "the system resolver's order (preferIPv6Addresses=system)",
    JvmPrefer.IPV4_STACK: "IPv4 only (preferIPv4Stack=true)",
}

_FLAG_TEXT = {
    JvmPrefer.IPV4: "IPv4 addresses first (java.net.preferIPv6Addresses unset or false)",
    JvmPrefer.IPV6: "IPv6 addresses first (-Djava.net.preferIPv6Addresses=true)",
    JvmPrefer.SYSTEM: "the system resolver's order (-Djava.net.preferIPv6Addresses=system)",
    JvmPrefer.IPV4_STACK: "IPv4 only (-Djava.net.preferIPv4Stack=true: IPv6 cannot be used)",
}


@dataclass(frozen=True)
class JvmView:
    """The order VoltDB's JVM uses, where that was learned, and why it is not known
    from the pods when it is not (`unknown`)."""

    prefer: JvmPrefer
    source: str  # "the Volt pods (JAVA_TOOL_OPTIONS)", "--jvm-prefer", "the JDK default"
    unknown: str = ""
    # every order the Volt pods may use: more than `prefer` alone when their setting is
    # unknown (each order) or they disagree (each pod's); a name is kept in
    # connection.source only when it works under all of them
    possible: tuple[JvmPrefer, ...] = ()

    def orders(self) -> tuple[JvmPrefer, ...]:
        """The orders to predict under: `possible`, or `prefer` alone."""
        return self.possible or (self.prefer,)

    def describe(self) -> str:
        text = f"{_FLAG_TEXT[self.prefer]}, from {self.source}"
        return text + (
            f"; the Volt pods' own setting is unknown: {self.unknown}" if self.unknown else ""
        )


def pod_jvm_sources(pod: Any) -> tuple[tuple[str, str | None], ...]:
    """(source, text) for every place a Volt pod's containers may set JVM options:
    ('args', command + args), ('JAVA_TOOL_OPTIONS', value), ... A value set through
    valueFrom, or any envFrom, is unreadable here: its text is None. `pod` is the pod
    object as the API serves it (camelCase); malformed parts are skipped."""
    spec = pod.get("spec") if isinstance(pod, dict) else None
    containers = spec.get("containers") if isinstance(spec, dict) else None
    found: list[tuple[str, str | None]] = []
    for container in containers if isinstance(containers, list) else []:
        if not isinstance(container, dict):
            continue
        words = [w for key in ("command", "args") for w in _strings(container.get(key))]
        if words:
            found.append((ARGS, " ".join(words)))
        for entry in container.get("env") or []:
            if isinstance(entry, dict) and entry.get("name") in ENV_ORDER:
                value = entry.get("value")
                readable = "valueFrom" not in entry
                found.append((str(entry["name"]), str(value or "") if readable else None))
        for entry in container.get("envFrom") or []:
            if isinstance(entry, dict):
                ref = entry.get("configMapRef") or entry.get("secretRef") or {}
                name = ref.get("name") if isinstance(ref, dict) else None
                found.append((f"envFrom {name or '?'}", None))
    return tuple(found)


def _strings(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def flags_of(sources: Iterable[tuple[str, str | None]]) -> tuple[JvmPrefer, str, str]:
    """The order one pod's sources set, the sources that set it, and why it cannot be
    known ('' when it can). Later sources win, in the JVM's precedence."""

    def rank(source: str) -> int:
        if source == "_JAVA_OPTIONS":
            return len(_PRECEDENCE)
        return _PRECEDENCE.index(source) if source in _PRECEDENCE else -1

    stack: str | None = None
    v6: str | None = None
    setters: list[str] = []
    unreadable: list[str] = []
    for source, text in sorted(sources, key=lambda s: rank(s[0])):
        if text is None:
            unreadable.append(source)
            continue
        for argfile in _ARGFILE.findall(text):  # java @file: options this check cannot read
            unreadable.append(f"{source} (java argument file {argfile})")
        for name, raw in _FLAG.findall(text):
            value = raw.strip("'\"\\")  # shell quoting around the flag or its value
            if name == "preferIPv4Stack":
                stack = value
            else:
                v6 = value
            setters.append(source)
    unknown = (
        f"{', '.join(unreadable)}: set where this check cannot read (a ConfigMap, Secret, "
        "field or file)"
        if unreadable
        else ""
    )
    return prefer_of(stack, v6), ", ".join(dict.fromkeys(setters)), unknown


def prefer_of(stack: str | None, v6: str | None) -> JvmPrefer:
    """The order the two properties' values give, as OpenJDK parses them
    (Boolean.parseBoolean; "system" is case-insensitive)."""
    if stack is not None and stack.lower() == "true":
        return JvmPrefer.IPV4_STACK
    if v6 is not None and v6.lower() == "system":
        return JvmPrefer.SYSTEM
    if v6 is not None and v6.lower() == "true":
        return JvmPrefer.IPV6
    return JvmPrefer.IPV4


def jvm_view(
    pods: Sequence[tuple[str, tuple[tuple[str, str | None], ...]]], option: str | None
) -> JvmView:
    """The JVM order to predict with. `pods` are (pod name, pod_jvm_sources) of the Volt
    pods; `option` is --jvm-prefer (None when not given). The pods win when all of them
    are readable and agree; --jvm-prefer otherwise; the JDK default last, and then, when
    the pods' own setting is unknown or they disagree, `possible` holds every order they
    may use (issue: an unreadable value is unknown, not IPv4 first)."""
    unknown = ""
    possible: tuple[JvmPrefer, ...] = ()
    if pods:
        views = {name: flags_of(sources) for name, sources in pods}
        unreadable = [f"{name}: {why}" for name, (_p, _s, why) in views.items() if why]
        orders = {p for p, _s, _why in views.values()}
        if unreadable:
            unknown = "; ".join(unreadable)
            possible = tuple(JvmPrefer)  # unknown is not "IPv4 first": any order may hold
        elif len(orders) > 1:
            unknown = (
                "the Volt pods disagree ("
                + ", ".join(f"{name}: {p}" for name, (p, _s, _w) in views.items())
                + ")"
            )
            possible = tuple(p for p in JvmPrefer if p in orders)
        else:
            prefer = orders.pop()
            setters = sorted({s for _p, s, _w in views.values() if s})
            where = (
                f"the Volt pods ({', '.join(setters)})"
                if setters
                else "the Volt pods (no flag set: the JDK default)"
            )
            return JvmView(prefer, where)
    if option is not None:  # the user's word settles what the pods leave unknown
        return JvmView(JvmPrefer(option), "--jvm-prefer", unknown)
    return JvmView(JvmPrefer.IPV4, "the JDK default", unknown, possible)


def ordered_addresses(
    v4: DnsAnswer | None, v6: DnsAnswer | None, prefer: JvmPrefer
) -> list[tuple[Family, str]]:
    """A name's addresses in the order getAllByName returns them under `prefer`, each as
    it goes on the wire (an IPv4-mapped AAAA is an IPv4 address). With
    SYSTEM, getaddrinfo's order (each answer's `rank` is the position of its family's
    first address; within a family the order is getaddrinfo's)."""
    four = [(Family.IPV4, a) for a in (v4.addresses if v4 else ())]
    if prefer is JvmPrefer.IPV4_STACK:  # Java asks for A records only (Inet4AddressImpl)
        return [(f, a) for f, a in four if not (v4 and a in v4.from_mapped)]
    six = [(Family.IPV6, a) for a in (v6.addresses if v6 else ())]
    # Java keeps an IPv4-mapped AAAA among its IPv6 addresses, but dials it over IPv4
    six += [(Family.IPV4, unmapped_ipv4(a) or a) for a in (v6.ignored if v6 else ())]
    if prefer is JvmPrefer.IPV6:
        return _once(six + four)
    if prefer is JvmPrefer.SYSTEM and six and four and v6 and v6.addresses:
        v4_rank = v4.rank if v4 and v4.rank is not None else 0
        v6_rank = v6.rank if v6 and v6.rank is not None else 0
        return _once(six + four if v6_rank < v4_rank else four + six)
    return _once(four + six)


def _once(addresses: list[tuple[Family, str]]) -> list[tuple[Family, str]]:
    """Each address once, where it first appears (a mapped AAAA's IPv4 address is also
    in the IPv4 answer)."""
    return list(dict.fromkeys(addresses))


def jvm_view_of(facts: Facts) -> JvmView:
    """The JVM order for one run: the Volt pods' flags, else --jvm-prefer, else default."""
    pods = [(p.name, p.jvm_sources) for p in facts.inventory.volt_pods]
    return jvm_view(pods, facts.options.jvm_prefer)


def first_address(facts: Facts, target: Target, view: JvmView) -> tuple[Family, str] | None:
    """The address VoltDB's JVM dials first for `target` (its own address for a literal;
    None when it has none the JVM can use)."""
    if target.literal_family is not None:
        if view.prefer is JvmPrefer.IPV4_STACK and target.literal_family is Family.IPV6:
            return None
        return target.literal_family, target.host
    order = ordered_addresses(
        facts.answer(target, Family.IPV4), facts.answer(target, Family.IPV6), view.prefer
    )
    return order[0] if order else None
