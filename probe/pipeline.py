"""One run of `voltprobe check`, in one direction:

    targets -> resolve || inventory -> probe -> data path -> Facts -> choice -> checks -> Report

Only this module sequences the stages; each stage is a plain function of plain data
and returns a value (no stage changes what an earlier one produced). A failure after
DNS still yields a report holding its error: nothing learned is lost.

The probing and the check registry are parameters (`Probing`, `Registry`), so a test
can run the whole pipeline with a fake prober or a registry of its own.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import TYPE_CHECKING

from probe import __version__
from probe.background import Background
from probe.errors import Interrupted, UsageError, VoltprobeError, sanitize
from probe.model import (
    CANNOT_RUN,
    DnsAnswer,
    DnsOutcome,
    Endpoint,
    Family,
    Method,
    ProbeResult,
    ProbeState,
    Report,
)
from probe.options import CheckOptions
from probe.probers.verdict import stopped_row
from probe.progress import Say, Tally
from probe.stop import RunStop, activate

if TYPE_CHECKING:
    from probe.checks.registry import Registry
    from probe.datapath.types import DataPath
    from probe.inventory.types import Inventory
    from probe.probers.plan import Probed, ProbePrep

Progress = Say  # a message per stage; the probe stage adds its Tally (n of m answered)

# voltprobe probes what the user or the cluster named, never ranges: a peer cluster has
# a handful of DR endpoints, so thousands of addresses mean a mistake, not a cluster.
MAX_ENDPOINTS = 4096
MAX_PORTS = 16  # distinct ports per run: a DR peer uses one or a few
MAX_ADDRESSES_PER_NAME = 256  # addresses one name may expand to, per family
# the report's `timings`, in this order; the inventory runs beside DNS, so those two
# overlap. "checks" covers the family choice, the checks and the recommendation.
PHASES = ("startup", "inventory", "resolve", "probe", "dataPath", "checks")
# data-path connections in flight at once (first reads; RTT and MTU ladder): well under a
# responder's per-source cap (512, probe/serve.py), which a NAT may share among checks
DATA_PATH_CONCURRENCY = 256
PATH_QUALITY_CONCURRENCY = 64
# seconds the run waits, once stopped, for the stage in progress to hand back what it has
# (the probers return within ~0.1 s); a stage blocked in a call is left behind
STOP_GRACE = 1.0
POLL = 0.1  # seconds between looks at the RunStop while the stages run


def _quiet(message: str, tally: Tally | None = None) -> None:
    return None


def prepare_production(options: CheckOptions) -> ProbePrep:
    from probe.probers.plan import prepare_probing

    return prepare_probing(options)


def probe_production(
    options: CheckOptions, inventory: Inventory, endpoints: Sequence[Endpoint], prep: ProbePrep
) -> Probed:
    from probe.probers.plan import plan_probes, probe_plan

    return probe_plan(plan_probes(options, inventory, endpoints, prep))


def measure_production(options: CheckOptions, rows: Sequence[ProbeResult]) -> tuple[DataPath, ...]:
    """The data-path stage: connect() again to every open endpoint (also in raw mode,
    whose probes never complete a handshake) and see what follows the handshake."""
    from probe.datapath.measure import measure

    endpoints = [
        Endpoint(r.target, r.address, r.family, r.port)
        for r in rows
        if r.state is ProbeState.OPEN and r.address is not None
    ]
    settings = replace(
        options.data_path,
        timeout=options.timeout,
        concurrency=min(options.concurrency, DATA_PATH_CONCURRENCY),
        quality_concurrency=min(options.concurrency, PATH_QUALITY_CONCURRENCY),
    )
    # every connection a measurement makes is bounded by the timeout; this caps the
    # stage even if the kernel stalls one: greeting, samples, then the MTU ladder
    budget = settings.wait + options.timeout * (settings.samples + 3)
    return measure(endpoints, settings, time.monotonic() + budget)


@dataclass(frozen=True)
class Probing:
    """The probe stage in three steps: `prepare` runs first thing (raises CannotRunError for
    --mode raw without raw sockets, before any DNS work); `probe` probes each endpoint once;
    `measure` reads the data path of the open ones (when --data-path is on)."""

    prepare: Callable[[CheckOptions], ProbePrep] = prepare_production
    probe: Callable[[CheckOptions, Inventory, Sequence[Endpoint], ProbePrep], Probed] = (
        probe_production
    )
    measure: Callable[[CheckOptions, Sequence[ProbeResult]], tuple[DataPath, ...]] = (
        measure_production
    )


def gather_inventory(options: CheckOptions) -> Inventory:
    from probe.inventory.host import host_inventory

    if not options.kube.enabled:
        return host_inventory("--no-kube given")
    from probe.inventory import gather

    return gather(options.kube, options.port)


@dataclass
class Learned:
    """What the stages returned so far (owned by `run_check`, which alone adds to it)."""

    timings: dict[str, float] = field(default_factory=dict)
    dns: tuple[DnsAnswer, ...] = ()
    inventory: Inventory | None = None
    probes: tuple[ProbeResult, ...] = ()
    raw_note: str = ""
    data_path: tuple[DataPath, ...] = ()

    def snapshot(self) -> Learned:
        """A copy the stages' worker can no longer change (it may outlive a stopped run)."""
        return Learned(
            dict(self.timings), self.dns, self.inventory, self.probes, self.raw_note, self.data_path
        )


def run_check(
    options: CheckOptions,
    progress: Progress = _quiet,
    probing: Probing | None = None,
    registry: Registry | None = None,
    stop: RunStop | None = None,
) -> Report:
    """The report of one run. Never raises VoltprobeError or KeyboardInterrupt: a run
    that stops early gives a report holding its error (`Report.error`) and all it learned.

    The stages run on a worker thread; this thread waits for them until `stop` asks to
    stop (a signal handler, the deadline: default `options.run_deadline()` seconds from
    now) or Ctrl-C comes, then gives them STOP_GRACE seconds to hand back what they have.
    """
    stop = stop or RunStop.after(options.run_deadline())
    previous = activate(stop)
    learned = Learned()
    try:
        error = _run_until_stopped(options, progress, probing or Probing(), learned, stop)
    finally:
        activate(previous)
    return build_report(options, learned.snapshot(), error, registry)


def _run_until_stopped(
    options: CheckOptions, progress: Progress, probing: Probing, learned: Learned, stop: RunStop
) -> VoltprobeError | None:
    """Run `_gather` on a worker thread until it ends or `stop` says stop; the error that
    stopped the run, or None when it ran to the end."""
    worker = Background(partial(_gather, options, progress, probing, learned, stop), "stages")
    try:
        while not worker.wait(POLL) and not stop.stopped():
            pass
    except KeyboardInterrupt:  # no handler installed (in-process use): Python's default
        stop.request("interrupted", Interrupted.exit_code)
    if stop.reason is not None:
        try:  # the stage in progress hands back what it has (the probers within ~0.1 s)
            worker.wait(STOP_GRACE)
        except KeyboardInterrupt:  # a second Ctrl-C: stop waiting
            pass
        return stop.error()
    try:
        worker.result()
    except VoltprobeError as exc:
        return exc
    except KeyboardInterrupt:
        return Interrupted()
    return None


def _gather(
    options: CheckOptions, progress: Progress, probing: Probing, learned: Learned, stop: RunStop
) -> None:
    """Run the stages in order, keeping each one's result in `learned` as soon as it exists;
    between stages, a requested stop ends the run (RunStopped)."""
    startup = process_age_ms()
    if startup is not None:
        learned.timings["startup"] = startup
    # before any DNS or API work: --mode raw without raw sockets stops here, and on a
    # cold template cache scapy's import starts in the background, beside DNS and inventory
    prep = probing.prepare(options)
    inventory = Background(partial(_timed_inventory, options), "inventory")
    started = time.perf_counter()
    names = Tally(len({t.host for t in options.targets if not t.is_literal}), "names resolved")
    progress(f"resolving {len(options.targets)} peer endpoint(s)", names if names.total else None)
    ipv4_only = options.jvm_prefer == "ipv4-stack"  # A records only, as that JVM asks
    learned.dns = _resolve(options, stop, ipv4_only, names)
    learned.timings["resolve"] = _ms(started)
    _check(stop)
    if not inventory.done():
        where = "this host's interfaces"
        if options.kube.enabled:
            context = options.cluster.context
            where = f"the Kubernetes API (context {context})" if context else "the Kubernetes API"
        progress(f"waiting for the local cluster's inventory from {where}")
    learned.inventory, learned.timings["inventory"] = _wait_inventory(options, inventory, stop)
    if names.total and _jvm_asks_a_only(options, learned.inventory) != ipv4_only:
        # the Volt pods' own JVM flags, read with the inventory, decide how it resolves
        ipv4_only = not ipv4_only
        how = "A records only" if ipv4_only else "A and AAAA"
        progress(f"resolving again as the Volt pods' JVM does ({how})")
        started = time.perf_counter()
        learned.dns = _resolve(options, stop, ipv4_only)
        learned.timings["resolve"] += _ms(started)
        _check(stop)
    endpoints, unprobed = plan_endpoints(options, learned.dns, prep.default_method())
    learned.probes = tuple(_in_target_order(options, unprobed))  # kept if probing fails
    check_bounds(endpoints)
    _check(stop)
    unique = list({(e.address, e.port): e for e in endpoints}.values())
    answered = Tally(len(unique))  # the probers count, the progress line reads
    progress(f"probing {len(unique)} address(es) on the DR port", answered)
    started = time.perf_counter()
    probed = probing.probe(options, learned.inventory, unique, replace(prep, answered=answered))
    learned.timings["probe"] = _ms(started)
    learned.raw_note = probed.raw_note
    rows = rows_per_target(endpoints, probed.rows)
    learned.probes = tuple(_in_target_order(options, rows + unprobed))
    if options.data_path.enabled:
        progress("reading what open endpoints send after the handshake (data path)")
        started = time.perf_counter()
        learned.data_path = probing.measure(options, learned.probes)
        learned.timings["dataPath"] = _ms(started)


def _resolve(
    options: CheckOptions, stop: RunStop, ipv4_only: bool, names: Tally | None = None
) -> tuple[DnsAnswer, ...]:
    """The peer names resolved as VoltDB's JVM resolves them (probe.resolve)."""
    from probe.resolve import resolve_targets

    return resolve_targets(
        options.targets,
        options.resolv_conf,
        options.dns_timeout,
        late_until=_late_dns_until(options, stop),
        answered=names,
        ipv4_only=ipv4_only,
    )


def _jvm_asks_a_only(options: CheckOptions, inventory: Inventory) -> bool:
    """Whether VoltDB's JVM surely runs with preferIPv4Stack=true (the Volt pods' flags,
    else --jvm-prefer): it then resolves with AF_INET, never asking for AAAA."""
    from probe.jvm import JvmPrefer, jvm_view

    pods = [(p.name, p.jvm_sources) for p in inventory.volt_pods]
    view = jvm_view(pods, options.jvm_prefer)
    return view.prefer is JvmPrefer.IPV4_STACK and len(view.orders()) == 1


def _late_dns_until(options: CheckOptions, stop: RunStop) -> float:
    """How long (time.monotonic()) a getaddrinfo that DNS answered in part is waited for:
    glibc's own bound, but never into the time the run's deadline keeps for probing."""
    from probe.stop import probe_reserve

    until = time.monotonic() + options.system_dns_wait()
    left = stop.remaining()
    if left is None:
        return until
    reserve = probe_reserve(len(options.targets), options.timeout, options.concurrency)
    return min(until, time.monotonic() + left - reserve)


def _wait_inventory(
    options: CheckOptions, inventory: Background[tuple[Inventory, float]], stop: RunStop
) -> tuple[Inventory, float]:
    """The inventory, waited for until the run's deadline leaves only `probe_reserve`:
    a slow API (each call may take its total time) must not cost the probes. Past that,
    the check goes on as without a cluster, and says why."""
    from probe.inventory.host import host_inventory
    from probe.stop import probe_reserve

    started = time.perf_counter()
    reserve = probe_reserve(len(options.targets), options.timeout, options.concurrency)
    while not inventory.wait(POLL):
        _check(stop)
        left = stop.remaining()
        if left is not None and left <= reserve:
            waited = time.perf_counter() - started
            why = (
                f"the Kubernetes API did not answer in time (the inventory was given up after "
                f"{waited:.1f} s more, to leave {reserve:.0f} s of the run's deadline to probing)"
            )
            return host_inventory(why), _ms(started)
    return inventory.result()


def _check(stop: RunStop) -> None:
    if stop.stopped():
        raise stop.error()


def check_bounds(endpoints: Sequence[Endpoint]) -> None:
    """voltprobe checks a peer's DR endpoints, it is not a scanner: at most MAX_ENDPOINTS
    addresses, MAX_PORTS distinct ports, MAX_ADDRESSES_PER_NAME addresses per (name,
    family). Raises UsageError (exit 2) naming the bound."""
    if len(endpoints) > MAX_ENDPOINTS:
        raise UsageError(
            f"{len(endpoints)} addresses to probe is over the cap of {MAX_ENDPOINTS}: "
            "voltprobe checks a peer's DR endpoints, it is not a scanner"
        )
    ports = {e.port for e in endpoints}
    if len(ports) > MAX_PORTS:
        raise UsageError(
            f"{len(ports)} distinct ports is over the cap of {MAX_PORTS}: a DR peer listens "
            "on one or a few ports; voltprobe is not a port scanner"
        )
    per_name: dict[tuple[str, Family], int] = {}
    for e in endpoints:
        per_name[(e.target, e.family)] = per_name.get((e.target, e.family), 0) + 1
    for (name, family), count in per_name.items():
        if count > MAX_ADDRESSES_PER_NAME:
            raise UsageError(
                f"{sanitize(name)} has {count} {family} addresses, over the cap of "
                f"{MAX_ADDRESSES_PER_NAME} per name: name the peer's DR endpoints instead"
            )


def plan_endpoints(
    options: CheckOptions, dns: Sequence[DnsAnswer], method: Method = Method.CONNECT
) -> tuple[list[Endpoint], list[ProbeResult]]:
    """Endpoints to probe, and the rows for (target, family) pairs with nothing to probe
    (labelled with `method`, the method that would have probed them)."""
    answers = {(a.target, a.family): a for a in dns}
    endpoints: list[Endpoint] = []
    rows: list[ProbeResult] = []
    for target in options.targets:
        for family in target.families():
            answer = answers.get((target.text, family))
            if answer is None:
                continue
            if answer.outcome in (DnsOutcome.OK, DnsOutcome.LITERAL):
                for address in answer.addresses:
                    refused = not_a_peer(address)
                    if refused:  # a name resolving to 0.0.0.0, broadcast or multicast
                        rows.append(
                            ProbeResult(
                                target.text,
                                family,
                                target.port,
                                ProbeState.ERROR,
                                f"not probed: {refused}",
                                method,
                                address,
                            )
                        )
                    else:
                        endpoints.append(Endpoint(target.text, address, family, target.port))
                continue
            state = (
                ProbeState.NO_ADDRESS
                if answer.outcome is DnsOutcome.NO_ADDRESS
                else ProbeState.DNS_ERROR
            )
            reason = f"{answer.outcome}: {answer.detail}" if answer.detail else str(answer.outcome)
            rows.append(ProbeResult(target.text, family, target.port, state, reason, method))
    return endpoints, rows


def not_a_peer(address: str) -> str:
    """Why an address a name resolved to is never probed ('' when it may be): the same
    rule as for literals (probe.targets.check_peer_address)."""
    from probe.targets import check_peer_address

    try:
        check_peer_address(address)
    except UsageError as exc:
        return str(exc)
    return ""


def rows_per_target(
    endpoints: Sequence[Endpoint], probed: Sequence[ProbeResult]
) -> list[ProbeResult]:
    """Each distinct (address, port) was probed once: give every target its own row."""
    by_key = {(row.address or "", row.port): row for row in probed}
    rows = []
    for endpoint in endpoints:
        # nothing from the prober for it: the run stopped first
        found = by_key.get((endpoint.address, endpoint.port)) or stopped_row(
            endpoint, Method.CONNECT
        )
        rows.append(
            ProbeResult(
                endpoint.target,
                found.family,
                found.port,
                found.state,
                found.reason,
                found.method,
                found.address,
                found.rtt_ms,
                found.icmp,
                found.mss,
            )
        )
    return rows


def _timed_inventory(options: CheckOptions) -> tuple[Inventory, float]:
    """The inventory and how long it took. It runs beside DNS, not beside probing: on
    a thread next to the raw send loop it cost more (GIL hand-offs) than it saved."""
    started = time.perf_counter()
    try:
        return gather_inventory(options), _ms(started)
    except (RecursionError, MemoryError, ValueError, TypeError, KeyError, AttributeError) as exc:
        # a decoder that met input it did not expect: the network check goes on without
        # the cluster, and the report says why (never a traceback that loses it all)
        from probe.inventory.host import host_inventory

        why = f"the cluster inventory failed on the API's data ({type(exc).__name__}: {exc})"
        return host_inventory(sanitize(why)), _ms(started)


def build_report(
    options: CheckOptions,
    learned: Learned,
    error: VoltprobeError | None = None,
    registry: Registry | None = None,
) -> Report:
    """Facts -> choice -> checks -> recommendation -> Report, over what the run learned
    (complete or not). A run that stopped recommends nothing: its choice says why."""
    from probe.checks import DEFAULT_REGISTRY
    from probe.choice import Choice, choose
    from probe.facts import Facts
    from probe.inventory.host import host_inventory
    from probe.recommend import recommend

    started = time.perf_counter()
    inventory = learned.inventory or host_inventory("the run stopped before the inventory")
    facts = Facts(
        options.targets,
        learned.dns,
        learned.probes,
        inventory,
        options,
        learned.raw_note,
        learned.data_path,
    )
    if error is None:
        choice = choose(facts)
    else:
        choice = Choice(None, (f"The check did not finish: {error}",), complete=False)
    checked = (registry or DEFAULT_REGISTRY).run(facts, choice)
    recommendation = recommend(facts, choice)
    report_options = options.to_json()
    if learned.raw_note:
        report_options["rawNotUsed"] = learned.raw_note
    timings = {**learned.timings, "checks": _ms(started)}
    return Report(
        targets=options.targets,
        dns=learned.dns,
        probes=learned.probes,
        findings=checked.findings,
        recommendation=recommendation,
        local=inventory.to_json(),
        options=report_options,
        timings={phase: timings[phase] for phase in PHASES if phase in timings},
        skipped_checks=checked.skipped,
        passed_checks=checked.passed,
        version=__version__,
        error=str(error) if error else None,
        error_exit_code=error.exit_code if error else CANNOT_RUN,
        cluster=options.cluster,
        data_path=learned.data_path,
    )


def _in_target_order(options: CheckOptions, rows: list[ProbeResult]) -> list[ProbeResult]:
    order = {t.text: i for i, t in enumerate(options.targets)}
    family_order = {Family.IPV4: 0, Family.IPV6: 1}
    return sorted(rows, key=lambda r: (order.get(r.target, 0), family_order[r.family]))


def process_age_ms() -> float | None:
    """Milliseconds since this process started (the interpreter start-up and imports).

    /proc/self/stat counts the start in clock ticks since boot (10 ms resolution),
    on the CLOCK_BOOTTIME time base.
    """
    try:
        with open("/proc/self/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        start = int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22, starttime
    except (OSError, ValueError, IndexError):
        return None
    return max(0.0, (time.clock_gettime(time.CLOCK_BOOTTIME) - start) * 1000)


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
