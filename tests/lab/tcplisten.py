"""A TCP listener run *inside* a namespace (as a script via `ip netns exec`):

    tcplisten.py BEHAVIOUR ADDRESS PORT     silent | close: accept, then hold or close

It records nothing and runs until it is signalled; the lab stops it by PID.
"""

from __future__ import annotations

import signal
import socket
import sys


def main(behaviour: str, address: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:  # `::` takes both families, like `voltprobe serve`
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0 if address == "::" else 1)
    sock.bind((address, port))
    sock.listen(128)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    held: list[socket.socket] = []
    while True:
        conn, _peer = sock.accept()
        if behaviour == "close":
            conn.close()
        else:
            held = [*held[-200:], conn]  # bounded: the oldest are closed by the GC


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
