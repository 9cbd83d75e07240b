"""A DNS "server" that answers every query with SERVFAIL (run as a script in the peer namespace).

dnsmasq forwards the lab's `broken` zone here and relays the SERVFAIL, because dnsmasq
itself only answers SERVFAIL for upstream failures. Stdlib only; stops on SIGTERM.
"""

from __future__ import annotations

import socket
import struct
import sys

HEADER = struct.Struct("!HHHHHH")
QR, RA, RD, SERVFAIL = 0x8000, 0x0080, 0x0100, 2


def answer(query: bytes) -> bytes | None:
    if len(query) < HEADER.size:
        return None
    qid, flags, qdcount, _, _, _ = HEADER.unpack_from(query)
    if flags & QR:  # never answer an answer
        return None
    # Echo the question section back; with ancount=nscount=arcount=0 the rest is ignored.
    return (
        HEADER.pack(qid, QR | RA | (flags & RD) | SERVFAIL, qdcount, 0, 0, 0) + query[HEADER.size :]
    )


def main(address: str, port: int) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((address, port))
    print(f"servfail upstream listening on {address}:{port}", file=sys.stderr, flush=True)
    while True:
        query, peer = sock.recvfrom(4096)
        reply = answer(query)
        if reply is not None:
            sock.sendto(reply, peer)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
