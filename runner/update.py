"""`verify --update`: rewrite the expected output of the commands that did not match (pure).

From what each command really printed (its whole output, not the copy results keep), the
expected lines of a failed command are aligned with the output: a line that still matches
(literal, `...`, `[..]`, `{{ name }}`, `{{ /RE/ }}`, `LINE {{ * }}`) is kept as written, a line
that matches nothing is dropped, and an output line no expected line covers is written in,
with the values the chapter captured written back as their `{{ name }}`. A changed exit status
updates `[N]`. Everything else (prose, commands, options, fences) is kept byte for byte.

`recheck` then matches every recorded output against the rewritten chapter, parsed again, so
that "a second plain verify would pass" is checked, not assumed.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from runner.matcher import match
from runner.model import Block, Chapter, Command
from runner.notation.errors import NotationError
from runner.notation.patterns import (
    Pattern,
    PatternError,
    Text,
    compile_line,
    matcher_line,
    split_repeat,
    tokenize,
)
from runner.notation.transcript import match_prompt

# Captured values shorter than this are not written back as `{{ name }}`: "3" or "ok" would
# replace text that only looks like them.
MIN_WRITTEN_BACK = 4
_STATUS = re.compile(r"\[\d{1,3}\]")
_INSERT, _DROP = 2, 3


@dataclass(frozen=True)
class Outcome:
    """What one command really did, in full: what `verify --update` rewrites from."""

    block: int  # index of the block in the chapter
    command: int  # index of the command in its block
    output: str  # normalised, whole
    status: int | None
    ok: bool  # the command passed
    mismatch: bool  # it failed only by its output or its exit status (rewritable)


Outcomes = Mapping[tuple[int, int], Outcome]


# --- aligning expected lines with the output -------------------------------------------------


@dataclass(frozen=True)
class _Step:
    kind: str  # "keep" (expected line kept), "drop", "insert" (an output line written in)
    i: int  # expected index (keep/drop)
    j: int  # output index (insert, or the line a kept line matched; -1 for none)


def _align(written: Sequence[str], lines: Sequence[str], known: Mapping[str, str]) -> list[_Step]:
    """The cheapest alignment: an output line written in costs 2, an expected line dropped 3
    (so that, of two equal rewrites, the one keeping the author's lines wins), a kept line,
    `...` or a repeated line absorbing output 0."""
    m, n = len(written), len(lines)
    patterns = []
    for text in written:
        body = split_repeat(text)[0]
        try:
            patterns.append(None if body.strip() == "..." else compile_line(body, known)[0])
        except PatternError:
            patterns.append(None)
    kinds = [
        "dots" if t.strip() == "..." else "repeat" if split_repeat(t)[1] else "line"
        for t in written
    ]
    cache: dict[tuple[int, int], bool] = {}

    def fits(i: int, j: int) -> bool:
        if (i, j) not in cache:
            pattern = patterns[i]
            cache[(i, j)] = pattern is not None and pattern.fullmatch(lines[j]) is not None
        return cache[(i, j)]

    inf = _DROP * (m + n + 1)
    cost = [[inf] * (n + 1) for _ in range(m + 1)]
    cost[m][n] = 0
    for i in range(m, -1, -1):
        for j in range(n, -1, -1):
            if i == m and j == n:
                continue
            best = inf
            if j < n:
                best = min(best, _INSERT + cost[i][j + 1])  # write the output line in
            if i < m:
                if kinds[i] in ("dots", "repeat"):
                    best = min(best, cost[i + 1][j])  # it stands for nothing more
                    if j < n and (kinds[i] == "dots" or fits(i, j)):
                        best = min(best, cost[i][j + 1])  # it stands for this line too
                else:
                    best = min(best, _DROP + cost[i + 1][j])  # drop the expected line
                    if j < n and fits(i, j):
                        best = min(best, cost[i + 1][j + 1])
            cost[i][j] = best
    steps: list[_Step] = []
    i = j = 0
    while i < m or j < n:
        here = cost[i][j]
        if i < m and kinds[i] == "line" and j < n and fits(i, j) and here == cost[i + 1][j + 1]:
            steps.append(_Step("keep", i, j))
            i, j = i + 1, j + 1
        elif (
            i < m
            and kinds[i] != "line"
            and j < n
            and (kinds[i] == "dots" or fits(i, j))
            and (here == cost[i][j + 1])
        ):
            j += 1  # absorbed
        elif i < m and kinds[i] != "line" and here == cost[i + 1][j]:
            steps.append(_Step("keep", i, -1))
            i += 1
        elif i < m and kinds[i] == "line" and here == _DROP + cost[i + 1][j]:
            steps.append(_Step("drop", i, -1))
            i += 1
        else:
            steps.append(_Step("insert", -1, j))
            j += 1
    return steps


def _align_any(
    written: Sequence[str], lines: Sequence[str], known: Mapping[str, str]
) -> list[_Step]:
    """For `order="any"`: each expected line kept if some output line is left for it (first
    fit, as the matcher does), the others dropped; output lines nothing took written in at
    the end, unless a `...` or a repeated line stands for them."""
    used: set[int] = set()
    steps: list[_Step] = []
    loose = False
    for i, text in enumerate(written):
        body, repeated = split_repeat(text)
        if body.strip() == "..." or repeated:
            loose = loose or body.strip() == "..."
            if repeated:
                try:
                    pattern = compile_line(body, known)[0]
                    used.update(
                        j
                        for j, line in enumerate(lines)
                        if j not in used and pattern.fullmatch(line)
                    )
                except PatternError:
                    pass
            steps.append(_Step("keep", i, -1))
            continue
        try:
            pattern = compile_line(body, known)[0]
        except PatternError:
            steps.append(_Step("drop", i, -1))
            continue
        hit = next(
            (j for j, line in enumerate(lines) if j not in used and pattern.fullmatch(line)), None
        )
        if hit is None:
            steps.append(_Step("drop", i, -1))
        else:
            used.add(hit)
            steps.append(_Step("keep", i, hit))
    if not loose:
        steps += [_Step("insert", -1, j) for j in range(len(lines)) if j not in used]
    return steps


# --- writing an output line in the notation ---------------------------------------------------


def _reads_as_notation(line: str, elision: str, prompt: str | None) -> bool:
    stripped = line.strip()
    if match_prompt(line, prompt) is not None or stripped in ("...", elision, "^C", "^D"):
        return True
    if _STATUS.fullmatch(stripped) or split_repeat(line)[1]:
        return True
    try:
        return not all(isinstance(piece, Text) for piece in tokenize(line))
    except PatternError:
        return True


def literal_line(line: str, values: Mapping[str, str], elision: str, prompt: str | None) -> str:
    """An output line as an expected line that matches it: captured values become their
    `{{ name }}`; text the notation would misread is escaped as a `{{ /REGEX/ }}`."""
    if _reads_as_notation(line, elision, prompt):
        lead = line[: len(line) - len(line.lstrip())]
        return f"{lead}{{{{ /{re.escape(line.strip())}/ }}}}"
    usable = {v: k for k, v in values.items() if len(v) >= MIN_WRITTEN_BACK and v.strip() == v}
    if not usable:
        return line
    pattern = re.compile(
        r"(?<![A-Za-z0-9_])("
        + "|".join(re.escape(v) for v in sorted(usable, key=len, reverse=True))
        + r")(?![A-Za-z0-9_])"
    )
    named = pattern.sub(lambda found: f"{{{{ {usable[found.group(1)]} }}}}", line)
    if _reads_as_notation(named.replace("{{", "").replace("}}", ""), elision, prompt):
        return line
    return named


# --- rewriting a chapter ---------------------------------------------------------------------


def _new_expected(
    command: Command, outcome: Outcome, known: dict[str, str], elision: str, block: Block
) -> list[str]:
    prompt = block.options.prompt
    written = [matcher_line(e.text, elision) for e in command.expected]
    lines = outcome.output.split("\n") if outcome.output else []
    steps = (_align_any if block.options.order_any else _align)(written, lines, known)
    caps = dict(known)
    out: list[str] = []
    key_at = 0  # how many new lines come before the key
    dropped: list[int] = []  # expected lines dropped since the last kept one
    for step in steps:
        if step.kind == "drop":
            dropped.append(step.i)
            continue
        if step.kind == "insert":
            merged = None
            if dropped:
                # A line replaced by another: keep what of it still fits, word by word (the
                # `{{ id }}` of a table row that gained a column); else what fits of the lines
                # dropped before it (one line now where there were three).
                olds = [command.expected[i].text for i in dropped]
                merged = _merge_words(olds[:1], lines[step.j], caps, elision, prompt)
                merged = merged or _merge_words(olds, lines[step.j], caps, elision, prompt)
                used = merged[1] if merged is not None else 1
                if dropped[used - 1] < command.expected_before_key:
                    key_at = len(out) + 1  # it stands where a line before the key stood
                del dropped[:used]
            text = merged[0] if merged is not None else None
            out.append(text or literal_line(lines[step.j], caps, elision, prompt))
            _learn_line(out[-1], lines[step.j], caps, elision)
            continue
        dropped.clear()
        out.append(command.expected[step.i].text)
        if step.j >= 0:
            _learn_line(written[step.i], lines[step.j], caps, elision)
        if step.i < command.expected_before_key:
            key_at = len(out)
    if not _matches(out, outcome.output, known, elision, block.options.order_any):
        # Kept lines that disagree with each other (one capture, two values): write the
        # output as it is, with only the values known before this command named.
        out = [literal_line(line, known, elision, prompt) for line in lines]
        key_at = min(command.expected_before_key, len(out))
    if command.key is not None:
        out.insert(key_at, command.key)
    return out + _new_status(command, outcome)


def _new_status(command: Command, outcome: Outcome) -> list[str]:
    """The `[N]` line the command should now end with (none for 0)."""
    want = command.status or 0
    status = command.status
    checked = command.checks_status or command.status is not None
    if outcome.status is not None and checked and outcome.status != want:
        status = outcome.status if outcome.status != 0 else None
    return [f"[{status}]"] if status is not None else []


_TOKEN = re.compile(r"(?:\{\{.*?\}\}|\S)+")


def _learn_line(written: str, line: str, caps: dict[str, str], elision: str) -> None:
    """Add to `caps` what an expected line captures from the output line it matches."""
    try:
        pattern, groups = compile_line(matcher_line(written, elision), caps)
    except PatternError:
        return
    found = pattern.fullmatch(line)
    if found is not None and groups and not split_repeat(written)[1]:
        caps.update({name: found.group(g) for g, name in groups.items()})


def _merge_words(
    olds: list[str], line: str, caps: dict[str, str], elision: str, prompt: str | None
) -> tuple[str, int] | None:
    """`line` written with the words of the old lines `olds` that still fit it (placeholders,
    `[..]`), and how many of `olds` it used up; None when no such word is worth keeping."""
    tokens: list[str] = []
    origin: list[int] = []
    for number, old in enumerate(olds):
        found = _TOKEN.findall(old)
        tokens += found
        origin += [number] * len(found)
    words = list(re.finditer(r"\S+", line))
    patterns: list[Pattern | None] = []
    plain: list[bool] = []
    for token in tokens:
        try:
            literal = all(isinstance(p, Text) for p in tokenize(token))
            pattern: Pattern | None = compile_line(token, caps)[0]
        except PatternError:
            literal, pattern = True, None
        plain.append(literal)
        patterns.append(pattern)
    m, n = len(tokens), len(words)
    best = [[0] * (n + 1) for _ in range(m + 1)]
    for i in range(m - 1, -1, -1):
        for j in range(n - 1, -1, -1):
            pattern = patterns[i]
            fit = pattern is not None and pattern.fullmatch(words[j].group()) is not None
            best[i][j] = max(best[i + 1][j], best[i][j + 1], 1 + best[i + 1][j + 1] if fit else 0)
    chosen: dict[int, str] = {}
    picked: set[int] = set()  # indexes of the tokens kept
    last = 0
    i = j = 0
    while i < m and j < n:
        pattern = patterns[i]
        fit = pattern is not None and pattern.fullmatch(words[j].group()) is not None
        if fit and best[i][j] == 1 + best[i + 1][j + 1]:
            chosen[j] = tokens[i]
            picked.add(i)
            last = origin[i]
            i, j = i + 1, j + 1
        elif best[i][j] == best[i + 1][j]:
            i += 1
        else:
            j += 1
    if all(plain[tokens.index(token)] for token in chosen.values()):
        return None  # nothing but literal words: the line as printed says the same
    if len(olds) > 1:
        # Lines joined into one: each old line it draws from must be there whole (a trailing
        # `\` aside), or a loose `{{ x }}` of one line would take a word of another.
        taken = [0] * (last + 1)
        for k in picked:
            taken[origin[k]] += 1
        for number in range(last + 1):
            wanted = [t for t in _TOKEN.findall(olds[number]) if t != "\\"]
            if taken[number] < len(wanted):
                return None
    pieces: list[str] = []
    pos = 0
    for k, word in enumerate(words):
        pieces.append(line[pos : word.start()])
        text = word.group()
        pieces.append(chosen.get(k, literal_line(text, caps, elision, None)))
        pos = word.end()
    pieces.append(line[pos:])
    merged = "".join(pieces)
    try:
        pattern, _ = compile_line(matcher_line(merged, elision), caps)
    except PatternError:
        return None
    stripped = merged.strip()
    if (
        match_prompt(merged, prompt) is not None
        or split_repeat(merged)[1]
        or stripped in ("...", elision, "^C", "^D")
        or _STATUS.fullmatch(stripped)
    ):
        return None
    return (merged, last + 1) if pattern.fullmatch(line) is not None else None


def _matches(
    written: list[str], output: str, known: dict[str, str], elision: str, order_any: bool
) -> bool:
    expected = [matcher_line(t, elision) for t in written]
    try:
        return match(expected, output, known, order_any=order_any).ok
    except PatternError:
        return False


def _region(block: Block, c: int, lines: list[str]) -> tuple[int, int]:
    """0-based [start, end) of the expected lines of command `c` of `block` in the source."""
    command = block.commands[c]
    start = command.loc.line - 1 + len(command.lines)
    if c + 1 < len(block.commands):
        end = block.commands[c + 1].loc.line - 1
    else:
        end = block.end_line - 1
        if end >= len(lines) or not lines[end].strip().startswith(("```", "~~~")):
            end = min(block.end_line, len(lines))  # an unclosed fence runs to the end
    while end > start and not lines[end - 1].strip():
        end -= 1  # blank lines before the next command stay as they are
    return start, end


def rewrite(chapter: Chapter, outcomes: Outcomes) -> str:
    """The chapter's source with the expected output of mismatched commands rewritten."""
    source = chapter.source
    lines = source.splitlines(keepends=True)
    bare = [line.rstrip("\r\n") for line in lines]
    known: dict[str, str] = {}
    edits: list[tuple[int, int, list[str]]] = []
    for block in chapter.blocks:
        if not block.verified:
            continue
        fence = bare[block.loc.line - 1]
        indent = fence[: len(fence) - len(fence.lstrip())]
        for c, command in enumerate(block.commands):
            outcome = outcomes.get((block.index, c))
            if outcome is None:
                continue
            if outcome.mismatch:
                new = (
                    _new_status(command, outcome)  # output not checked: only `[N]` changes
                    if block.options.unchecked
                    else _new_expected(command, outcome, known, chapter.elision, block)
                )
                start, end = _region(block, c, bare)
                newline = "\r\n" if lines[start - 1].endswith("\r\n") else "\n"
                edits.append((start, end, [indent + text + newline for text in new]))
                _learn(new, outcome, known, chapter.elision, block.options.order_any)
            else:
                written = [e.text for e in command.expected]
                _learn(written, outcome, known, chapter.elision, block.options.order_any)
    for start, end, new_lines in sorted(edits, reverse=True):
        lines[start:end] = new_lines
    return "".join(lines)


def _learn(
    written: list[str], outcome: Outcome, known: dict[str, str], elision: str, order_any: bool
) -> None:
    """Add what these expected lines capture from the output to `known`."""
    expected = [
        matcher_line(text, elision)
        for text in written
        if text.strip() not in ("^C", "^D") and not _STATUS.fullmatch(text.strip())
    ]
    try:
        found = match(expected, outcome.output, known, order_any=order_any)
    except PatternError:
        return
    if found.ok:
        known.update(found.captures)


# --- checking the rewrite honestly ------------------------------------------------------------


def recheck(chapter: Chapter, outcomes: Outcomes, skipped: frozenset[int]) -> list[str]:
    """Problems a plain verify of `chapter` would meet with the same outputs ([]: it passes).
    `skipped`: blocks the run skipped (requires=)."""
    problems: list[str] = []
    known: dict[str, str] = {}
    for block in chapter.blocks:
        if not block.verified or block.index in skipped:
            continue
        for c, command in enumerate(block.commands):
            outcome = outcomes.get((block.index, c))
            if outcome is None:
                problems.append(f"{command.loc}: not run (blocked, or a capture was missing)")
                continue
            if not outcome.ok and not outcome.mismatch:
                problems.append(f"{command.loc}: failed for another reason than its output")
                continue
            expected = [matcher_line(e.text, chapter.elision) for e in command.expected]
            if block.options.unchecked:
                expected = ["..."]
            try:
                found = match(expected, outcome.output, known, order_any=block.options.order_any)
            except PatternError as exc:
                problems.append(f"{command.loc}: {exc}")
                continue
            if not found.ok:
                problems.append(f"{command.loc}: the output still differs")
                continue
            known.update(found.captures)
            want = command.status or 0
            if command.checks_status and outcome.status != want:
                problems.append(f"{command.loc}: exit status {outcome.status}, expected {want}")
    return problems


def recheck_source(path: Path, text: str, outcomes: Outcomes, skipped: frozenset[int]) -> list[str]:
    """Parse the rewritten source again (as the next verify would) and recheck it."""
    from runner.notation import parse_chapter

    try:
        chapter = parse_chapter(path, text)
    except NotationError as exc:
        return [f"the rewritten chapter does not parse: {exc}"]
    return recheck(chapter, outcomes, skipped)


def unified_diff(path: Path, old: str, new: str) -> str:
    name = path.as_posix().lstrip("/")  # git's a/ and b/ prefixes, without a double slash
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True), new.splitlines(keepends=True), f"a/{name}", f"b/{name}"
        )
    )
