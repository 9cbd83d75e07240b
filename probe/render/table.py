"""The default human report: a checklist grouped by stage, read in five seconds.

    voltprobe 0.1.0 · kubeconfig, namespace volt · mode raw
    x FAIL: no IP family reaches every peer DR endpoint
    Local cluster ✔ 5 checks passed
    DNS ✔ 3 checks passed
    Reachability
      IPv4  0/2 open  192.0.2.10:5555 filtered, 192.0.2.11:5555 filtered
      x VP303 DR endpoints do not answer (filtered): 192.0.2.10:5555, 192.0.2.11:5555
          hint: voltprobe explain VP303
    ...
    x FAIL: no IP family reaches every peer DR endpoint

Modelled on `linkerd check` (grouped check / warning / cross lines, a hint per failure) and nmap's short
reason tokens. Every line fits `WIDTH` columns: long lists are elided in the middle; the
full text is in `-o wide`, `-v` and the JSON. A group whose checks all passed is one line
(`-v` expands it). The same finding on several subjects is one line listing them.
"""

from __future__ import annotations

import re
import textwrap
from collections import Counter, defaultdict
from dataclasses import dataclass

import yaml

from probe.model import (
    FAMILIES,
    Family,
    Finding,
    Nat,
    ProbeState,
    Report,
    Severity,
    format_endpoint,
)
from probe.render.wide import section

WIDTH = 80
MIN_WORD = 8  # an elided name or address keeps at least this many columns
CONTINUED = "      "  # a checklist line's continuation, under its hint
GROUPS = ("Local cluster", "DNS", "Reachability", "Recommendation", "NetworkPolicies")
# a finding's group, by the hundreds of its id (VP1xx local, VP2xx DNS, VP3xx
# reachability, VP4xx Services of the local cluster, VP5xx recommendation caveats)
GROUP_OF_HUNDRED = {"1": 0, "2": 1, "3": 2, "4": 0, "5": 3}
GROUP_OF_ID = {
    "VP300": 3,  # "no family qualifies" is the recommendation's own line
    **{f"VP{n}": 4 for n in range(111, 117)},  # the Volt pods' NetworkPolicies
}


@dataclass(frozen=True)
class Style:
    """Marks and colours: Unicode and ANSI colour when the terminal takes them."""

    unicode: bool = True
    color: bool = False

    def mark(self, kind: str) -> str:
        marks = {
            "pass": "\u2714",
            "error": "\u00d7",
            "warning": "\u203c",
            "info": "\u00b7",
            "skip": "\u2013",
        }
        ascii_marks = {"pass": "ok", "error": "XX", "warning": "!!", "info": "..", "skip": "--"}
        text = (marks if self.unicode else ascii_marks)[kind]
        return self.paint(text, kind)

    def paint(self, text: str, kind: str) -> str:
        codes = {"pass": "32", "error": "31", "warning": "33", "info": "2", "skip": "2"}
        if not self.color or kind not in codes:
            return text
        return f"\033[{codes[kind]}m{text}\033[0m"

    @property
    def dot(self) -> str:
        return "·" if self.unicode else "-"

    def room(self, kind: str, indent: int = 2) -> int:
        """Columns left for the text of a checklist line after its indent and mark."""
        return WIDTH - indent - len(_strip_ansi(self.mark(kind))) - 1

    def item(self, kind: str, text: str, indent: int = 2) -> str:
        """One checklist line, `  ✔ text`, cut to WIDTH columns before it is coloured
        (callers fit their text in `room` first: this cut is the last resort)."""
        return f"{' ' * indent}{self.mark(kind)} {elide(text, self.room(kind, indent))}"


def render_table(report: Report, verbose: bool = False, style: Style | None = None) -> str:
    style = style or Style()
    verdict = verdict_line(report, style)
    lines = [fit(header(report, style)), verdict]
    lines += local_group(report, verbose, style)
    lines += policies_group(report, verbose, style)
    lines += simple_group(report, 1, verbose, style)
    lines += reach_group(report, verbose, style)
    lines += recommendation_group(report, verbose, style)
    if verbose:
        lines += ["", *probe_rows(report)]
        if report.timings:
            lines += packed("Timings: ", [f"{k} {v:.0f} ms" for k, v in report.timings.items()])
    lines.append(verdict)
    text = "\n".join(lines) + "\n"
    # ASCII terminals: one-character stand-ins keep every line within WIDTH
    return text if style.unicode else text.replace("\u2026", "~").replace("\u00b7", "-")


def short_verdict(report: Report) -> str:
    """The verdict in one short line: `PASS: ...; set ...` (or without the Helm key when
    it does not fit) or `FAIL: ...` (the JSON and the termination message keep it all)."""
    rec = report.recommendation
    if report.error is not None:
        return report.verdict
    if not rec.ip_families:
        return "FAIL: no IP family reaches every peer DR endpoint"
    if len(report.verdict) <= WIDTH - 3:
        return report.verdict
    return f"PASS: XDCR can use {','.join(f.value for f in rec.ip_families)} (Helm values below)"


def verdict_line(report: Report, style: Style) -> str:
    kind = "pass" if report.exit_code == 0 else "error" if report.exit_code == 1 else "warning"
    text = elide(short_verdict(report), WIDTH - 3)
    return f"{style.mark(kind)} {style.paint(text, kind)}"


def header(report: Report, style: Style) -> str:
    """`voltprobe V · context C, namespace N · mode M [· from ...]` in one line: names
    elided in the middle, the no-cluster reason (a sentence) shortened between words."""
    kube = section(report.local, "kubernetes")
    mode = report.options.get("mode", "-") if isinstance(report.options, dict) else "-"
    vantage = report.vantage  # the probes left from there, not from where this ran
    after = [f"mode {mode}"]
    if vantage is not None:
        after.append(f"from {vantage.kind} {elide_words(f'{vantage.namespace}/{vantage.pod}', 30)}")
    if kube.get("available"):
        context = report.cluster.context
        source = f"context {elide_words(context, 30)}" if context else kube.get("source")
        where = f"{source}, namespace {elide_words(str(kube.get('namespace') or '-'), 24)}"
        return f" {style.dot} ".join([f"voltprobe {report.version}", where, *after])

    def line(why: str) -> str:
        return f" {style.dot} ".join([f"voltprobe {report.version}", f"no cluster ({why})", *after])

    why = str(kube.get("reason") or "not read")
    over = len(line(why)) - WIDTH
    return line(
        why if over <= 0 else textwrap.shorten(why, max(len(why) - over, 12), placeholder="…")
    )


# -- groups ---------------------------------------------------------------------------


def group_of(check_id: str) -> int:
    return GROUP_OF_ID.get(check_id, GROUP_OF_HUNDRED.get(check_id[2:3], 3))


def _findings(report: Report, group: int, verbose: bool) -> list[Finding]:
    """The group's findings, one per id (subjects joined), info only with -v."""
    merged: dict[str, Finding] = {}
    for finding in report.findings:
        if group_of(finding.id) != group or (finding.severity is Severity.INFO and not verbose):
            continue
        seen = merged.get(finding.id)
        if seen is None:
            merged[finding.id] = finding
        else:
            subjects = tuple(dict.fromkeys(seen.subjects + finding.subjects))
            worst = min(seen.severity, finding.severity, key=list(Severity).index)
            merged[finding.id] = Finding(
                seen.id, worst, seen.message, seen.remedy, seen.title, subjects
            )
    return list(merged.values())


def _checks_in(report: Report, group: int) -> tuple[list[str], list[tuple[str, str]]]:
    """(passed ids, [(skipped id, reason)]) of a group."""
    passed = [c.id for c in report.passed_checks if group_of(c.id) == group]
    skipped = [(c.id, c.reason) for c in report.skipped_checks if group_of(c.id) == group]
    return passed, skipped


def finding_lines(finding: Finding, style: Style) -> list[str]:
    """`  x VPxxx title: subject, subject, +N more`, then the hint. Whole units only: the
    subjects that do not fit become `+N more`; when not even one fits after the title, they
    go on a line of their own; a title longer than the line wraps (never cut)."""
    kind = finding.severity.value
    room = style.room(kind)
    head = f"{finding.id} {finding.title}"
    subjects = finding.subjects
    listed = fits_list(subjects, room - len(head) - 2) if subjects else ""
    if len(head) <= room and listed is not None:
        lines = [style.item(kind, f"{head}: {listed}" if listed else head)]
    else:
        title = textwrap.wrap(head, room, break_on_hyphens=False)
        more = [CONTINUED + t for t in textwrap.wrap(" ".join(title[1:]), WIDTH - len(CONTINUED))]
        lines = [style.item(kind, title[0]), *more]
        if subjects:
            last = _strip_ansi(lines[-1])
            after = fits_list(subjects, WIDTH - len(last) - 2) if len(lines) > 1 else None
            if after is not None:
                lines[-1] += f": {after}"
            else:
                room = WIDTH - len(CONTINUED)
                cap = room - (len(f", +{len(subjects) - 1} more") if len(subjects) > 1 else 0)
                lines.append(CONTINUED + elide_list(subjects, room, item_width=cap))
    if finding.severity is not Severity.INFO:
        lines.append(f"      hint: voltprobe explain {finding.id}")
    return lines


def checks_lines(report: Report, group: int, verbose: bool, style: Style) -> list[str]:
    """The group's findings, then its passed and skipped checks (one line each with -v)."""
    lines = [line for f in _findings(report, group, verbose) for line in finding_lines(f, style)]
    passed, skipped = _checks_in(report, group)
    if verbose:
        titles = {c.id: c.title for c in report.passed_checks}
        # a passed check's title names the problem it looks for: say it was not found
        lines += [
            line
            for i in passed
            for line in item_lines(style, "pass", f"{i} not found: {titles[i]}")
        ]
        lines += [
            line for i, why in skipped for line in item_lines(style, "skip", f"{i} skipped: {why}")
        ]
        return lines
    if passed:
        lines.append(style.item("pass", f"{len(passed)} check(s) passed"))
    by_reason: dict[str, list[str]] = defaultdict(list)
    for check_id, why in skipped:
        by_reason[why].append(check_id)
    for why, ids in by_reason.items():
        lines += item_lines(style, "skip", f"{len(ids)} skipped: {why}")
    return lines


def item_lines(style: Style, kind: str, text: str) -> list[str]:
    """A checklist line whose text (a sentence: a skip's reason) wraps between words onto
    continuation lines instead of being cut."""
    first, *rest = textwrap.wrap(text, style.room(kind), break_on_hyphens=False) or [""]
    more = textwrap.wrap(" ".join(rest), WIDTH - len(CONTINUED), break_on_hyphens=False)
    return [style.item(kind, first), *(CONTINUED + line for line in more)]


def titled(title: str, body: list[str], style: Style) -> list[str]:
    """A group; one line when its only line is a pass (`Local cluster ✔ 5 check(s) passed`)."""
    if len(body) == 1 and body[0].startswith(f"  {style.mark('pass')} "):
        return [f"{title} {body[0].strip()}"]
    return [title, *body]


def local_group(report: Report, verbose: bool, style: Style) -> list[str]:
    body = []
    kube = section(report.local, "kubernetes")
    if kube.get("available") and not report.local.get("services"):
        namespace = elide_words(str(kube.get("namespace") or "-"), 40)
        if kube.get("namespaceExists") is False:
            body.append(style.item("warning", f"namespace {namespace} does not exist"))
        else:
            body.append(style.item("warning", f"no Volt DR Service in namespace {namespace}"))
            if kube.get("namespaceUnread"):
                unread = elide(str(kube["namespaceUnread"]), 30)
                body.append(f"{CONTINUED}could not read whether it exists ({unread})")
        body.append("      hint: -n NAMESPACE of the Volt cluster (kubectl get svc -A | grep dr)")
    body += checks_lines(report, 0, verbose, style)
    return titled("Local cluster", body, style)


def policies_group(report: Report, verbose: bool, style: Style) -> list[str]:
    """The Volt pods' NetworkPolicies (shown when the namespace's policies were read)."""
    read = section(report.local, "networkPolicies")
    if not read.get("read"):
        return []
    names = [str(n) for n in read.get("networkPolicies") or []]
    body = checks_lines(report, 4, verbose, style)
    if not names:
        return [f"NetworkPolicies {style.mark('pass')} none in the namespace"]
    listed = elide_list(names, 40)
    return titled(f"NetworkPolicies ({listed})", body, style)


def simple_group(report: Report, group: int, verbose: bool, style: Style) -> list[str]:
    return titled(GROUPS[group], checks_lines(report, group, verbose, style), style)


def reach_group(report: Report, verbose: bool, style: Style) -> list[str]:
    body = []
    for family in FAMILIES:
        rows = [p for p in report.probes if p.family is family]
        if not rows:
            continue
        probed = [p for p in rows if p.address is not None]
        ok = [p for p in probed if p.state is ProbeState.OPEN]
        bad = [p for p in rows if p.state is not ProbeState.OPEN]
        kind = "pass" if rows and not bad else "error"
        count = f"{len(ok)}/{len(probed)} open" if probed else "nothing to probe"
        head = f"{family.value}  {count}  "
        room = style.room(kind) - len(head)
        # whole units: the endpoint (or name) is elided in the middle, the state token never
        items = []
        for p in bad:
            token = short_reason(p.state.value, p.reason)
            where = p.target if p.address is None else format_endpoint(p.address, p.port)
            cap = room - len(token) - 1 - (0 if len(bad) == 1 else len(f", +{len(bad)} more"))
            items.append(f"{elide_words(where, max(cap, MIN_WORD))} {token}")
        shown = elide_list(items, room, item_width=None)
        body.append(style.item(kind, f"{head}{shown}".rstrip()))
        after = data_path_line(report, family, style)
        if after:
            body.append(fit(after))
    body += checks_lines(report, 2, verbose, style)
    return titled("Reachability", body, style)


def data_path_line(report: Report, family: Family, style: Style) -> str:
    """What followed the handshakes in `family`: outcomes, path MTU, NAT ('' if none)."""
    paths = [d for d in report.data_path if d.family is family]
    if not paths:
        return ""
    counts = Counter(d.after.value for d in paths)
    parts = [", ".join(f"{n} {after}" for after, n in counts.most_common())]
    # no RTT here: it changes from run to run (-o wide and the JSON have it; VP324 says
    # when one family is much slower)
    holes = [d.largest_passed or 0 for d in paths if d.black_hole is not None]
    largest = [d.largest_passed for d in paths if d.largest_passed is not None]
    if holes:
        parts.append(f"MTU black hole above {min(holes)}")
    elif largest:
        parts.append(f"MTU {min(largest)} passes")
    nats = sorted({str(d.nat) for d in paths if d.nat not in (None, Nat.NONE)})
    if nats:
        parts.append("NAT " + "/".join(nats))
    return "      data path: " + f" {style.dot} ".join(parts)


def recommendation_group(report: Report, verbose: bool, style: Style) -> list[str]:
    rec = report.recommendation
    body = checks_lines(report, 3, verbose, style)
    if rec.ip_families and rec.helm_values:
        body.append("  Helm values, for values.yaml:")
        snippet = yaml.safe_dump(rec.helm_values, sort_keys=False).rstrip()
        body += ["    " + line for line in snippet.splitlines()]
        body.append("  or: helm upgrade ... \\")
        sets = [f"--set {s}" for s in rec.helm_set().removeprefix("--set ").split(" --set ")]
        body += [f"    {s}" + (" \\" if i < len(sets) - 1 else "") for i, s in enumerate(sets)]
        if rec.connection_source:
            value = rec.connection_source["value"]
            line = f"  connection.source in {rec.ip_families[0].value}: {value}"
            body.append(line if len(line) <= WIDTH else "  connection.source: see -o wide")
    else:
        # why each family does not qualify (the last sentence is the verdict, shown already)
        reasons = rec.rationale[:-1] if len(rec.rationale) > 1 else rec.rationale
        for sentence in reasons:
            body += wrapped("    ", sentence)
    return ["Recommendation", *body]


def wrapped(first: str, text: str) -> list[str]:
    """`text` after the prefix `first`, wrapped to WIDTH with a hanging indent."""
    indent = " " * len(_strip_ansi(first))
    lines = textwrap.wrap(
        text, WIDTH, initial_indent=indent, subsequent_indent=indent, break_on_hyphens=False
    )
    return [first + lines[0][len(indent) :], *lines[1:]] if lines else [first]


# -- fitting text in WIDTH columns ----------------------------------------------------


def reason_token(state: str, reason: str) -> str:
    """A reason's first token, nmap-style (`admin-prohibited`); the state when empty."""
    return reason.split(":", 1)[0].split(" ", 1)[0].strip() or state


def short_reason(state: str, reason: str) -> str:
    """nmap-style: `filtered (no-response)`; a long reason keeps its first token."""
    token = reason_token(state, reason)
    return state if token == state else f"{state} ({token})"


def elide(text: str, width: int) -> str:
    """`text` cut in the middle with an ellipsis to at most `width` characters."""
    if len(text) <= width:
        return text
    if width < 5:
        return text[:width]
    head = (width - 1) // 2
    return text[:head] + "…" + text[len(text) - (width - 1 - head) :]


def elide_words(text: str, width: int) -> str:
    """`text` (a name, an address, `name endpoint`) in at most `width` columns: its longest
    words elided in the middle, one ellipsis per word, none below MIN_WORD columns; the
    whole text is cut in the middle only when that is not enough."""
    words = text.split(" ")
    widths = [len(w) for w in words]

    def total() -> int:
        return sum(widths) + len(words) - 1

    while total() > width:
        index = max(range(len(words)), key=lambda i: widths[i])
        if widths[index] <= MIN_WORD:
            return elide(text, width)
        # down to the next widest word first, so that long words end up alike
        floor = max([MIN_WORD, *(n for i, n in enumerate(widths) if i != index)])
        widths[index] -= min(total() - width, max(1, widths[index] - floor))
    return " ".join(elide(w, n) for w, n in zip(words, widths, strict=True))


def fits_list(
    items: list[str] | tuple[str, ...], width: int, item_width: int | None = 40
) -> str | None:
    """Items joined by commas in `width` columns: all of them, or the first ones (each
    elided by `elide_words` to `item_width`) and `+N more`; None when not even one fits."""
    text = ", ".join(items)
    if len(text) <= width:
        return text
    kept: list[str] = []
    for item in items:
        rest = len(items) - len(kept) - 1
        unit = item if item_width is None else elide_words(item, item_width)
        candidate = ", ".join([*kept, unit])
        if len(candidate) + (len(f", +{rest} more") if rest else 0) > width:
            break
        kept.append(unit)
    if not kept:
        return None
    more = len(items) - len(kept)
    return ", ".join(kept) + (f", +{more} more" if more else "")


def elide_list(
    items: list[str] | tuple[str, ...], width: int = 56, item_width: int | None = 40
) -> str:
    """`fits_list`, or `N items` when not even one item fits."""
    listed = fits_list(items, width, item_width)
    return f"{len(items)} items" if listed is None else listed


def packed(prefix: str, tokens: list[str], sep: str = ", ") -> list[str]:
    """`prefix` and the tokens joined by `sep`, broken between tokens only (never inside
    one), continuation lines indented under the first token; each line fits WIDTH."""
    indent = " " * len(prefix)
    lines: list[str] = []
    line = prefix
    for index, token in enumerate(tokens):
        token += sep.rstrip() if index < len(tokens) - 1 else ""
        if line.strip() and len(line) + len(token) > WIDTH:
            lines.append(line.rstrip())
            line = indent
        line += elide(token, WIDTH - len(indent)) + " "
    lines.append(line.rstrip())
    return lines


def fit_columns(
    headers: list[str], rows: list[list[str]], elastic: dict[int, int], width: int = WIDTH
) -> list[str]:
    """A plain table (headers, dashes, rows) in `width` columns. Only the `elastic`
    columns (index -> narrowest width) are narrowed, their cells elided in the middle by
    `elide_words`, the widest first; the others (states, tokens, numbers) are never cut.
    Columns are two spaces apart, one when that is what it takes."""
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    gap = 2
    for gap, floor in ((2, 0), (1, 0), (1, MIN_WORD)):
        least = {i: floor or max(n, len(headers[i])) for i, n in elastic.items()}
        while sum(widths) + gap * (len(widths) - 1) > width:
            open_ = [i for i in least if widths[i] > least[i]]
            if not open_:
                break
            widths[max(open_, key=lambda i: widths[i] - least[i])] -= 1
        if sum(widths) + gap * (len(widths) - 1) <= width:
            break
    sep = " " * gap

    def line(cells: list[str]) -> str:
        shown = [
            elide_words(c, w) if i in elastic else c
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return fit(sep.join(c.ljust(w) for c, w in zip(shown, widths, strict=True)).rstrip())

    return [line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def probe_rows(report: Report) -> list[str]:
    """`-v`'s probe table in WIDTH columns: targets and addresses elided in the middle,
    the reason as its nmap token, METHOD only when the rows differ in it (the title says
    which), AFTER with a data path. `-o wide` and the JSON have every row in full."""
    methods = sorted({p.method.value for p in report.probes})
    after = report.after_handshake() if report.data_path else None
    headers = ["TARGET", "FAMILY", "ADDRESS", "PORT", "STATE", "REASON", "RTT ms"]
    headers += ["METHOD"] if len(methods) > 1 else []
    headers += ["AFTER"] if after is not None else []
    rows = []
    for p in report.probes:
        cells = [p.target, p.family.value, p.address or "-", str(p.port), p.state.value]
        cells += [reason_token(p.state.value, p.reason)]
        cells += ["-" if p.rtt_ms is None else f"{p.rtt_ms:.2f}"]
        cells += [p.method.value] if len(methods) > 1 else []
        cells += [after.get((p.address or "", p.port), "-")] if after is not None else []
        rows.append(cells)
    by = f"{methods[0]} probes" if len(methods) == 1 else "probes"
    title = f"Probe rows ({by}; full reasons in -o wide)"
    return [title, *fit_columns(headers, rows, {0: 12, 2: 15})] if rows else []


def wrap_lines(text: str, width: int = WIDTH) -> str:
    """Every line of `text` wrapped to `width` columns, continuation lines indented under
    their line's text (for the merged, diff and inventory tables, whose sentences are long)."""
    out: list[str] = []
    for line in text.splitlines():
        if len(line) <= width:
            out.append(line)
            continue
        indent = " " * (len(line) - len(line.lstrip()))
        out += textwrap.wrap(
            line.strip(),
            width,
            initial_indent=indent,
            subsequent_indent=indent + "    ",
            break_on_hyphens=False,
            break_long_words=True,
        )
    return "\n".join(out) + ("\n" if text.endswith("\n") else "")


def fit(line: str) -> str:
    """A plain (uncoloured) line cut to WIDTH columns."""
    return elide(line, WIDTH)


def _strip_ansi(text: str) -> str:
    return re.sub(r"\033\[[0-9;]*m", "", text)
