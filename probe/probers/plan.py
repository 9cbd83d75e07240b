"""Which prober probes which endpoint: raw SYN when allowed, connect() otherwise.

    --mode connect   connect() for everything; never needs privileges
    --mode raw       raw SYN for everything; no raw sockets -> CannotRunError (exit 3)
    --mode auto      raw SYN when raw sockets open, except for addresses of the local
                     cluster's Services (inside its Service CIDRs, or a DR Service's
                     cluster IP): some CNIs translate Service IPs only at connect()
                     time, so a raw SYN to one can miss. Those get connect(). If the
                     raw sockets still fail to open when the batch starts, the batch
                     is probed with connect() and `Probed.raw_note` says why.

`prepare_probing` runs first thing in a check: it decides whether raw probing can
happen at all (so --mode raw fails before any DNS or API work) and gets the SYN
templates: from the cache of an earlier run (probe.probers.rawcache), or by starting
scapy's import in the background, overlapping DNS and the inventory.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING

from probe.background import Background
from probe.errors import CannotRunError
from probe.model import FAMILIES, Endpoint, Method, ProbeResult
from probe.options import CheckOptions, Mode
from probe.probers import rawcache
from probe.probers.base import Prober
from probe.probers.rawpackets import Templates
from probe.probers.rawpcap import check_pcap_path
from probe.probers.rawsockets import RawCapability, RawSocketsUnavailable, check_raw_capability
from probe.progress import Tally

if TYPE_CHECKING:
    from probe.inventory.types import Inventory

SERVICE_NOTE = (
    "{count} address(es) of local Services (Service CIDR or cluster IP) were probed with "
    "connect(): some CNIs translate Service IPs only at connect() time"
)


class LazyConnectProber:
    """The connect() prober, imported when it first probes: it runs on asyncio, whose
    import costs ~40 ms of start-up that a raw-only run does not need."""

    method = Method.CONNECT

    def __init__(self, timeout: float, concurrency: int, answered: Tally | None = None) -> None:
        self.timeout = timeout
        self.concurrency = concurrency
        self.answered = answered

    def probe(self, endpoints: Sequence[Endpoint]) -> list[ProbeResult]:
        from probe.probers.connect import ConnectProber

        return ConnectProber(self.timeout, self.concurrency, self.answered).probe(endpoints)


@dataclass(frozen=True)
class ProbeBatch:
    """Endpoints for one prober; `fallback` (auto mode) probes them with connect() when
    the raw sockets fail to open after the capability check passed (their limit, a
    policy that changed, an LSM)."""

    prober: Prober
    endpoints: tuple[Endpoint, ...]
    fallback: Prober | None = None


@dataclass(frozen=True)
class Plan:
    """Endpoints grouped by the prober that will probe them, and why raw was not used."""

    batches: tuple[ProbeBatch, ...]
    raw_note: str = ""  # known when planning


@dataclass(frozen=True)
class Probed:
    """What probing returned: one row per endpoint, and why raw SYN was not used (the
    planning note plus any connect() fallback that happened while probing)."""

    rows: tuple[ProbeResult, ...]
    raw_note: str = ""


def probe_plan(plan: Plan) -> Probed:
    """Run every batch. One batch runs here (Ctrl-C stops it at once); a raw and a
    connect batch run side by side, so each waits out only its own timeout."""
    if len(plan.batches) <= 1:
        done = [_probe_batch(batch) for batch in plan.batches]
    else:
        running = [
            Background(partial(_probe_batch, batch), f"probe-{batch.prober.method}")
            for batch in plan.batches
        ]
        done = [worker.result() for worker in running]
    rows = tuple(row for batch_rows, _ in done for row in batch_rows)
    notes = [plan.raw_note, *(note for _, note in done)]
    return Probed(rows, "; ".join(n for n in notes if n))


def _probe_batch(batch: ProbeBatch) -> tuple[list[ProbeResult], str]:
    try:
        return batch.prober.probe(batch.endpoints), ""
    except RawSocketsUnavailable as exc:
        if batch.fallback is None:  # --mode raw: a failure to open raw sockets stops the run
            raise
        note = (
            f"raw SYN probing could not start ({exc.why}): {len(batch.endpoints)} address(es) "
            "were probed with connect() instead"
        )
        return batch.fallback.probe(batch.endpoints), note


@dataclass(frozen=True)
class ProbePrep:
    """What the start of a run learned for probing: the raw capability (None in
    connect mode) and where the SYN templates come from (cached, or being built); and
    the Tally the probers count answers on (the pipeline gives one per probe stage)."""

    capability: RawCapability | None = None
    templates: Templates = field(default=rawcache.templates, compare=False)
    answered: Tally = field(default_factory=lambda: Tally(0), compare=False)

    def default_method(self) -> Method:
        """The method rows get when nothing was probed for them (no address, DNS error)."""
        raw = self.capability is not None and bool(self.capability.families)
        return Method.RAW if raw else Method.CONNECT


def prepare_probing(options: CheckOptions) -> ProbePrep:
    """Check raw sockets once; --mode raw without them raises CannotRunError here, an
    unwritable --pcap path a UsageError."""
    if options.pcap is not None:
        check_pcap_path(options.pcap)
    if options.mode is Mode.CONNECT:
        return ProbePrep()
    capability = check_raw_capability()
    if not capability.families:
        if options.mode is Mode.RAW:
            raise CannotRunError(
                f"--mode raw needs raw sockets, which this process may not open: "
                f"{capability.why_not}. Use --mode connect (needs no privileges) or "
                f"grant CAP_NET_RAW."
            )
        return ProbePrep(capability)
    cached = rawcache.cached_templates()
    if cached is not None:
        return ProbePrep(capability, lambda: cached)
    return ProbePrep(capability, _start_templates())


def _start_templates() -> Templates:
    """The cache missed: import scapy and build (and store) the SYN templates on a worker
    thread (~0.2 s of imports); the returned callable blocks only until that is done."""
    return Background(rawcache.build_and_store, "scapy-templates").result


def plan_probes(
    options: CheckOptions,
    inventory: Inventory,
    endpoints: Sequence[Endpoint],
    prep: ProbePrep | None = None,
) -> Plan:
    answered = prep.answered if prep is not None else None
    connect = LazyConnectProber(options.timeout, options.concurrency, answered)
    if options.mode is Mode.CONNECT:
        return Plan((ProbeBatch(connect, tuple(endpoints)),))
    if prep is None or prep.capability is None:
        prep = prepare_probing(options)
    capability = prep.capability
    assert capability is not None
    if not capability.families:
        note = f"raw SYN probing is not allowed here: {capability.why_not}"
        return Plan((ProbeBatch(connect, tuple(endpoints)),), note)

    is_service = service_matcher(inventory) if options.mode is Mode.AUTO else _never
    raw_batch: list[Endpoint] = []
    connect_batch: list[Endpoint] = []
    services = 0
    for endpoint in endpoints:
        if not capability.allows(endpoint.family):
            connect_batch.append(endpoint)
        elif is_service(endpoint.address):
            services += 1
            connect_batch.append(endpoint)
        else:
            raw_batch.append(endpoint)

    notes = []
    denied = [f for f in FAMILIES if not capability.allows(f)]
    if denied and any(e.family in denied for e in endpoints):
        notes.append(f"raw SYN not used for {'/'.join(map(str, denied))}: {capability.why_not}")
    if services:
        notes.append(SERVICE_NOTE.format(count=services))
    from probe.probers.raw import RawProber

    raw = RawProber(
        options.timeout, options.rate, options.quick, options.pcap, prep.templates, answered
    )
    fallback = connect if options.mode is Mode.AUTO else None
    batches: list[ProbeBatch] = []
    if raw_batch:
        batches.append(ProbeBatch(raw, tuple(raw_batch), fallback))
    if connect_batch:
        batches.append(ProbeBatch(connect, tuple(connect_batch)))
    return Plan(tuple(batches), "; ".join(notes))


def service_matcher(inventory: Inventory) -> Callable[[str], bool]:
    """A test for 'this address belongs to a local Service' (CIDR or cluster IP)."""
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for cidr in inventory.service_cidrs:
        try:
            networks.append(ipaddress.ip_network(cidr, strict=False))
        except ValueError:
            continue  # a malformed CIDR from the API: the inventory checks report it
    cluster_ips: set[ipaddress.IPv4Address | ipaddress.IPv6Address] = set()
    for service in inventory.dr_services:
        for ip in service.cluster_ips:
            try:
                cluster_ips.add(ipaddress.ip_address(ip))
            except ValueError:
                continue  # "None" (headless) or garbage

    def is_service(address: str) -> bool:
        ip = ipaddress.ip_address(address)
        return ip in cluster_ips or any(ip in net for net in networks if net.version == ip.version)

    return is_service


def _never(address: str) -> bool:
    return False
