"""Short names for clusters in an 80-column table (`voltprobe report`).

    short_names(names, room) -> {name: label}     every "label -> label" fits in `room`
    substitute(text, labels) -> text               a sentence with the labels for the names

Cluster names are often long: an EKS context (the default cluster name) is an ARN such
as `arn:aws:eks:us-east-1:123456789012:cluster/volt-a`. When the matrix's direction
column cannot hold `A -> B` in full, each name gets the shortest suffix that no other
name ends with (at a `/` or `:` first, then also at `-`, `_` or `.`: `volt-a`, then
`a`), else a letter (A, B, C...); the table prints a legend line per label. Eliding in
the middle is the table's last resort, not this module's.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping, Sequence

ARROW = " -> "
COARSE = "/:"  # an ARN's or a path's parts
FINE = "/:-_."  # also the words of a DNS-style name


def short_names(names: Sequence[str], room: int) -> dict[str, str]:
    """{name: label} for distinct `names`: the names themselves when every `a -> b`
    fits in `room` columns, else the first of these that fits: the shortest unique
    suffix at a COARSE separator, then at a FINE one, then letters (always returned
    when nothing fits: the caller elides)."""
    for choose in (_themselves, _suffixes(COARSE), _suffixes(FINE)):
        labels = choose(names)
        if labels is not None and _fits(labels, room):
            return labels
    return _letters(names)


def substitute(text: str, labels: Mapping[str, str]) -> str:
    """`text` with each name replaced by its label, where the name stands on its own
    (not inside a longer name, address or word); one pass, longest names first."""
    changed = {name: label for name, label in labels.items() if name != label}
    if not changed:
        return text
    alternatives = "|".join(re.escape(n) for n in sorted(changed, key=len, reverse=True))
    # a name ends where no name character follows ("a->b" in a verdict: "-" before ">")
    pattern = re.compile(rf"(?<![\w./:-])(?:{alternatives})(?!\w|-(?!>)|[./:]\w)")
    return pattern.sub(lambda m: changed[m.group(0)], text)


def _fits(labels: Mapping[str, str], room: int) -> bool:
    widths = sorted((len(label) for label in labels.values()), reverse=True)
    return sum(widths[:2]) + len(ARROW) <= room


def _themselves(names: Sequence[str]) -> dict[str, str]:
    return {name: name for name in names}


def _suffixes(separators: str) -> Callable[[Sequence[str]], dict[str, str] | None]:
    def choose(names: Sequence[str]) -> dict[str, str] | None:
        ends = {name: _ends(name, separators) for name in names}
        labels: dict[str, str] = {}
        for name in names:
            others = set().union(*(ends[n] for n in names if n != name))
            unique = [end for end in ends[name] if end not in others]
            if not unique:  # the name is an end of another's ("volt-a", "x/volt-a")
                return None
            labels[name] = unique[0]
        return labels

    return choose


def _ends(name: str, separators: str) -> list[str]:
    """The name's suffixes that start after a separator, shortest first, then the name."""
    cuts = [i + 1 for i, char in enumerate(name) if char in separators and i + 1 < len(name)]
    return [name[cut:] for cut in reversed(cuts)] + [name]


def _letters(names: Sequence[str]) -> dict[str, str]:
    """A, B, ... Z, AA, AB, ... in the names' order, skipping a letter that is a name."""
    taken = set(names)
    labels: dict[str, str] = {}
    count = 0
    for name in names:
        label = _letter(count)
        while label in taken:
            count += 1
            label = _letter(count)
        labels[name] = label
        count += 1
    return labels


def _letter(index: int) -> str:
    letters = string.ascii_uppercase
    text = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, len(letters))
        text = letters[rest] + text
    return text
