"""The pipeline with a fake prober (the only test that fakes probing: everything else
keeps real sockets) and fresh registries: stage order, one-way data flow, the errored
report, and the typed report's round trip."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

import yaml

from probe.checks import Hit, Registry
from probe.checks.caveats import one_direction
from probe.choice import Choice
from probe.errors import CannotRunError
from probe.facts import Facts
from probe.inventory.types import Inventory
from probe.model import Endpoint, Family, Method, ProbeResult, ProbeState, Report, Severity
from probe.options import CheckOptions, KubeOptions, Mode
from probe.pipeline import Probing, run_check
from probe.probers.plan import Probed, ProbePrep
from probe.render import render
from probe.targets import parse_peers

OPTIONS = CheckOptions(
    targets=parse_peers(["192.0.2.10,[2001:db8::10]"]),
    mode=Mode.CONNECT,
    kube=KubeOptions(enabled=False),
)


class FakeProbing:
    """Answers every endpoint with a state per family; records what it was given."""

    def __init__(self, states: dict[Family, ProbeState], note: str = "") -> None:
        self.states = states
        self.note = note
        self.calls: list[str] = []
        self.endpoints: list[Endpoint] = []

    def prepare(self, options: CheckOptions) -> ProbePrep:
        self.calls.append("prepare")
        return ProbePrep()

    def probe(
        self,
        options: CheckOptions,
        inventory: Inventory,
        endpoints: Sequence[Endpoint],
        prep: ProbePrep,
    ) -> Probed:
        self.calls.append("probe")
        self.endpoints.extend(endpoints)
        rows = tuple(
            ProbeResult(
                e.target,
                e.family,
                e.port,
                self.states[e.family],
                "fake",
                Method.CONNECT,
                e.address,
                0.5,
            )
            for e in endpoints
        )
        return Probed(rows, self.note)

    def stage(self) -> Probing:
        # no data path: the fake rows' addresses must not be dialled for real
        return Probing(self.prepare, self.probe, lambda options, rows: ())


def test_the_choice_is_a_value_the_checks_are_given() -> None:
    seen: list[Choice] = []
    registry = Registry()

    @registry.check("VP599", "records its input", Severity.INFO)
    def record(facts: Facts, choice: Choice) -> Iterable[Hit]:
        seen.append(choice)
        yield Hit(f"{choice.family}")

    fake = FakeProbing({Family.IPV4: ProbeState.FILTERED, Family.IPV6: ProbeState.OPEN})
    report = run_check(OPTIONS, probing=fake.stage(), registry=registry)

    assert fake.calls == ["prepare", "probe"]
    assert [e.address for e in fake.endpoints] == ["192.0.2.10", "2001:db8::10"]
    assert seen == [Choice(Family.IPV6, seen[0].rationale)]
    assert [f.id for f in report.findings] == ["VP599"]  # only the given registry ran
    assert report.recommendation.ip_families == (Family.IPV6,)
    assert list(report.timings)[-1] == "checks"


def test_what_the_prober_learned_travels_in_its_return_value() -> None:
    fake = FakeProbing({Family.IPV4: ProbeState.OPEN, Family.IPV6: ProbeState.OPEN}, "why not raw")
    report = run_check(OPTIONS, probing=fake.stage(), registry=Registry())
    assert report.options["rawNotUsed"] == "why not raw"


def test_a_run_that_stops_is_a_report_with_its_error_and_what_it_learned() -> None:
    def refuse(options: CheckOptions) -> ProbePrep:
        raise CannotRunError("no raw sockets here")

    report = run_check(OPTIONS, probing=Probing(refuse), registry=Registry())
    assert report.error == "no raw sockets here" and report.exit_code == 3
    assert report.verdict == "INCOMPLETE: no raw sockets here"
    assert report.recommendation.ip_families == ()
    assert report.recommendation.rationale == ("The check did not finish: no raw sockets here",)


def test_vp502_says_one_direction_only_when_a_family_is_recommended() -> None:
    facts = Facts(OPTIONS.targets, (), (), Inventory(available=False, reason="t"), OPTIONS)
    (hit,) = one_direction(facts, Choice(Family.IPV6))
    assert "only the direction from here to the peer" in hit.message
    fake = FakeProbing({Family.IPV4: ProbeState.CLOSED, Family.IPV6: ProbeState.CLOSED})
    failed = run_check(OPTIONS, probing=fake.stage())
    assert "VP502" in {s.id for s in failed.skipped_checks}  # nothing recommended: no caveat
    passed = run_check(OPTIONS, probing=FakeProbing(dict.fromkeys(Family, ProbeState.OPEN)).stage())
    assert "VP502" in {f.id for f in passed.findings}


def test_every_report_reads_back_equal_and_yaml_matches_json() -> None:
    fake = FakeProbing({Family.IPV4: ProbeState.OPEN, Family.IPV6: ProbeState.FILTERED})
    report = run_check(OPTIONS, probing=fake.stage())
    document = json.loads(render(report, "json"))
    again = Report.from_json(document)
    assert again.to_json() == document
    assert again.probes == report.probes and again.findings == report.findings
    assert again.recommendation == report.recommendation and again.targets == report.targets
    assert yaml.safe_load(render(report, "yaml")) == document
    assert render(again, "table") == render(
        Report.from_json(json.loads(render(again, "json"))), "table"
    )
