"""Match actual output against expected lines written in the notation (pure: no I/O).

Expected lines may hold `...` (zero or more lines), `[..]` (any text within a line) and
placeholders (`{{ name }}`, `{{ name /REGEX/ }}`, `{{ /REGEX/ }}`). A run of blanks matches any
run of blanks. Captured values flow from line to line, and from command to command through
`known`.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from runner.notation.patterns import Pattern, compile_line
from runner.records import merge_spans


@dataclass(frozen=True)
class MatchResult:
    ok: bool
    captures: dict[str, str] = field(default_factory=dict)  # new values, by name
    elided: tuple[tuple[int, int], ...] = ()  # actual lines that `...` stood for, [start, end)
    diff: str = ""  # readable, when not ok


def _is_ellipsis(line: str) -> bool:
    return line.strip() == "..."


class _Solver:
    def __init__(self, expected: Sequence[str], actual: Sequence[str], rest: bool) -> None:
        self.expected = expected
        self.actual = actual
        self.rest = rest  # more actual lines may follow the last expected one (a prefix match)
        self.cache: dict[
            tuple[int, tuple[tuple[str, str], ...]], tuple[Pattern, dict[str, str]]
        ] = {}
        # Backtracking steps, so that pathological input cannot hang us.
        self.budget = 200_000 + 10 * len(actual)
        # After the last `...`, every remaining expected line matches exactly one actual line.
        last = [n for n, line in enumerate(expected) if _is_ellipsis(line)]
        self.last_ellipsis = last[-1] if last else -1

    def _regex(self, i: int, caps: dict[str, str]) -> tuple[Pattern, dict[str, str]]:
        key = (i, tuple(sorted(caps.items())))
        if key not in self.cache:
            self.cache[key] = compile_line(self.expected[i], caps)
        return self.cache[key]

    def solve(
        self, i: int, j: int, caps: dict[str, str]
    ) -> tuple[dict[str, str], list[tuple[int, int]]] | None:
        elided: list[tuple[int, int]] = []
        while i < len(self.expected) and not _is_ellipsis(self.expected[i]):
            self.budget -= 1
            if j >= len(self.actual) or self.budget < 0:
                return None
            regex, groups = self._regex(i, caps)
            found = regex.fullmatch(self.actual[j])
            if found is None:
                return None
            if groups:
                caps = {**caps, **{name: found.group(g) for g, name in groups.items()}}
            i += 1
            j += 1
        if i == len(self.expected):
            return (caps, elided) if (j == len(self.actual) or self.rest) else None
        # `...`: as few lines as possible first, then more.
        candidates: range | list[int] = range(j, len(self.actual) + 1)
        if i == self.last_ellipsis and not self.rest:
            k = len(self.actual) - (len(self.expected) - i - 1)
            candidates = [k] if k >= j else []
        for k in candidates:
            self.budget -= 1
            if self.budget < 0:
                return None
            found_rest = self.solve(i + 1, k, caps)
            if found_rest is not None:
                spans = ([(j, k)] if k > j else []) + found_rest[1]
                return found_rest[0], elided + spans
        return None


def _split(actual: str) -> list[str]:
    return actual.split("\n") if actual else []


def match(
    expected: Sequence[str],
    actual: str,
    known: Mapping[str, str] | None = None,
    *,
    order_any: bool = False,
) -> MatchResult:
    """Match normalised `actual` output against the `expected` lines."""
    known = dict(known or {})
    lines = _split(actual)
    if order_any:
        return _match_any_order(expected, lines, known)
    solver = _Solver(expected, lines, rest=False)
    solved = solver.solve(0, 0, known)
    if solved is None:
        diff = render_diff(expected, lines, known)
        if solver.budget < 0:
            diff = "(the search for a match gave up: too many ways to place `...`)\n" + diff
        return MatchResult(False, diff=diff)
    caps, elided = solved
    new = {k: v for k, v in caps.items() if k not in known}
    return MatchResult(True, new, merge_spans(elided))


def match_prefix(
    expected: Sequence[str], actual: str, known: Mapping[str, str] | None = None
) -> bool:
    """Have the expected lines all appeared (more output may follow)? Used before sending a key.

    `actual` holds complete lines only: a line still being written is not yet evidence."""
    lines = _split(actual)
    return _Solver(expected, lines, rest=True).solve(0, 0, dict(known or {})) is not None


def _match_any_order(
    expected: Sequence[str], lines: list[str], known: dict[str, str]
) -> MatchResult:
    used: set[int] = set()
    caps = dict(known)
    for line in expected:
        if _is_ellipsis(line):
            continue
        regex, groups = compile_line(line, caps)
        for j, actual in enumerate(lines):
            if j in used:
                continue
            found = regex.fullmatch(actual)
            if found:
                used.add(j)
                caps.update({name: found.group(g) for g, name in groups.items()})
                break
        else:
            return MatchResult(False, diff=_any_order_diff(lines, used, line))
    extra = [j for j in range(len(lines)) if j not in used]
    if extra and not any(_is_ellipsis(e) for e in expected):
        return MatchResult(False, diff=_any_order_diff(lines, used, None))
    spans = merge_spans([(j, j + 1) for j in extra])
    return MatchResult(True, {k: v for k, v in caps.items() if k not in known}, spans)


def _any_order_diff(lines: list[str], used: set[int], missing: str | None) -> str:
    out = ["(order=any)"]
    if missing is not None:
        out.append(f"- no output line matches: {missing}")
    for j, line in enumerate(lines):
        if j not in used:
            out.append(f"+ not expected: {line}")
    return "\n".join(out)


def render_diff(expected: Sequence[str], actual: Sequence[str], known: Mapping[str, str]) -> str:
    """A unified diff in which expected lines that did match show as the actual text."""
    rendered: list[str] = []
    caps = dict(known)
    j = 0
    pending = False
    for n, line in enumerate(expected):
        if _is_ellipsis(line):
            pending = True
            continue
        regex, groups = compile_line(line, caps)
        hit = next((k for k in range(j, len(actual)) if regex.fullmatch(actual[k])), None)
        if hit is None:
            if pending:
                # Let `...` stand for what leaves as many actual lines as expected ones remain.
                remaining = sum(1 for e in expected[n:] if not _is_ellipsis(e))
                k = max(j, len(actual) - remaining)
                rendered += actual[j:k]
                j, pending = k, False
            rendered.append(line.rstrip())
            continue
        found = regex.fullmatch(actual[hit])
        assert found is not None
        caps.update({name: found.group(g) for g, name in groups.items()})
        if pending:
            rendered += actual[j:hit]
        rendered.append(actual[hit])
        j = hit + 1
        pending = False
    if pending:
        rendered += actual[j:]
    diff = difflib.unified_diff(rendered, list(actual), "expected", "actual", lineterm="", n=3)
    text = "\n".join(diff)
    return text or "(the output differs only in ways the diff cannot show)"
