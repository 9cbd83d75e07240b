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
from probe.errors import Interrupted, UsageError, VoltprobeError
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

if TYPE_CHECKING:
    from probe.checks.registry import Registry
    from probe.datapath.types import DataPath
    from probe.inventory.types import Inventory
    from probe.probers.plan import Probed, ProbePrep

Progress = Callable[[str], None]

# voltprobe probes what the user or the cluster named, never ranges: a peer cluster has
# a handful of DR endpoints, so thousands of addresses mean a mistake, not a cluster.
MAX_ENDPOINTS = 4096
# the report's `timings`, in this order; the inventory runs beside DNS, so those two
# overlap. "checks" covers the family choice, the checks and the recommendation.
PHASES = ("startup", "inventory", "resolve", "probe", "dataPath", "checks")
# data-path connections in flight at once (first reads; RTT and MTU ladder): well under a
# responder's per-source cap (512, probe/serve.py), which a NAT may share among checks
DATA_PATH_CONCURRENCY = 256
PATH_QUALITY_CONCURRENCY = 64


def _quiet(message: str) -> None:
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


def run_check(
    options: CheckOptions,
    progress: Progress = _quiet,
    probing: Probing | None = None,
    registry: Registry | None = None,
) -> Report:
    """The report of one run. Never raises VoltprobeError or KeyboardInterrupt: a run
    that stops early gives a report holding its error (`Report.error`) and all it learned."""
    learned = Learned()
    error: VoltprobeError | None = None
    try:
        _gather(options, progress, probing or Probing(), learned)
    except VoltprobeError as exc:
        error = exc
    except KeyboardInterrupt:
        error = Interrupted()
    return build_report(options, learned, error, registry)


def _gather(options: CheckOptions, progress: Progress, probing: Probing, learned: Learned) -> None:
    """Run the stages in order, keeping each one's result in `learned` as soon as it exists."""
    from probe.resolve import resolve_targets

    startup = process_age_ms()
    if startup is not None:
        learned.timings["startup"] = startup
    # before any DNS or API work: --mode raw without raw sockets stops here, and on a
    # cold template cache scapy's import starts in the background, beside DNS and inventory
    prep = probing.prepare(options)
    inventory = Background(partial(_timed_inventory, options), "inventory")
    started = time.perf_counter()
    progress(f"resolving {len(options.targets)} peer endpoint(s)")
    learned.dns = resolve_targets(options.targets, options.resolv_conf, options.dns_timeout)
    learned.timings["resolve"] = _ms(started)
    if not inventory.done():
        where = "the Kubernetes API" if options.kube.enabled else "this host's interfaces"
        progress(f"reading the local cluster from {where}")
    learned.inventory, learned.timings["inventory"] = inventory.result()
    endpoints, unprobed = plan_endpoints(options, learned.dns, prep.default_method())
    learned.probes = tuple(_in_target_order(options, unprobed))  # kept if probing fails
    if len(endpoints) > MAX_ENDPOINTS:
        raise UsageError(
            f"{len(endpoints)} addresses to probe is over the cap of {MAX_ENDPOINTS}: "
            "voltprobe checks a peer's DR endpoints, it is not a scanner"
        )
    progress(f"probing {len(endpoints)} address(es) on the DR port")
    started = time.perf_counter()
    unique = list({(e.address, e.port): e for e in endpoints}.values())
    probed = probing.probe(options, learned.inventory, unique, prep)
    learned.timings["probe"] = _ms(started)
    learned.raw_note = probed.raw_note
    rows = rows_per_target(endpoints, probed.rows)
    learned.probes = tuple(_in_target_order(options, rows + unprobed))
    if options.data_path.enabled:
        progress("reading what open endpoints send after the handshake (data path)")
        started = time.perf_counter()
        learned.data_path = probing.measure(options, learned.probes)
        learned.timings["dataPath"] = _ms(started)


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
                endpoints.extend(
                    Endpoint(target.text, address, family, target.port)
                    for address in answer.addresses
                )
                continue
            state = (
                ProbeState.NO_ADDRESS
                if answer.outcome is DnsOutcome.NO_ADDRESS
                else ProbeState.DNS_ERROR
            )
            reason = f"{answer.outcome}: {answer.detail}" if answer.detail else str(answer.outcome)
            rows.append(ProbeResult(target.text, family, target.port, state, reason, method))
    return endpoints, rows


def rows_per_target(
    endpoints: Sequence[Endpoint], probed: Sequence[ProbeResult]
) -> list[ProbeResult]:
    """Each distinct (address, port) was probed once: give every target its own row."""
    by_key = {(row.address or "", row.port): row for row in probed}
    rows = []
    for endpoint in endpoints:
        found = by_key[(endpoint.address, endpoint.port)]
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
    return gather_inventory(options), _ms(started)


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
