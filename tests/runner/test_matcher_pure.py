"""The matcher's search and its diffs (runner.matcher), called directly: exact results, exact
elided spans, exact diff text. Fast and pure."""

from __future__ import annotations

import difflib

import pytest

from runner.matcher import (
    DIFF_WINDOW,
    MAX_DIFF_LINES,
    MatchResult,
    _bounded_diff,
    _cap_diff,
    _explain_lookalikes,
    _shift_hunk,
    _Solver,
    match,
    match_prefix,
    render_diff,
)

HEAD = ["--- expected", "+++ actual"]


# --- the search ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expected", "actual", "elided"),
    [
        ([], "", ()),
        (["..."], "", ()),
        (["...", "..."], "a", ((0, 1),)),
        (["a", "..."], "a\nb\nc", ((1, 3),)),
        (["...", "a"], "b\nc\na", ((0, 2),)),
        (["a", "...", "b", "..."], "a\nx\nb\ny\nz", ((1, 2), (3, 5))),
        (["a", "...", "b", "...", "c"], "a\nb\nx\nc", ((2, 3),)),
        (["...", "b", "c"], "b\nc", ()),
        (["a", "...", "c"], "a\nb\nb\nc", ((1, 3),)),
        (["w {{ * }}"], "", ()),
        (["a", "w {{ * }}", "b"], "a\nw\nw\nb", ()),
        (["w {{ * }}", "..."], "w\nw\nx", ((0, 3),)),  # as few repeated lines as can be
        (["...", "w {{ * }}", "z"], "a\nw\nz", ((0, 1),)),
        (["...", "w {{ * }}"], "a\nw\nw", ((0, 1),)),
        (["x", "...", "w {{ * }}", "y"], "x\nq\nw\ny", ((1, 2),)),
    ],
)
def test_matches_and_what_the_ellipses_stood_for(
    expected: list[str], actual: str, elided: tuple[tuple[int, int], ...]
) -> None:
    assert match(expected, actual) == MatchResult(True, {}, elided, "")


@pytest.mark.parametrize(
    ("expected", "actual"),
    [
        ([], "a"),
        (["a"], ""),
        (["a"], "a\nb"),
        (["a", "b"], "a"),
        (["a", "...", "b"], "a\nx"),
        (["...", "a", "b"], "a"),
        (["a", "..."], "b"),
        (["w {{ * }}"], "w\nx"),
        (["w {{ * }}", "z"], "w\nw"),
        (["a", "w {{ * }}"], "a\nw\nq"),
        (["...", "w {{ * }}", "z"], "a\nw\nq"),
        (["{{ n }}", "{{ n }}"], "1\n2"),
    ],
)
def test_mismatches(expected: list[str], actual: str) -> None:
    result = match(expected, actual)
    assert result.ok is False and result.captures == {} and result.elided == ()
    assert result.diff.startswith("--- expected\n+++ actual\n@@ ")


def test_captures() -> None:
    assert match(["{{ x }} {{ y }}"], "a b").captures == {"x": "a", "y": "b"}
    assert match(["{{ n }}", "...", "{{ n }}"], "1\n2\n1") == MatchResult(
        True, {"n": "1"}, ((1, 2),)
    )
    # a value known before is not new; it must match what it was
    assert match(["{{ n }} {{ m }}"], "1 2", known={"n": "1"}).captures == {"m": "2"}
    assert not match(["{{ n }}"], "2", known={"n": "1"}).ok
    # a repeated line captures nothing, even where its pattern could
    assert match(["{{ /a+/ }} {{ * }}"], "a\naa").captures == {}
    # an ellipsis then a capture: the capture is what the placed line holds
    assert match(["...", "id {{ i }}"], "x\nid 7").captures == {"i": "7"}


def test_prefix_matches() -> None:
    assert match_prefix(["a"], "a\nb")
    assert match_prefix([], "x")
    assert match_prefix(["a", "..."], "a")
    assert match_prefix(["...", "b"], "a\nb\nc")
    assert match_prefix(["a", "w {{ * }}"], "a\nw\nq")
    assert not match_prefix(["a", "b"], "a")
    assert not match_prefix(["a"], "")
    assert not match_prefix(["{{ x }}"], "w", {"x": "v"})
    assert match_prefix(["{{ x }}"], "v", {"x": "v"})
    assert match_prefix(["{{ x }}"], "v", {"x": "v"}, time_limit=0.5)


def test_the_solver_knows_where_the_last_ellipsis_is() -> None:
    assert _Solver(["a", "...", "b", "...", "c"], [], False, 1.0).last_ellipsis == 3
    assert _Solver(["a"], [], False, 1.0).last_ellipsis == -1
    # a repeated line after it: the tail has no fixed length
    assert _Solver(["...", "w {{ * }}"], [], False, 1.0).last_ellipsis == -2
    assert _Solver(["w {{ * }}", "..."], [], False, 1.0).last_ellipsis == 1
    assert _Solver(["a"], ["x"] * 10, False, 1.0).budget == 200_100


def test_a_search_out_of_steps_fails() -> None:
    solver = _Solver(["a", "b"], ["a", "b"], False, 1.0)
    solver.budget = 1
    assert solver.solve(0, 0, {}) is None
    solver = _Solver(["a", "b"], ["a", "b"], False, 1.0)
    solver.budget = 2
    assert solver.solve(0, 0, {}) == ({}, [])
    repeated = _Solver(["w {{ * }}"], ["w"], False, 1.0)
    repeated.budget = 0
    assert repeated.solve(0, 0, {}) is None
    dots = _Solver(["...", "a"], ["x", "a"], True, 1.0)
    dots.budget = 1
    assert dots.solve(0, 0, {}) is None
    dots = _Solver(["...", "a"], ["x", "a"], True, 1.0)
    dots.budget = 4
    assert dots.solve(0, 0, {}) == ({}, [(0, 1)])


def test_a_match_that_gives_up_says_why() -> None:
    slow = match(["{{ /(a|aa)+b/ }}"], "a" * 40, time_limit=0.01)
    assert slow == MatchResult(
        False,
        diff="matching gave up after 0.01 s (of processor time) on the expected line "
        "'{{ /(a|aa)+b/ }}': its regular expression backtracks too much on this output; make it "
        "more specific (e.g. no nested repetition such as `(a|aa)+`)",
    )
    in_any_order = match(
        ["x", "{{ /(a|aa)+b/ }}"], "x\n" + "a" * 40, order_any=True, time_limit=0.01
    )
    assert in_any_order == slow
    # before a key: not there yet (the command's own match will say why)
    assert match_prefix(["{{ /(a|aa)+b/ }}"], "a" * 40, time_limit=0.01) is False


# --- diffs ---------------------------------------------------------------------------------


def test_diff_of_nothing_against_something() -> None:
    assert match([], "a").diff == "--- expected\n+++ actual\n@@ -0,0 +1 @@\n+a"
    assert match(["a"], "").diff == "--- expected\n+++ actual\n@@ -1 +0,0 @@\n-a"


def test_diff_of_repeated_lines_shows_those_that_fit_as_printed() -> None:
    diff = render_diff(["a", "w{{ /\\d/ }} {{ * }}", "z"], ["a", "w1", "w2", "q"], {})
    assert diff.splitlines() == [*HEAD, "@@ -1,4 +1,4 @@", " a", " w1", " w2", "-z", "+q"]


def test_diff_of_an_ellipsis_before_a_line_found_later() -> None:
    diff = render_diff(["a", "...", "z", "q"], ["a", "b", "c", "z", "r"], {})
    assert diff.splitlines() == [*HEAD, "@@ -2,4 +2,4 @@", " b", " c", " z", "-q", "+r"]
    # an ellipsis with nothing after it takes every line left
    assert render_diff(["x", "..."], ["y", "b"], {}).splitlines() == [
        *HEAD,
        "@@ -1,3 +1,2 @@",
        "-x",
        " y",
        " b",
    ]


def test_diff_captures_feed_later_lines() -> None:
    diff = render_diff(["{{ n }}", "{{ n }}", "x"], ["1", "1", "y"], {})
    assert diff.splitlines()[2:] == ["@@ -1,3 +1,3 @@", " 1", " 1", "-x", "+y"]
    diff = render_diff(["{{ n }}", "{{ n }}"], ["1", "2"], {})
    assert diff.splitlines()[2:] == ["@@ -1,2 +1,2 @@", " 1", "-{{ n }}", "+2"]


def test_diff_hunks_count_from_the_output_start() -> None:
    same = [f"l{n}" for n in range(20)]
    diff = render_diff([*same, "x", *same], [*same, "y", *same], {})
    assert diff.splitlines() == [
        *HEAD,
        "@@ -18,7 +18,7 @@",
        " l17",
        " l18",
        " l19",
        "-x",
        "+y",
        " l0",
        " l1",
        " l2",
    ]


def test_a_long_output_is_compared_in_a_window() -> None:
    actual = [f"x{n}" for n in range(DIFF_WINDOW + 500)]
    lines = _bounded_diff(["q"], actual).splitlines()
    assert lines[0] == (
        f"(compared: {DIFF_WINDOW} lines from line 1; expected has 1 lines, the output "
        f"{DIFF_WINDOW + 500})"
    )
    assert lines[1:5] == [*HEAD, f"@@ -1 +1,{DIFF_WINDOW} @@", "-q"]
    assert len(lines) == MAX_DIFF_LINES + 1
    assert lines[-1] == (
        f"[… {DIFF_WINDOW + 5 - MAX_DIFF_LINES} more lines of diff not shown (at most "
        f"{MAX_DIFF_LINES} are) …]"
    )
    # the window starts three lines before the first difference, and its hunks say so
    head = ["a", "b", "c", "d", "e"]
    lines = _bounded_diff(
        [*head, "q", "t"], [*head, *(f"y{n}" for n in range(2100)), "t"]
    ).splitlines()
    assert lines[0] == "(compared: 2000 lines from line 3; expected has 7 lines, the output 2106)"
    assert lines[1:7] == [*HEAD, "@@ -3,5 +3,2000 @@", " c", " d", " e"]
    # within the window, on either side: no note
    short = _bounded_diff(["q"], [f"x{n}" for n in range(DIFF_WINDOW)]).splitlines()
    assert short[:3] == [*HEAD, f"@@ -1 +1,{DIFF_WINDOW} @@"]
    short = _bounded_diff([f"x{n}" for n in range(DIFF_WINDOW)], ["q"]).splitlines()
    assert short[:3] == [*HEAD, f"@@ -1,{DIFF_WINDOW} +1 @@"]


def test_a_common_tail_is_kept_as_three_lines_of_context() -> None:
    tail = [f"t{n}" for n in range(10)]
    lines = _bounded_diff(["a", *tail], ["b", *tail]).splitlines()
    assert lines == [*HEAD, "@@ -1,4 +1,4 @@", "-a", "+b", " t0", " t1", " t2"]
    assert _bounded_diff(["a", "b"], ["a", "b"]) == (
        "(the output differs only in ways the diff cannot show)"
    )
    assert _bounded_diff(["a", "b", "c"], ["a", "c"]).splitlines() == [
        *HEAD,
        "@@ -1,3 +1,2 @@",
        " a",
        "-b",
        " c",
    ]


def test_hunk_headers_shifted() -> None:
    assert _shift_hunk("@@ -1,3 +1,4 @@", 10) == "@@ -11,3 +11,4 @@"
    assert _shift_hunk("@@ -1 +2 @@", 5) == "@@ -6 +7 @@"
    assert _shift_hunk("@@ -0,0 +1 @@", 2) == "@@ -2,0 +3 @@"
    assert _shift_hunk(" @@ -1 +1 @@", 5) == " @@ -1 +1 @@"
    assert _shift_hunk("-a", 5) == "-a"


def test_diffs_are_capped() -> None:
    lines = [str(n) for n in range(MAX_DIFF_LINES)]
    assert _cap_diff(lines) == "\n".join(lines)
    capped = _cap_diff([*lines, "x", "y"]).split("\n")
    assert capped == [*lines, "[… 2 more lines of diff not shown (at most 200 are) …]"]


# --- lines that look alike -----------------------------------------------------------------


def test_lookalike_lines_name_the_code_points() -> None:
    assert render_diff(["prix\u00a0: 3"], ["prix : 3"], {}).splitlines()[3:] == [
        "-prix\u00a0: 3",
        "+prix : 3",
        "  (these lines look alike but differ at column 5: expected U+00A0, actual U+0020)",
    ]
    assert render_diff(["caf\u00e9"], ["cafe\u0301"], {}).splitlines()[5] == (
        "  (these lines look alike but differ at column 4: expected U+00E9, actual U+0065 U+0301)"
    )
    assert render_diff(["ab"], ["a\u200bb"], {}).splitlines()[5] == (
        "  (these lines look alike but differ at column 2: expected nothing, actual U+200B)"
    )
    assert render_diff(["x\u00ad"], ["x"], {}).splitlines()[5] == (
        "  (these lines look alike but differ at column 2: expected U+00AD, actual nothing)"
    )


def test_lookalikes_pair_removed_and_added_lines_in_order() -> None:
    out = _explain_lookalikes(["@@ -1,2 +1,2 @@", "-a b", "-x\u00a0y", "+a\u00a0b", "+x y", " z"])
    assert out == [
        "@@ -1,2 +1,2 @@",
        "-a b",
        "-x\u00a0y",
        "+a\u00a0b",
        "+x y",
        "  (these lines look alike but differ at column 2: expected U+0020, actual U+00A0)",
        "  (these lines look alike but differ at column 2: expected U+00A0, actual U+0020)",
        " z",
    ]
    # a removed line after added ones starts a new pairing
    out = _explain_lookalikes(["-a", "+b", "-c\u00a0", "+c "])
    assert out == [
        "-a",
        "+b",
        "-c\u00a0",
        "+c ",
        "  (these lines look alike but differ at column 2: expected U+00A0, actual U+0020)",
    ]
    # lines that differ visibly get no note
    assert _explain_lookalikes(["-a", "+b", "-q"]) == ["-a", "+b", "-q"]
    assert _explain_lookalikes(["-same", "+same"]) == ["-same", "+same"]


@pytest.mark.parametrize(
    ("rendered", "actual"),
    [
        (["a", "s1", "s2", "s3", "s4", "x"], ["b", "s1", "s2", "s3", "s4", "y"]),
        (["p", "q", "r", "s", "t"], ["1", "2", "3", "4", "5"]),
        (["a", "b", "c", "d", "x", "s"], ["A", "b", "c", "d", "y", "s"]),
        (["Q", "r", "e", "w", "q", "L"], ["q", "w", "e", "r", "z", "L"]),
        (["h1", "h2", "h3", "h4", "h5", "x", "t"], ["h1", "h2", "h3", "h4", "h5", "y", "t"]),
        # two hunks, three lines of context each
        (["a", *(f"s{n}" for n in range(9)), "b"], ["A", *(f"s{n}" for n in range(9)), "B"]),
    ],
)
def test_a_short_diff_is_the_plain_unified_diff(rendered: list[str], actual: list[str]) -> None:
    plain = difflib.unified_diff(rendered, actual, "expected", "actual", lineterm="", n=3)
    assert _bounded_diff(rendered, actual) == "\n".join(plain)


def test_a_diff_with_a_pattern_too_slow_to_try_shows_it_unmatched() -> None:
    diff = render_diff(["x", "{{ /(a|aa)+b/ }}"], ["x", "a" * 40], {}, time_limit=0.01)
    assert diff.splitlines()[2:] == ["@@ -1,2 +1,2 @@", " x", "-{{ /(a|aa)+b/ }}", "+" + "a" * 40]


def test_lookalikes_at_the_edges_of_a_line() -> None:
    assert render_diff(["\u00a0a"], [" a"], {}).splitlines()[5] == (
        "  (these lines look alike but differ at column 1: expected U+00A0, actual U+0020)"
    )
    assert render_diff(["a\u200b"], ["a\u200b\u200b"], {}).splitlines()[5] == (
        "  (these lines look alike but differ at column 3: expected nothing, actual U+200B)"
    )
    # a line that starts with `--` or `++` is a line like any other
    assert render_diff(["--\u00a0x"], ["-- x"], {}).splitlines()[3:] == [
        "---\u00a0x",
        "+-- x",
        "  (these lines look alike but differ at column 3: expected U+00A0, actual U+0020)",
    ]
    assert render_diff(["++ x"], ["++\u00a0x"], {}).splitlines()[5] == (
        "  (these lines look alike but differ at column 3: expected U+0020, actual U+00A0)"
    )


def test_a_search_with_exactly_enough_steps_succeeds() -> None:
    dots = _Solver(["..."], ["x"], False, 1.0)
    dots.budget = 1
    assert dots.solve(0, 0, {}) == ({}, [(0, 1)])
    repeated = _Solver(["w {{ * }}"], [], False, 1.0)
    repeated.budget = 1
    assert repeated.solve(0, 0, {}) == ({}, [])
    # an ellipsis that stands for no line leaves no span
    assert _Solver(["...", "a"], ["a"], False, 1.0).solve(0, 0, {}) == ({}, [])
    assert _Solver(["a", "...", "b"], ["a", "b"], True, 1.0).solve(0, 0, {}) == ({}, [])


def test_a_repeated_line_too_slow_to_try_gives_up() -> None:
    slow = match(["{{ /(a|aa)+b/ }} {{ * }}"], "a" * 40, time_limit=0.01)
    assert slow.diff.startswith(
        "matching gave up after 0.01 s (of processor time) on the expected line "
        "'{{ /(a|aa)+b/ }} {{ * }}'"
    )


def test_a_repeated_line_captures_nothing_in_any_order() -> None:
    assert match(["{{ x }} {{ * }}"], "a\nb", order_any=True) == MatchResult(True, {}, ())
