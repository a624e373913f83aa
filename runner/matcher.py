"""Match actual output against expected lines written in the notation (pure: no I/O).

Expected lines may hold `...` (zero or more lines), `LINE {{ * }}` (zero or more lines of
LINE's shape), `[..]` (any text within a line) and
placeholders (`{{ name }}`, `{{ name /REGEX/ }}`, `{{ /REGEX/ }}`). A run of blanks matches any
run of blanks. Captured values flow from line to line, and from command to command through
`known`.
"""

from __future__ import annotations

import difflib
import time
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from runner.notation.patterns import Pattern, compile_line, split_repeat
from runner.records import merge_spans


@dataclass(frozen=True)
class MatchResult:
    ok: bool
    captures: dict[str, str] = field(default_factory=dict)  # new values, by name
    elided: tuple[tuple[int, int], ...] = ()  # actual lines that `...` stood for, [start, end)
    diff: str = ""  # readable, when not ok


REGEX_TIMEOUT = 2.0  # seconds of matching per command: an author's pattern may backtrack
MAX_DIFF_LINES = 200  # printed and stored; more says how many were left out
DIFF_WINDOW = 2000  # actual lines compared around the first difference


class _TooSlow(Exception):
    def __init__(self, line: str) -> None:
        super().__init__(line)
        self.line = line


def _is_ellipsis(line: str) -> bool:
    return line.strip() == "..."


def _is_repeat(line: str) -> bool:
    return split_repeat(line)[1]


def _compile(line: str, caps: Mapping[str, str]) -> tuple[Pattern, dict[str, str]]:
    """A repeated line's captures are dropped: the parser lets it use only known values."""
    text, repeated = split_repeat(line)
    regex, groups = compile_line(text, caps)
    return regex, ({} if repeated else groups)


class _Solver:
    def __init__(
        self, expected: Sequence[str], actual: Sequence[str], rest: bool, time_limit: float
    ) -> None:
        self.expected = expected
        self.deadline = time.monotonic() + time_limit
        self.actual = actual
        self.rest = rest  # more actual lines may follow the last expected one (a prefix match)
        self.cache: dict[
            tuple[int, tuple[tuple[str, str], ...]], tuple[Pattern, dict[str, str]]
        ] = {}
        # Backtracking steps, so that pathological input cannot hang us.
        self.budget = 200_000 + 10 * len(actual)
        # After the last `...`, every remaining expected line matches exactly one actual line.
        self.repeat = [_is_repeat(line) for line in expected]
        last = [n for n, line in enumerate(expected) if _is_ellipsis(line)]
        self.last_ellipsis = last[-1] if last else -1
        if any(self.repeat[self.last_ellipsis + 1 :]):
            self.last_ellipsis = -2  # a repeated line after it: the tail has no fixed length

    def _regex(self, i: int, caps: dict[str, str]) -> tuple[Pattern, dict[str, str]]:
        key = (i, tuple(sorted(caps.items())))
        if key not in self.cache:
            self.cache[key] = _compile(self.expected[i], caps)
        return self.cache[key]

    def solve(
        self, i: int, j: int, caps: dict[str, str]
    ) -> tuple[dict[str, str], list[tuple[int, int]]] | None:
        elided: list[tuple[int, int]] = []
        while i < len(self.expected) and not self.repeat[i] and not _is_ellipsis(self.expected[i]):
            self.budget -= 1
            if j >= len(self.actual) or self.budget < 0:
                return None
            regex, groups = self._regex(i, caps)
            try:
                left = max(0.001, self.deadline - time.monotonic())
                found = regex.fullmatch(self.actual[j], timeout=left)
            except TimeoutError:
                raise _TooSlow(self.expected[i]) from None
            if found is None:
                return None
            if groups:
                caps = {**caps, **{name: found.group(g) for g, name in groups.items()}}
            i += 1
            j += 1
        if i == len(self.expected):
            return (caps, elided) if (j == len(self.actual) or self.rest) else None
        if self.repeat[i]:
            # As few lines of that shape as possible first, then more.
            regex, _ = self._regex(i, caps)
            k = j
            while True:
                self.budget -= 1
                if self.budget < 0:
                    return None
                found_rest = self.solve(i + 1, k, caps)
                if found_rest is not None:
                    return found_rest[0], elided + found_rest[1]
                if k >= len(self.actual):
                    return None
                try:
                    left = max(0.001, self.deadline - time.monotonic())
                    if regex.fullmatch(self.actual[k], timeout=left) is None:
                        return None
                except TimeoutError:
                    raise _TooSlow(self.expected[i]) from None
                k += 1
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
    time_limit: float = REGEX_TIMEOUT,
) -> MatchResult:
    """Match normalised `actual` output against the `expected` lines.

    Matching gives up after `time_limit` seconds (a pathological regular expression) and
    fails, naming the line."""
    known = dict(known or {})
    lines = _split(actual)
    try:
        if order_any:
            return _match_any_order(expected, lines, known, time_limit)
        solver = _Solver(expected, lines, rest=False, time_limit=time_limit)
        solved = solver.solve(0, 0, known)
    except _TooSlow as exc:
        return MatchResult(
            False,
            diff=f"matching gave up after {time_limit:g} s (of processor time) on the "
            f"expected line {exc.line!r}: its regular expression backtracks too much on "
            "this output; make it more specific (e.g. no nested repetition such as `(a|aa)+`)",
        )
    if solved is None:
        diff = render_diff(expected, lines, known, time_limit)
        if solver.budget < 0:
            diff = "(the search for a match gave up: too many ways to place `...`)\n" + diff
        return MatchResult(False, diff=diff)
    caps, elided = solved
    new = {k: v for k, v in caps.items() if k not in known}
    return MatchResult(True, new, merge_spans(elided))


def match_prefix(
    expected: Sequence[str],
    actual: str,
    known: Mapping[str, str] | None = None,
    *,
    time_limit: float = REGEX_TIMEOUT,
) -> bool:
    """Have the expected lines all appeared (more output may follow)? Used before sending a key.

    `actual` holds complete lines only: a line still being written is not yet evidence."""
    lines = _split(actual)
    solver = _Solver(expected, lines, rest=True, time_limit=time_limit)
    try:
        return solver.solve(0, 0, dict(known or {})) is not None
    except _TooSlow:
        return False  # not due yet; the command's own match says why


def _match_any_order(
    expected: Sequence[str], lines: list[str], known: dict[str, str], time_limit: float
) -> MatchResult:
    used: set[int] = set()
    caps = dict(known)
    deadline = time.monotonic() + time_limit
    missing: list[str] = []
    # Plain lines first (each takes one line, first fit), then repeated lines take the rest.
    ordered = [e for e in expected if not _is_repeat(e)] + [e for e in expected if _is_repeat(e)]
    for line in ordered:
        if _is_ellipsis(line):
            continue
        regex, groups = _compile(line, caps)
        repeated = _is_repeat(line)
        for j, actual in enumerate(lines):
            if j in used:
                continue
            try:
                found = regex.fullmatch(actual, timeout=max(0.001, deadline - time.monotonic()))
            except TimeoutError:
                raise _TooSlow(line) from None
            if found:
                used.add(j)
                caps.update({name: found.group(g) for g, name in groups.items()})
                if not repeated:
                    break
        else:
            if not repeated:
                missing.append(line)
    extra = [j for j in range(len(lines)) if j not in used]
    if missing or (extra and not any(_is_ellipsis(e) for e in expected)):
        return MatchResult(False, diff=_any_order_diff(lines, used, missing))
    spans = merge_spans([(j, j + 1) for j in extra])
    return MatchResult(True, {k: v for k, v in caps.items() if k not in known}, spans)


def _any_order_diff(lines: list[str], used: set[int], missing: list[str]) -> str:
    out = ["(order=any)"]
    out += [f"- no output line matches: {line}" for line in missing]
    for j, line in enumerate(lines):
        if j not in used:
            out.append(f"+ not expected: {line}")
    return _cap_diff(out)


def _cap_diff(lines: list[str]) -> str:
    if len(lines) <= MAX_DIFF_LINES:
        return "\n".join(lines)
    left = len(lines) - MAX_DIFF_LINES
    return "\n".join(
        [*lines[:MAX_DIFF_LINES], f"[… {left} more lines of diff not shown (at most "
         f"{MAX_DIFF_LINES} are) …]"]
    )  # fmt: skip


def render_diff(
    expected: Sequence[str],
    actual: Sequence[str],
    known: Mapping[str, str],
    time_limit: float = REGEX_TIMEOUT,
) -> str:
    """A unified diff in which expected lines that did match show as the actual text.

    Bounded: at most DIFF_WINDOW lines around the first difference are compared, and at most
    MAX_DIFF_LINES lines of diff are returned, whatever the size of the output."""
    rendered: list[str] = []
    caps = dict(known)
    j = 0
    pending = False
    deadline = time.monotonic() + time_limit

    def fits(regex: Pattern, k: int) -> bool:
        try:
            left = max(0.001, deadline - time.monotonic())
            return regex.fullmatch(actual[k], timeout=left) is not None
        except TimeoutError:
            return False

    for n, line in enumerate(expected):
        if _is_ellipsis(line):
            pending = True
            continue
        regex, groups = _compile(line, caps)
        if _is_repeat(line):
            while j < len(actual) and fits(regex, j):
                rendered.append(actual[j])
                j += 1
            continue
        hit = next((k for k in range(j, len(actual)) if fits(regex, k)), None)
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
    return _bounded_diff(rendered, list(actual))


def _bounded_diff(rendered: list[str], actual: list[str]) -> str:
    # Common head and tail are cheap to skip; difflib is then given a bounded window.
    head = 0
    while head < min(len(rendered), len(actual)) and rendered[head] == actual[head]:
        head += 1
    tail = 0
    while (
        tail < min(len(rendered), len(actual)) - head and rendered[-1 - tail] == actual[-1 - tail]
    ):
        tail += 1
    start = max(0, head - 3)
    a = rendered[start : len(rendered) - max(0, tail - 3)]
    b = actual[start : len(actual) - max(0, tail - 3)]
    notes = []
    if len(a) > DIFF_WINDOW or len(b) > DIFF_WINDOW:
        notes.append(
            f"(compared: {DIFF_WINDOW} lines from line {start + 1}; expected has "
            f"{len(rendered)} lines, the output {len(actual)})"
        )
        a, b = a[:DIFF_WINDOW], b[:DIFF_WINDOW]
    lines = list(difflib.unified_diff(a, b, "expected", "actual", lineterm="", n=3))
    if not lines:
        return "(the output differs only in ways the diff cannot show)"
    # Hunk headers count from the window: put them back in the output's numbering.
    if start:
        lines = [_shift_hunk(line, start) for line in lines]
    # The file headers (`--- expected`, `+++ actual`) come first: only hunks are explained.
    return _cap_diff(notes + lines[:2] + _explain_lookalikes(lines[2:]))


def _shift_hunk(line: str, offset: int) -> str:
    if not line.startswith("@@ "):
        return line
    parts = line.split(" ")
    for i in (1, 2):
        sign, rest = parts[i][0], parts[i][1:]
        first, _, count = rest.partition(",")
        parts[i] = f"{sign}{int(first) + offset}" + (f",{count}" if count else "")
    return " ".join(parts)


def _code_points(text: str) -> str:
    return " ".join(f"U+{ord(ch):04X}" for ch in text)


def _explain_lookalikes(lines: list[str]) -> list[str]:
    """Lines that look the same but differ in code points (NFC/NFD, no-break spaces,
    invisible characters): show which code points differ. `lines`: hunks, without the file
    headers (a removed line `--x` shows as `---x`)."""
    out: list[str] = []
    removed: list[str] = []
    added: list[str] = []

    def flush() -> None:
        for old, new in zip(removed, added, strict=False):
            if old != new and _looks_same(old, new):
                i = 0
                while i < min(len(old), len(new)) and old[i] == new[i]:
                    i += 1
                k = 0
                while k < min(len(old), len(new)) - i and old[-1 - k] == new[-1 - k]:
                    k += 1
                out.append(
                    f"  (these lines look alike but differ at column {i + 1}: expected "
                    f"{_code_points(old[i : len(old) - k]) or 'nothing'}, actual "
                    f"{_code_points(new[i : len(new) - k]) or 'nothing'})"
                )
        removed.clear()
        added.clear()

    for line in lines:
        if line.startswith("-"):
            if added:
                flush()
            removed.append(line[1:])
        elif line.startswith("+"):
            added.append(line[1:])
        else:
            flush()
        out.append(line)
    flush()
    return out


_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))


def _looks_same(a: str, b: str) -> bool:
    def shape(text: str) -> str:
        return unicodedata.normalize("NFKC", text).translate(_INVISIBLE)

    return shape(a) == shape(b)
