"""Pure reasoning over data-path observations, shared by the checks and the family choice.

A greeting is *expected* from a target when the user declared the peer a voltprobe
responder (--responder) or when the same target greets on another endpoint or in
the other family. Without that expectation silence is normal: a real VoltDB DR
listener waits for its client to speak first.
"""

from __future__ import annotations

from probe.datapath.types import AfterHandshake, DataPath
from probe.facts import Facts
from probe.model import Family, ProbeResult, ProbeState, format_endpoint

# a peer that closes or resets a fresh connection before any byte: an access rule for
# one family, a proxy or NodePort without a backend. No DR listener does that.
DROPPED = (AfterHandshake.CLOSED, AfterHandshake.RESET)
# what counts as "no greeting" where one is expected
NOT_GREETED = (AfterHandshake.SILENT, AfterHandshake.OTHER, AfterHandshake.FAILED)


def data_path_of(facts: Facts, row: ProbeResult) -> DataPath | None:
    """The observation for an open row (matched on address and port), or None."""
    if row.address is None or row.state is not ProbeState.OPEN:
        return None
    return facts.data_path_by_endpoint.get((row.address, row.port))


def greets(facts: Facts, row: ProbeResult) -> bool:
    found = data_path_of(facts, row)
    return found is not None and found.after is AfterHandshake.GREETING


def greeting_targets(facts: Facts) -> set[str]:
    """The targets that greet on at least one endpoint (any family)."""
    return {row.target for row in facts.probes if greets(facts, row)}


def greeting_expected(facts: Facts, target: str) -> bool:
    """--responder, or the target greets on some endpoint (any family)."""
    return facts.options.data_path.responder or target in greeting_targets(facts)


def observed_rows(facts: Facts, family: Family) -> list[tuple[ProbeResult, DataPath]]:
    """The open rows of `family` with their data-path observation."""
    pairs = []
    for row in facts.probed_rows(family):
        found = data_path_of(facts, row)
        if found is not None:
            pairs.append((row, found))
    return pairs


def dropped_rows(facts: Facts, family: Family) -> list[tuple[ProbeResult, DataPath]]:
    return [(r, d) for r, d in observed_rows(facts, family) if d.after in DROPPED]


def ungreeted_rows(facts: Facts, family: Family) -> list[tuple[ProbeResult, DataPath]]:
    """Rows that stayed silent (or spoke otherwise, or failed) where a greeting was expected."""
    expected = greeting_targets(facts)
    declared = facts.options.data_path.responder
    return [
        (r, d)
        for r, d in observed_rows(facts, family)
        if d.after in NOT_GREETED and (declared or r.target in expected)
    ]


def black_hole_rows(facts: Facts, family: Family) -> list[tuple[ProbeResult, DataPath]]:
    return [(r, d) for r, d in observed_rows(facts, family) if d.black_hole is not None]


def _shown(pairs: list[tuple[ProbeResult, DataPath]], limit: int = 4) -> str:
    text = ", ".join(
        f"{format_endpoint(d.address, d.port)} {d.after} ({d.detail})" for _, d in pairs[:limit]
    )
    return text + (f" and {len(pairs) - limit} more" if len(pairs) > limit else "")


def data_path_problems(facts: Facts, family: Family) -> list[str]:
    """Why the data path rules `family` out; an empty list means it does not.

    Three rules: an endpoint that closes or resets right after accept; an endpoint
    that does not greet where a greeting is expected; a path-MTU black hole (a
    packet size that stalls while a smaller one passes, RFC 8201 / RFC 4890).
    """
    problems: list[str] = []
    dropped = dropped_rows(facts, family)
    if dropped:
        problems.append(
            f"{len(dropped)} {family} endpoint(s) close the connection right after accept: "
            + _shown(dropped)
        )
    ungreeted = ungreeted_rows(facts, family)
    if ungreeted:
        problems.append(
            f"{len(ungreeted)} {family} endpoint(s) do not greet where a voltprobe responder "
            "was expected: " + _shown(ungreeted)
        )
    holes = black_hole_rows(facts, family)
    if holes:
        shown = ", ".join(
            f"{format_endpoint(d.address, d.port)} "
            + (f"passes {d.largest_passed} bytes, " if d.largest_passed else "greets, then ")
            + f"stalls at {d.black_hole}"
            for _, d in holes[:4]
        )
        problems.append(f"path-MTU black hole over {family}: {shown}")
    return problems
