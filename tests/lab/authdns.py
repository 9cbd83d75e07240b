"""A tiny authoritative DNS server for the broken-DNS cases dnsmasq cannot play: one
record type of a name answered NXDOMAIN, SERVFAIL or not at all while the other type
answers, wildcards, IPv4-mapped AAAA records, a DNS64 prefix under ipv4only.arpa.

    authdns.py ZONE.json ADDRESS [ADDRESS...]     (run inside a lab namespace)

ZONE.json maps a name (lower case, no trailing dot; `*.zone` for a wildcard) to
{"A": ..., "AAAA": ...}, each a list of addresses or one of "NXDOMAIN", "SERVFAIL", "REFUSED",
"SILENT" (no answer). A type missing from an existing name is NOERROR with no data;
a name missing from the zone is NXDOMAIN. UDP only, port 53; it answers nothing else.
"""

from __future__ import annotations

import json
import selectors
import socket
import sys
from typing import Any

import dns.flags
import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

TTL = 5


def lookup(zone: dict[str, Any], name: str) -> dict[str, Any] | None:
    if name in zone:
        return zone[name]
    labels = name.split(".")
    for i in range(1, len(labels)):
        wildcard = "*." + ".".join(labels[i:])
        if wildcard in zone:
            return zone[wildcard]
    return None


def answer(zone: dict[str, Any], wire: bytes) -> bytes | None:
    try:
        query = dns.message.from_wire(wire)
    except Exception:  # noqa: BLE001 (a malformed packet gets no answer)
        return None
    if not query.question:
        return None
    question = query.question[0]
    name = question.name.to_text().rstrip(".").lower()
    rdtype = dns.rdatatype.to_text(question.rdtype)
    response = dns.message.make_response(query)
    response.flags |= dns.flags.AA
    entry = lookup(zone, name)
    if entry is None:
        response.set_rcode(dns.rcode.NXDOMAIN)
        return response.to_wire()
    value = entry.get(rdtype)
    if value == "SILENT":
        return None
    if value in ("NXDOMAIN", "SERVFAIL", "REFUSED"):
        response.set_rcode(dns.rcode.from_text(value))
        return response.to_wire()
    if isinstance(value, list) and value:
        response.answer.append(
            dns.rrset.from_text_list(question.name, TTL, dns.rdataclass.IN, rdtype, value)
        )
    return response.to_wire()


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as handle:
        zone = json.load(handle)
    selector = selectors.DefaultSelector()
    for address in sys.argv[2:]:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        sock.bind((address, 53))
        selector.register(sock, selectors.EVENT_READ)
    while True:
        for key, _events in selector.select():
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            wire, peer = sock.recvfrom(4096)
            reply = answer(zone, wire)
            if reply is not None:
                sock.sendto(reply, peer)


if __name__ == "__main__":
    sys.exit(main())
