"""The raw SYN prober: every probe in flight at once, paced, answers matched as they come.

One batch: one loop sends what the token bucket allows (a due retry first) and
drains the receive sockets between sends. Just before its first send, each probe
learns the kernel's source for its destination (no route: `no-route`, nothing
sent) and patches the scapy-built SYN template. A TCP answer counts when its
addresses and ports are ours and ack == ISN + 1; an ICMP error counts when the
header it quotes is our SYN.
Verdicts and reasons follow nmap (syn-ack, reset, no-response, admin-prohibited...).
"""

from __future__ import annotations

import errno
import os
import selectors
import socket
import struct
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from probe.model import Endpoint, Family, IcmpError, Method, ProbeResult, ProbeState
from probe.probers import rawanswers
from probe.probers.rawpackets import (
    Templates,
    build_templates,
    patch_syn,
    words_sum,
)
from probe.probers.rawpcap import Capture, Captured, check_pcap_path, describe, write_pcap
from probe.probers.rawschedule import Schedule, TokenBucket
from probe.probers.rawsockets import (
    RawSockets,
    RawSocketsUnavailable,
    explain_permission,
    open_raw_sockets,
    pktinfo_address,
    route_source,
)
from probe.probers.verdict import (
    LOCAL_DENY_REASON,
    connect_errno_state,
    describe_icmp,
    errno_name,
    no_route_reason,
    stopped_row,
)
from probe.progress import Tally
from probe.stop import current as current_stop

_SENT, _FULL, _REFUSED = "sent", "full", "refused"  # what one sendto() did
STOP_POLL = 0.1  # seconds: the longest the loop waits before looking at the run's stop
BURST = 64  # packets per send round; the receive sockets are drained between rounds
DRAIN_LIMIT = 512  # packets read from one socket per wake-up, so sending never starves
RECV_SIZE = 2048

_AF = {Family.IPV4: socket.AF_INET, Family.IPV6: socket.AF_INET6}


class Evidence(NamedTuple):
    """What answered one probe."""

    reason: str  # 'syn-ack', 'reset', 'icmp'
    rtt_ms: float
    icmp: IcmpError | None = None
    mss: int | None = None  # the SYN-ACK's MSS option


@dataclass
class RawStats:
    """Counters of the last batch, for -v and the benchmark."""

    probes: int = 0
    sent: int = 0
    retries: int = 0
    answers: int = 0
    ignored: int = 0
    send_seconds: float = 0.0  # first probe sent -> last first send
    batch_seconds: float = 0.0


class RawProber:
    """Probe with bare SYNs through raw sockets; needs CAP_NET_RAW.

    `probe` raises RawSocketsUnavailable (a CannotRunError) when the raw sockets
    cannot be opened, before anything is sent: --mode auto then uses connect()
    instead (probe.probers.plan), --mode raw stops. A --pcap file that cannot be
    written after the batch costs the capture, never the results (`pcap_error`).
    """

    method = Method.RAW

    def __init__(
        self,
        timeout: float,
        rate: int = 5000,
        quick: bool = False,
        pcap: str | None = None,
        templates: Templates = build_templates,
        answered: Tally | None = None,
    ):
        self.timeout = timeout
        self.rate = rate
        self.quick = quick
        self.pcap = pcap
        self.templates = templates
        self.answered = answered  # counts each probe as its first answer (or local verdict) comes
        self.stats = RawStats()
        self.pcap_error = ""  # why the last batch's --pcap file was not written

    def probe(self, endpoints: Sequence[Endpoint]) -> list[ProbeResult]:
        if not endpoints:
            return []
        if self.pcap is not None:
            check_pcap_path(self.pcap)  # a UsageError now, not a lost capture later
        families = {e.family for e in endpoints}
        try:
            sockets = open_raw_sockets(families)
        except PermissionError as exc:
            raise RawSocketsUnavailable(f"raw sockets refused: {explain_permission()}") from exc
        except OSError as exc:
            raise RawSocketsUnavailable(
                f"cannot open raw sockets: {errno_name(exc.errno or 0)}"
            ) from exc
        try:
            batch = Batch(endpoints, sockets, self.templates, self.pcap is not None, self.answered)
            self.stats = batch.run(self.timeout, self.rate, self.quick)
        finally:
            sockets.close()
        results = batch.results(self.quick)
        self.pcap_error = ""
        if self.pcap is not None:
            try:
                write_pcap(self.pcap, batch.capture)
            except OSError as exc:
                self.pcap_error = f"cannot write the pcap file {self.pcap}: {exc.strerror or exc}"
                print(f"voltprobe: {self.pcap_error} (results kept)", file=sys.stderr, flush=True)
        return results


class Batch:
    """One raw batch: the probe table, the send/receive loop and the verdicts."""

    def __init__(
        self,
        endpoints: Sequence[Endpoint],
        sockets: RawSockets,
        templates: Templates,
        capture: bool,
        answered: Tally | None = None,
    ):
        self.endpoints = list(endpoints)
        self.answered = answered
        self.sockets = sockets
        self.port = sockets.port
        self.capture = Capture()
        self.capturing = capture
        self.templates = templates()
        self.order: list[int] = []  # probe number -> first endpoint index probed by it
        self.probe_of: dict[int, int] = {}  # endpoint index -> probe number (repeats share one)
        self.keys: dict[tuple[bytes, int], int] = {}  # (target, port) -> probe number
        for index, endpoint in enumerate(self.endpoints):
            key = (socket.inet_pton(_AF[endpoint.family], endpoint.address), endpoint.port)
            if key not in self.keys:  # the pipeline dedupes; a repeat shares the first's probe
                self.keys[key] = len(self.order)
                self.order.append(index)
            self.probe_of[index] = self.keys[key]
        count = len(self.order)
        self.key_of = list(self.keys)  # probe number -> its key, (packed address, port)
        self.isns = list(struct.unpack(f"!{count}I", os.urandom(4 * count)))
        # filled by _prepare just before a probe's first send, so route lookups and
        # packet patching ride in the paced send phase instead of delaying it
        self.sources: list[bytes | None] = [None] * count
        self.packets: list[bytes] = [b""] * count
        self.local_errors: dict[int, tuple[int, bool]] = {}  # probe -> (errno, at sendto)
        self.evidence: list[Evidence | None] = [None] * count
        self.odd: dict[int, Captured] = {}  # probe -> first answer that did not match
        self._routes: dict[str, bytes | int] = {}  # address -> source, or errno (no route)
        self._sums: dict[bytes, int] = {}  # address -> its checksum word sum
        self.schedule: Schedule | None = None
        self.stopped = False  # the run stopped mid-batch: unanswered probes are unknown

    def _prepare(self, probe: int) -> bool:
        """Learn the source and patch the SYN; False when there is no route (nothing to send)."""
        endpoint = self.endpoints[self.order[probe]]
        source = self._routes.get(endpoint.address)
        if source is None:
            source = self._routes[endpoint.address] = route_source(
                endpoint.family, endpoint.address
            )
        if isinstance(source, int):
            self.local_errors[probe] = (source, False)
            return False
        target, dport = self.key_of[probe]
        self.sources[probe] = source
        self.packets[probe] = patch_syn(
            self.templates[endpoint.family], source, target, self.port, dport,
            self.isns[probe], self._word_sum(source), self._word_sum(target),
        )  # fmt: skip
        return True

    def _word_sum(self, address: bytes) -> int:
        if address not in self._sums:
            self._sums[address] = words_sum(address)
        return self._sums[address]

    def run(self, timeout: float, rate: int, quick: bool) -> RawStats:
        count = len(self.order)
        stats = RawStats(probes=len(self.endpoints))
        if count == 0:
            return stats
        schedule = Schedule(count, timeout, quick)
        self.schedule = schedule
        clock = time.monotonic
        started = clock()
        bucket = TokenBucket(rate, min(BURST, max(1, rate // 50)), started)
        selector = selectors.DefaultSelector()
        stop = current_stop()
        try:
            for family, group in self.sockets.families.items():
                selector.register(group.tcp, selectors.EVENT_READ, (family, True))
                selector.register(group.icmp, selectors.EVENT_READ, (family, False))
            targets = [self._sockaddr(probe) for probe in range(count)]
            sends = [self.sockets.families[self.endpoints[i].family].send for i in self.order]
            now = started
            while not schedule.done(now):
                if stop.stopped():
                    self.stopped = True  # keep the answers received so far
                    break
                budget = bucket.available(now)
                sent = 0
                while sent < budget:
                    probe = schedule.next_due(now)
                    if probe is None:
                        break
                    first = probe == len(schedule.first_sent)
                    if first and not self._prepare(probe):
                        schedule.settled(probe, now)  # no route: nothing sent
                        self._count()
                        continue
                    outcome = self._send(sends[probe], probe, targets[probe])
                    if outcome is _FULL:
                        break  # the socket buffer is full: drain, then go on
                    now = clock()
                    if outcome is _REFUSED:
                        schedule.settled(probe, now)
                        self._count()
                        continue
                    if not first:
                        stats.retries += 1
                    schedule.sent(probe, now)
                    stats.sent += 1
                    sent += 1
                bucket.take(sent)
                if not schedule.pending_first_sends() and stats.send_seconds == 0.0:
                    stats.send_seconds = clock() - started
                wait = min(schedule.next_event(now), STOP_POLL)
                if schedule.pending_first_sends():
                    wait = min(wait, bucket.wait(now))
                for key, _events in selector.select(wait):
                    family, is_tcp = key.data
                    self._drain(key.fileobj, family, is_tcp, stats)  # type: ignore[arg-type]
                now = clock()
        finally:
            selector.close()
        stats.batch_seconds = clock() - started
        return stats

    def _sockaddr(self, probe: int) -> tuple[str, int]:
        return (self.endpoints[self.order[probe]].address, 0)

    def _send(self, sock: socket.socket, probe: int, target: tuple[str, int]) -> str:
        """_SENT; _FULL when the socket buffer is full (try again after draining);
        _REFUSED when the kernel refused this one (route gone, local firewall): a
        local verdict, kept in local_errors."""
        try:
            sock.sendto(self.packets[probe], target)
        except (BlockingIOError, InterruptedError):
            return _FULL
        except OSError as exc:
            if exc.errno == errno.ENOBUFS:
                return _FULL
            self.local_errors.setdefault(probe, (exc.errno or errno.EIO, True))
            return _REFUSED
        if self.capturing:
            family = self.endpoints[self.order[probe]].family
            self.capture.add(Captured(time.time(), family, self.packets[probe]))
        return _SENT

    def _drain(self, sock: socket.socket, family: Family, is_tcp: bool, stats: RawStats) -> None:
        for _ in range(DRAIN_LIMIT):
            try:
                if family is Family.IPV4:
                    data = sock.recv(RECV_SIZE)
                    peer = local = b""
                elif is_tcp:
                    data, ancdata, _flags, address = sock.recvmsg(RECV_SIZE, 64)
                    peer = socket.inet_pton(socket.AF_INET6, address[0].split("%")[0])
                    local = pktinfo_address(ancdata) or b""
                else:
                    data, address = sock.recvfrom(RECV_SIZE)
                    peer = socket.inet_pton(socket.AF_INET6, address[0].split("%")[0])
                    local = b""
            except (BlockingIOError, InterruptedError):
                return
            now = time.monotonic()
            if is_tcp:
                self._on_tcp(family, data, peer, local, now, stats)
            else:
                self._on_icmp(family, data, peer, now, stats)

    def _on_tcp(
        self, family: Family, data: bytes, peer: bytes, local: bytes, now: float, stats: RawStats
    ) -> None:
        if family is Family.IPV4:
            answer = rawanswers.parse_tcp4(data)
        else:
            answer = rawanswers.parse_tcp6(data, peer, local)
        if answer is None:
            return
        probe = self.keys.get((answer.peer, answer.peer_port))
        if probe is None or answer.local_port != self.port or self.sources[probe] is None:
            return  # not a target of this batch, or not probed yet
        if answer.local and answer.local != self.sources[probe]:
            return
        verdict = rawanswers.match_tcp(answer, self.isns[probe])
        if self.capturing or verdict is None:  # for the pcap, or to explain the odd answer
            captured = self._captured(family, data, 6, answer.peer, answer.local)
        if verdict is None:
            stats.ignored += 1
            self.odd.setdefault(probe, captured)
            return
        self._record(probe, Evidence(verdict, 0.0, None, answer.mss), now, stats)

    def _on_icmp(
        self, family: Family, data: bytes, sender: bytes, now: float, stats: RawStats
    ) -> None:
        if family is Family.IPV4:
            quote = rawanswers.parse_icmp4(data)
        else:
            quote = rawanswers.parse_icmp6(data, sender)
        if quote is None:
            return
        probe = self.keys.get((quote.peer, quote.peer_port))
        if probe is None or quote.local_port != self.port or quote.local != self.sources[probe]:
            return
        matched = rawanswers.match_icmp(quote, self.isns[probe])
        if self.capturing or not matched:  # for the pcap, or to explain the odd answer
            captured = self._captured(family, data, 58, quote.sender, quote.local)
        if not matched:
            stats.ignored += 1
            self.odd.setdefault(probe, captured)
            return
        icmp = IcmpError(quote.type, quote.code, socket.inet_ntop(_AF[family], quote.sender))
        self._record(probe, Evidence("icmp", 0.0, icmp), now, stats)

    def _captured(
        self, family: Family, data: bytes, next_header: int, src: bytes, dst: bytes
    ) -> Captured:
        """Keep an answer for the pcap; IPv6 answers get their stripped header back."""
        if family is Family.IPV4:
            packet = Captured(time.time(), family, data)
        else:
            packet = Captured(time.time(), family, data, next_header, src, dst)
        if self.capturing:
            self.capture.add(packet)
        return packet

    def _record(self, probe: int, evidence: Evidence, now: float, stats: RawStats) -> None:
        assert self.schedule is not None
        rtt = self.schedule.answer(probe, now)
        if rtt is None:
            return  # a repeat (retransmitted SYN-ACK, answer to the retry)
        stats.answers += 1
        self.evidence[probe] = evidence._replace(rtt_ms=rtt * 1000)
        self._count()

    def _count(self) -> None:
        """One more probe has its verdict, for the progress line."""
        if self.answered is not None:
            self.answered.add()

    def results(self, quick: bool) -> list[ProbeResult]:
        """One result per endpoint, in the order given."""
        window_ms = self.schedule.window() * 1000 if self.schedule else 0.0
        icmp_hosts = {e.icmp.sender for e in self.evidence if e is not None and e.icmp is not None}
        rows = []
        for index, endpoint in enumerate(self.endpoints):
            probe = self.probe_of[index]
            if probe in self.local_errors:
                rows.append(_local_error(endpoint, *self.local_errors[probe]))
                continue
            evidence = self.evidence[probe]
            if evidence is None and self.stopped:
                rows.append(stopped_row(endpoint, Method.RAW))
            elif evidence is None:
                reason = "no-response"
                if quick:
                    reason += f" (no answer within {window_ms:.0f} ms, --quick)"
                if endpoint.address in icmp_hosts:
                    reason += f"; {endpoint.address} itself sent ICMP errors for other probes (rate-limited?)"
                if probe in self.odd:
                    reason += f"; ignored {describe(self.odd[probe])}"
                rows.append(_result(endpoint, ProbeState.FILTERED, reason))
            elif evidence.icmp is not None:
                reason = describe_icmp(endpoint.family, evidence.icmp)
                rows.append(_result(endpoint, ProbeState.UNREACHABLE, reason, evidence))
            elif evidence.reason == "syn-ack":
                rows.append(_result(endpoint, ProbeState.OPEN, "syn-ack", evidence))
            else:
                rows.append(_result(endpoint, ProbeState.CLOSED, "reset", evidence))
        return rows


def _result(
    endpoint: Endpoint, state: ProbeState, reason: str, evidence: Evidence | None = None
) -> ProbeResult:
    return ProbeResult(
        target=endpoint.target,
        family=endpoint.family,
        port=endpoint.port,
        state=state,
        reason=reason,
        method=Method.RAW,
        address=endpoint.address,
        rtt_ms=evidence.rtt_ms if evidence else None,
        icmp=evidence.icmp if evidence else None,
        mss=evidence.mss if evidence else None,
    )


def _local_error(endpoint: Endpoint, err: int, at_send: bool) -> ProbeResult:
    """The kernel refused before anything left: no route, or sendto() failed."""
    state = connect_errno_state(err, True)
    if state is ProbeState.NO_ROUTE:
        return _result(endpoint, state, no_route_reason(err))
    if state is ProbeState.LOCAL_DENY:
        return _result(endpoint, state, LOCAL_DENY_REASON)
    where = "sendto" if at_send else "route lookup"
    return _result(endpoint, state, f"{errno_name(err)} ({where})")
