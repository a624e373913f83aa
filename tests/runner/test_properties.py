"""Property-based: random input never crashes the parser or the matcher."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runner.matcher import match
from runner.notation import NotationError, parse_chapter
from runner.notation.patterns import PatternError, tokenize

PIECES = st.sampled_from(
    [
        "$ ",
        "$ echo a",
        "docker@n:~$ ls",
        "/ # ",
        "...",
        "[..]",
        "{{",
        "}}",
        "{{ x }}",
        "{{ y /a+/ }}",
        "{{ /[/ }}",
        "[0]",
        "[1]",
        "^C",
        "^D",
        "> ",
        "\\",
        "<<EOF",
        "EOF",
        "'",
        '"',
        "```",
        "```console",
        '```console until="1"',
        "```console skip",
        '```console session="s"',
        "---",
        "verify:",
        "  lab: {nodes: 2}",
        "exit",
        "#",
        "# x",
        "\t",
        " ",
        "text",
        "{{.ID}}",
        "!!! note",
        '=== "Tab"',
        "    ",
        "{{ * }}",
        "[{{ x }}]$ ls",
        "<div>",
        "```console unchecked",
        "  elision: '...snip...'",
        "...snip...",
    ]
)
LINES = st.lists(st.lists(PIECES, max_size=4).map("".join), max_size=25).map("\n".join)


@settings(max_examples=400, deadline=None)
@given(LINES)
def test_parser_yields_a_chapter_or_a_located_error(text: str) -> None:
    try:
        chapter = parse_chapter(Path("random.md"), text)
    except NotationError as exc:
        assert str(exc).startswith("random.md:")
        assert 1 <= exc.loc.line <= max(1, text.count("\n") + 2)
    else:
        for block in chapter.blocks:
            assert 1 <= block.loc.line <= text.count("\n") + 1


@settings(max_examples=300, deadline=None)
@given(st.lists(PIECES, max_size=8), st.text(max_size=200))
def test_matcher_never_crashes(expected: list[str], actual: str) -> None:
    if all(_well_formed(line) for line in expected):
        result = match(expected, actual)
        assert result.ok or result.diff
    else:
        # A malformed pattern (the parser reports those before anything runs): that error and
        # no other, so that a matcher bug cannot hide behind it.
        with pytest.raises(PatternError):
            match(expected, actual)


def _well_formed(line: str) -> bool:
    try:
        tokenize(line)
    except PatternError:
        return False
    return True
