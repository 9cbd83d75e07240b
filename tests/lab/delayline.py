"""A delay line run *inside* a namespace (as a script via `ip netns exec`):

    delayline.py IFNAME DELAY_MS SECONDS

Creates the TUN device IFNAME, and writes every packet it reads from it back into the
kernel DELAY_MS later (as if received on IFNAME, so the kernel forwards it on). This
kernel has no netem; policy routing sends the traffic to delay into the device. Bounded:
at most MAX_QUEUED packets waiting (the rest are dropped) and SECONDS of running.
"""

from __future__ import annotations

import fcntl
import heapq
import os
import select
import struct
import sys
import time

TUNSETIFF = 0x400454CA  # <linux/if_tun.h>
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
MAX_QUEUED = 10_000


def main(ifname: str, delay_ms: float, seconds: float) -> None:
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", ifname.encode(), IFF_TUN | IFF_NO_PI))
    print("ready", flush=True)
    delay = delay_ms / 1000
    queue: list[tuple[float, int, bytes]] = []
    sequence = 0
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        wait = max(0.0, queue[0][0] - time.monotonic()) if queue else 0.5
        readable, _, _ = select.select([fd], [], [], wait)
        now = time.monotonic()
        if readable:
            packet = os.read(fd, 65536)
            if len(queue) < MAX_QUEUED:
                heapq.heappush(queue, (now + delay, sequence, packet))
                sequence += 1
        while queue and queue[0][0] <= time.monotonic():
            os.write(fd, heapq.heappop(queue)[2])


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]), float(sys.argv[3]))
