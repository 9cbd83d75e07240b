"""--peer and connection.source parsing: every accepted form and every rejection."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from probe.errors import UsageError
from probe.model import Family
from probe.targets import format_endpoints, parse_peers


def hosts_ports(values: list[str], port: int = 5555) -> list[tuple[str, int, Family | None]]:
    return [(t.host, t.port, t.literal_family) for t in parse_peers(values, port)]


@pytest.mark.parametrize(
    "value, expected",
    [
        ("peer", [("peer", 5555, None)]),
        ("peer:6000", [("peer", 6000, None)]),
        ("192.0.2.7", [("192.0.2.7", 5555, Family.IPV4)]),
        ("192.0.2.7:5556", [("192.0.2.7", 5556, Family.IPV4)]),
        ("[2001:db8::1]:5557", [("2001:db8::1", 5557, Family.IPV6)]),
        ("[2001:db8::1]", [("2001:db8::1", 5555, Family.IPV6)]),
        ("2001:db8::1", [("2001:db8::1", 5555, Family.IPV6)]),
        ("2001:DB8:0:0::1", [("2001:db8::1", 5555, Family.IPV6)]),
        (
            "Peer-DR.Volt_NS.svc.cluster.local.",
            [("peer-dr.volt_ns.svc.cluster.local.", 5555, None)],
        ),
        ("a:1,b:2", [("a", 1, None), ("b", 2, None)]),
        (" a:1 , b ", [("a", 1, None), ("b", 5555, None)]),
        # connection.source as given to helm --set, pasted verbatim
        (
            r"x-dr.ns.svc:5555\,[2001:db8::9]:5555",
            [("x-dr.ns.svc", 5555, None), ("2001:db8::9", 5555, Family.IPV6)],
        ),
        ("'a,b'", [("a", 5555, None), ("b", 5555, None)]),
        ("bücher.example", [("xn--bcher-kva.example", 5555, None)]),
    ],
)
def test_accepted_forms(value: str, expected: list) -> None:
    assert hosts_ports([value]) == expected


def test_port_option_changes_default_but_explicit_port_wins() -> None:
    assert hosts_ports(["a,b:7000,[2001:db8::1]"], 6000) == [
        ("a", 6000, None),
        ("b", 7000, None),
        ("2001:db8::1", 6000, Family.IPV6),
    ]


def test_repeated_peer_and_duplicates_keep_order_once() -> None:
    assert hosts_ports(["b", "a,b", "A"]) == [("b", 5555, None), ("a", 5555, None)]


def test_text_keeps_what_the_user_typed() -> None:
    (target,) = parse_peers(["[2001:DB8::1]:5555"])
    assert target.text == "2001:DB8::1"
    assert target.host == "2001:db8::1"
    assert target.endpoint_text() == "[2001:db8::1]:5555"


@pytest.mark.parametrize(
    "value, message",
    [
        ("", "empty peer list"),
        (",", "empty entry"),
        ("a,,b", "empty entry"),
        ("a..b", "empty label"),
        (".a", "empty label"),
        ("a b", "only letters"),
        ("a/b", "only letters"),
        ("a@b", "only letters"),
        ("a:0", "outside 1..65535"),
        ("a:65536", "outside 1..65535"),
        ("a:", "bad port"),
        ("a:x", "bad port"),
        (":5555", "missing host"),
        ("[2001:db8::1", "missing ']'"),
        ("[192.0.2.1]:5555", "not an IPv6"),
        ("[2001:db8::1]5555", "unexpected"),
        ("x" * 64 + ".example", "over 63"),
        (".".join(["a" * 60] * 5), "at most 253"),
        ("999.1.1.1", "neither a valid IP"),
    ],
)
def test_rejections(value: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_peers([value])


def test_no_peer_at_all_is_rejected() -> None:
    with pytest.raises(UsageError, match="no peer"):
        parse_peers([])


def test_default_port_is_validated() -> None:
    with pytest.raises(UsageError, match="outside"):
        parse_peers(["a"], 0)


@given(
    st.lists(
        st.tuples(
            st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z][a-z0-9_-]{0,20}){0,3}", fullmatch=True),
            st.integers(1, 65535),
        ),
        min_size=1,
        max_size=5,
        unique_by=lambda hp: hp[0],
    )
)
def test_format_then_parse_round_trips(pairs: list[tuple[str, int]]) -> None:
    targets = parse_peers([",".join(f"{h}:{p}" for h, p in pairs)])
    assert parse_peers([format_endpoints(targets)]) == targets
    # the --set form (escaped commas) parses to the same targets
    assert parse_peers([format_endpoints(targets).replace(",", "\\,")]) == targets


@given(st.ip_addresses())
def test_parse_ip_agrees_with_ipaddress(address: object) -> None:
    """inet_pton/inet_ntop, not ipaddress: same family and canonical text (IPv4-mapped
    IPv6 excepted, printed dotted as Python 3.13's ipaddress does; the deprecated
    IPv4-compatible ::/96 is never dotted, RFC 5952 5)."""
    import ipaddress

    from probe.model import parse_ip

    assert isinstance(address, ipaddress.IPv4Address | ipaddress.IPv6Address)
    parsed = parse_ip(address.exploded)
    assert parsed is not None
    family, text = parsed
    assert family is (Family.IPV4 if address.version == 4 else Family.IPV6)
    mapped = address.version == 6 and address.ipv4_mapped is not None  # type: ignore[union-attr]
    if not mapped:
        assert text == str(address)
    assert ipaddress.ip_address(text) == address


def test_an_ipv4_compatible_looking_address_is_never_written_dotted() -> None:
    """::1:5555 (someone's port without brackets) was warned about as ::0.1.85.85."""
    from probe.model import parse_ip

    assert parse_ip("::1:5555") == (Family.IPV6, "::1:5555")
    assert parse_ip("::ffff:192.0.2.1") == (Family.IPV6, "::ffff:192.0.2.1")


@pytest.mark.parametrize(
    "text",
    ["01.2.3.4", "1.2.3", "1.2.3.4 ", " ::1", "256.1.1.1", "2001:db8::1%eth0", "::1\x00",
     "2001:db8:::1", "1.2.3.4/32", "", "peer"],
)  # fmt: skip
def test_parse_ip_rejects_what_is_not_a_plain_literal(text: str) -> None:
    from probe.model import parse_ip

    assert parse_ip(text) is None


# -- addresses mean what they say; the text never carries control characters ---------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("[::ffff:127.0.0.1]:5555", "write the IPv4 address 127.0.0.1"),
        ("::ffff:192.0.2.7", "write the IPv4 address 192.0.2.7"),
        ("0.0.0.0", "unspecified"),
        ("0.1.2.3:5555", "unspecified"),
        ("[::]:5555", "unspecified"),
        ("255.255.255.255", "broadcast"),
        ("224.0.0.251", "multicast"),
        ("239.1.2.3:5555", "multicast"),
        ("[ff02::1]:5555", "multicast"),
        ("http://peer.example:5555", "'http://'"),
        ("tcp://[2001:db8::1]:5555", "'tcp://'"),
    ],
)
def test_addresses_that_cannot_be_a_peer_are_refused(value: str, message: str) -> None:
    with pytest.raises(UsageError, match=re.escape(message)):
        parse_peers([value])


@pytest.mark.parametrize("value", ["peer\nexample", "peer.example:5555\r", "a\x1b[31mb", "x\x85y"])
def test_control_characters_are_refused_and_never_echoed(value: str) -> None:
    with pytest.raises(UsageError) as raised:
        parse_peers([value])
    text = str(raised.value)
    assert "control character" in text
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in text), repr(text)


@given(st.text(max_size=40))
def test_no_error_message_carries_a_control_character(value: str) -> None:
    try:
        parse_peers([value])
    except UsageError as exc:
        assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in str(exc)), repr(str(exc))


@pytest.mark.parametrize(
    ("value", "warned"),
    [
        ("2001:db8:5::10:5555", "[2001:db8:5::10]:5555"),
        ("2001:db8::7:80", "[2001:db8::7]:80"),
        ("2001:db8::a:5555", "[2001:db8::a]:5555"),
        ("2001:db8::1", None),  # "2001:db8:" is not an address
        ("2001:db8::5555:a", None),  # the last group is not decimal
        ("[2001:db8:5::10]:5555", None),
    ],
)
def test_an_unbracketed_ipv6_with_a_decimal_last_group_is_kept_and_warned(
    value: str, warned: str | None
) -> None:
    (target,) = parse_peers([value])
    assert target.literal_family is Family.IPV6 and target.port == 5555
    if warned is None:
        assert target.warning == ""
    else:
        assert warned in target.warning
