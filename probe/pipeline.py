"""One run of `voltprobe check`: targets -> resolve + inventory -> probe -> checks -> report.

Only this module sequences the stages; each stage is a plain function of plain data.
A failure after DNS still yields a (partial) report: nothing learned is lost.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import TYPE_CHECKING

from probe import __version__
from probe.background import Background
from probe.errors import UsageError, VoltprobeError
from probe.model import (
    DnsAnswer,
    DnsOutcome,
    Endpoint,
    Family,
    Method,
    ProbeResult,
    ProbeState,
    Recommendation,
    Report,
)
from probe.options import CheckOptions

if TYPE_CHECKING:
    from probe.datapath.types import DataPath
    from probe.inventory.types import Inventory
    from probe.probers.select import Plan, ProbePrep

Progress = Callable[[str], None]

# voltprobe probes what the user or the cluster named, never ranges: a peer cluster has
# a handful of DR endpoints, so thousands of addresses mean a mistake, not a cluster.
MAX_ENDPOINTS = 4096
# the report's `timings`, in this order (the CLI appends "render"); the inventory runs
# beside DNS, so those two overlap
PHASES = ("startup", "inventory", "resolve", "probe", "dataPath")
# data-path connections in flight at once (first reads; RTT and MTU ladder): well under a
# responder's per-source cap (512, probe/serve.py), which a NAT may share among checks
DATA_PATH_CONCURRENCY = 256
PATH_QUALITY_CONCURRENCY = 64


@dataclass
class PartialRun:
    """What a run has learned so far; turned into a report even when a stage fails."""

    options: CheckOptions
    timings: dict[str, float] = field(default_factory=dict)
    dns: tuple[DnsAnswer, ...] = ()
    inventory: Inventory | None = None
    probes: tuple[ProbeResult, ...] = ()
    raw_note: str = ""
    data_path: tuple[DataPath, ...] = ()


def gather_inventory(options: CheckOptions) -> Inventory:
    from probe.inventory.host import host_inventory

    if not options.kube.enabled:
        return host_inventory("--no-kube given")
    from probe.inventory import gather

    return gather(options.kube, options.port)


def plan_endpoints(
    run: PartialRun, method: Method = Method.CONNECT
) -> tuple[list[Endpoint], list[ProbeResult]]:
    """Endpoints to probe, and the rows for (target, family) pairs with nothing to probe
    (labelled with `method`, the method that would have probed them)."""
    answers = {(a.target, a.family): a for a in run.dns}
    endpoints: list[Endpoint] = []
    rows: list[ProbeResult] = []
    for target in run.options.targets:
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


def probe_endpoints(
    run: PartialRun, endpoints: list[Endpoint], prep: ProbePrep | None = None
) -> list[ProbeResult]:
    """Probe each distinct (address, port) once and give every target its rows."""
    from probe.probers.select import plan_probes

    assert run.inventory is not None
    unique = list({(e.address, e.port): e for e in endpoints}.values())
    plan = plan_probes(run.options, run.inventory, unique, prep)
    by_key: dict[tuple[str, int], ProbeResult] = {}
    try:
        for result in _run_batches(plan):
            by_key[(result.address or "", result.port)] = result
    finally:
        run.raw_note = plan.raw_note  # read after probing: it includes any fallback
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
            )
        )
    return rows


def _run_batches(plan: Plan) -> list[ProbeResult]:
    """Every batch's results. One batch runs here (Ctrl-C stops it at once); a raw and a
    connect batch run side by side, so each waits out only its own timeout."""
    if len(plan.batches) <= 1:
        return [result for prober, batch in plan.batches for result in prober.probe(batch)]
    running = [
        Background(partial(prober.probe, batch), f"probe-{prober.method}")
        for prober, batch in plan.batches
    ]
    return [result for done in running for result in done.result()]


def execute(run: PartialRun, progress: Progress) -> None:
    """Fill `run` stage by stage; raises VoltprobeError (the run keeps what it learned)."""
    from probe.probers.select import prepare_probing
    from probe.resolve import resolve_targets

    options = run.options
    startup = process_age_ms()
    if startup is not None:
        run.timings["startup"] = startup
    # before any DNS or API work: --mode raw without raw sockets stops here, and on a
    # cold template cache scapy's import starts in the background, beside DNS and inventory
    prep = prepare_probing(options)
    inventory = Background(partial(_timed_inventory, options), "inventory")
    started = time.perf_counter()
    progress(f"resolving {len(options.targets)} peer endpoint(s)")
    run.dns = resolve_targets(options.targets, options.resolv_conf, options.dns_timeout)
    run.timings["resolve"] = _ms(started)
    run.inventory, run.timings["inventory"] = inventory.result()
    endpoints, no_address_rows = plan_endpoints(run, prep.default_method())
    run.probes = tuple(_in_target_order(options, no_address_rows))  # kept if probing fails
    if len(endpoints) > MAX_ENDPOINTS:
        raise UsageError(
            f"{len(endpoints)} addresses to probe is over the cap of {MAX_ENDPOINTS}: "
            "voltprobe checks a peer's DR endpoints, it is not a scanner"
        )
    progress(f"probing {len(endpoints)} address(es) on the DR port")
    started = time.perf_counter()
    probed = probe_endpoints(run, endpoints, prep)
    run.timings["probe"] = _ms(started)
    run.probes = tuple(_in_target_order(options, probed + no_address_rows))
    if options.data_path.enabled:
        progress("reading what open endpoints send after the handshake (data path)")
        started = time.perf_counter()
        run.data_path = measure_data_path(options, run.probes)
        run.timings["dataPath"] = _ms(started)


def measure_data_path(options: CheckOptions, rows: tuple[ProbeResult, ...]) -> tuple[DataPath, ...]:
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


def _timed_inventory(options: CheckOptions) -> tuple[Inventory, float]:
    """The inventory and how long it took. It runs beside DNS, not beside probing: on
    a thread next to the raw send loop it cost more (GIL hand-offs) than it saved."""
    started = time.perf_counter()
    return gather_inventory(options), _ms(started)


def build_report(run: PartialRun, error: VoltprobeError | None = None) -> Report:
    """Checks and recommendation over what the run learned (complete or not)."""
    from probe.checks import DEFAULT_REGISTRY
    from probe.facts import Facts
    from probe.inventory.host import host_inventory
    from probe.recommend import recommend

    inventory = run.inventory or host_inventory("the run stopped before the inventory")
    facts = Facts(
        run.options.targets,
        run.dns,
        run.probes,
        inventory,
        run.options,
        run.raw_note,
        run.data_path,
    )
    findings, skipped = DEFAULT_REGISTRY.run(facts)
    recommendation = recommend(facts)
    if error is not None:
        recommendation = Recommendation(
            (), recommendation.helm_key, {}, (f"The check did not finish: {error}",), None
        )
    options = run.options.to_json()
    if run.raw_note:
        options["rawNotUsed"] = run.raw_note
    return Report(
        targets=run.options.targets,
        dns=run.dns,
        probes=run.probes,
        findings=tuple(findings),
        recommendation=recommendation,
        local=inventory.to_json(),
        options=options,
        timings={phase: run.timings[phase] for phase in PHASES if phase in run.timings},
        skipped_checks=tuple(s.to_json() for s in skipped),
        version=__version__,
        data_path=run.data_path,
        error=str(error) if error else None,
        error_exit_code=error.exit_code if error else 3,
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
