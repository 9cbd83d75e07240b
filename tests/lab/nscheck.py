"""Small checks run *inside* a namespace (as a script via `ip netns exec`).

    nscheck.py tcp HOST PORT SECONDS      connect until it succeeds (readiness), exit 0/1
    nscheck.py dns SERVER NAME SECONDS    query NAME/A until any answer comes, exit 0/1
    nscheck.py connect HOST PORT SECONDS  one connect(); prints ok | timeout | ERRNO-NAME
    nscheck.py resolve NAME TYPE SECONDS  /etc/resolv.conf lookup; prints the addresses
                                          or the dnspython exception name

Loops are paced and bounded by SECONDS.
"""

from __future__ import annotations

import errno
import socket
import sys
import time

PAUSE = 0.05


def connect_once(host: str, port: int, seconds: float) -> str:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        sock = socket.socket(family, socket.SOCK_STREAM)
    except OSError as exc:
        return errno.errorcode.get(exc.errno or 0, str(exc))
    with sock:
        sock.settimeout(seconds)
        try:
            sock.connect((host, port))
            return "ok"
        except TimeoutError:
            return "timeout"
        except OSError as exc:
            return errno.errorcode.get(exc.errno or 0, str(exc))


def dns_answers(server: str, name: str) -> bool:
    import dns.exception
    import dns.message
    import dns.query

    try:
        dns.query.udp(dns.message.make_query(name, "A"), server, timeout=0.5)
        return True
    except (OSError, dns.exception.DNSException):  # not ready yet: timeout, refused, ...
        return False


def resolve(name: str, rdtype: str, seconds: float) -> str:
    import dns.exception
    import dns.resolver

    try:
        answer = dns.resolver.resolve(name, rdtype, search=True, lifetime=seconds)
        return " ".join(sorted(str(r) for r in answer))
    except (OSError, dns.exception.DNSException) as exc:  # its name is the answer we report
        return type(exc).__name__


def wait(ready: object, seconds: float) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ready():  # type: ignore[operator]
            return 0
        time.sleep(PAUSE)
    return 1


def main(argv: list[str]) -> int:
    kind, a, b, seconds_text = argv
    seconds = float(seconds_text)
    if kind == "tcp":
        code = wait(lambda: connect_once(a, int(b), 0.5) == "ok", seconds)
    elif kind == "dns":
        code = wait(lambda: dns_answers(a, b), seconds)
    elif kind == "connect":
        print(connect_once(a, int(b), seconds))
        return 0
    elif kind == "resolve":
        print(resolve(a, b, seconds))
        return 0
    else:
        raise SystemExit(f"unknown check {kind!r}")
    if code:
        print(f"{kind} {a} {b}: not ready after {seconds}s", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
