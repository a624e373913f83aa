"""The matcher in detail: results, elisions and the diffs authors read (fast, pure)."""

from __future__ import annotations

from runner.matcher import MatchResult, match, match_prefix, render_diff


def test_a_match_reports_new_captures_only() -> None:
    result = match(["{{ a }} {{ b }}"], "1 2", known={"a": "1"})
    assert result == MatchResult(True, {"b": "2"}, (), "")
    assert match(["x"], "x", known=None) == MatchResult(True)


def test_elided_spans() -> None:
    assert match(["a", "...", "z"], "a\nb\nc\nz").elided == ((1, 3),)
    assert match(["a", "...", "z"], "a\nz").elided == ()
    assert match(["...", "z"], "x\ny\nz").elided == ((0, 2),)
    assert match(["a", "..."], "a\nb\nc").elided == ((1, 3),)
    assert match(["..."], "").elided == () and match(["..."], "").ok
    # Two ellipses with a line between them: each stands for its own lines.
    both = match(["...", "m", "...", "z"], "a\nm\nb\nc\nz")
    assert both.ok and both.elided == ((0, 1), (2, 4))


def test_an_ellipsis_takes_as_few_lines_as_it_can() -> None:
    result = match(["...", "{{ x }}", "..."], "a\nb\nc")
    assert result.ok and result.captures == {"x": "a"} and result.elided == ((1, 3),)


def test_after_the_last_ellipsis_every_line_counts() -> None:
    assert match(["a", "...", "y", "z"], "a\nb\ny\nz").ok
    assert not match(["a", "...", "y", "z"], "a\nb\ny\nz\nextra").ok
    assert not match(["a", "...", "y", "z"], "a\nz").ok
    assert match(["...", "  ...  "], "a").ok  # an ellipsis line may be indented


def test_an_ellipsis_line_is_only_three_dots() -> None:
    assert not match(["....", "b"], "a\nb").ok
    assert match(["...."], "....").ok


def test_a_capture_across_an_ellipsis() -> None:
    result = match(["id {{ i }}", "...", "done {{ i }}"], "id 7\nx\ndone 7")
    assert result.ok and result.captures == {"i": "7"}
    assert not match(["id {{ i }}", "...", "done {{ i }}"], "id 7\nx\ndone 8").ok


def test_a_later_line_can_undo_an_earlier_choice() -> None:
    # The first `...` must not swallow the `m` the rest needs.
    assert match(["...", "m", "...", "m", "z"], "m\nm\nz").ok
    assert not match(["...", "m", "...", "m", "z"], "m\nz").ok


def test_prefix_matching_before_a_key() -> None:
    assert match_prefix(["a", "b"], "a\nb\nc")
    assert not match_prefix(["a", "b"], "a")
    assert not match_prefix(["a", "b"], "a\nc")
    assert match_prefix(["{{ x }}"], "v", known=None)
    assert match_prefix(["{{ x }}"], "v\nmore", {"x": "v"})
    assert not match_prefix(["{{ x }}"], "w", {"x": "v"})


def test_any_order_captures_and_elisions() -> None:
    result = match(["b {{ y }}", "a {{ x }}"], "a 1\nb 2", known={"z": "0"}, order_any=True)
    assert result.ok and result.captures == {"x": "1", "y": "2"} and result.elided == ()
    assert match(["{{ x }}", "{{ x }}"], "1\n1", order_any=True).captures == {"x": "1"}
    assert not match(["{{ x }}", "{{ x }}"], "1\n2", order_any=True).ok
    assert match(["b"], "b", known={"b": "x"}, order_any=True).captures == {}
    elided = match(["...", "b"], "a\nb\nc", order_any=True)
    assert elided.ok and elided.elided == ((0, 1), (2, 3))


def test_any_order_diffs_name_what_is_missing_and_what_is_extra() -> None:
    missing = match(["a", "q", "b"], "b\na\nc", order_any=True)
    assert not missing.ok
    # Every line it cannot place is listed, then every output line nothing matched.
    assert missing.diff == "(order=any)\n- no output line matches: q\n+ not expected: c"
    several = match(["a", "q", "b", "r"], "b\na\nc", order_any=True)
    assert several.diff == (
        "(order=any)\n- no output line matches: q\n- no output line matches: r\n+ not expected: c"
    )
    extra = match(["a"], "b\na\nc", order_any=True)
    assert extra.diff == "(order=any)\n+ not expected: b\n+ not expected: c"
    assert match([], "", order_any=True).ok
    assert match(["a", "b"], "", order_any=True).diff == (
        "(order=any)\n- no output line matches: a\n- no output line matches: b"
    )


def test_a_diff_shows_matched_lines_as_printed() -> None:
    diff = render_diff(["id {{ x }}", "name web", "status ok"], ["id 42", "name web", "bad"], {})
    assert diff.splitlines() == [
        "--- expected",
        "+++ actual",
        "@@ -1,3 +1,3 @@",
        " id 42",
        " name web",
        "-status ok",
        "+bad",
    ]


def test_a_diff_lets_an_ellipsis_stand_for_the_lines_it_can() -> None:
    diff = render_diff(["a", "...", "y", "z"], ["a", "b", "c", "y", "Z"], {})
    assert "-z" in diff.splitlines() and "+Z" in diff.splitlines()
    assert " b" in diff.splitlines() and " c" in diff.splitlines()  # folded lines are no change
    assert "-..." not in diff
    tail = render_diff(["a", "..."], ["b", "c"], {})
    assert tail.splitlines()[3:] == ["-a", " b", " c"]
    assert render_diff(["a", "...", "q"], ["a", "b"], {}).splitlines()[3:] == [" a", "-q", "+b"]


def test_a_diff_with_known_values_and_trailing_blanks() -> None:
    diff = render_diff(["t {{ t }}   "], ["t other"], {"t": "SWMTKN"})
    assert diff.splitlines()[3:] == ["-t {{ t }}", "+t other"]
    assert render_diff(["a"], ["a"], {}) == "(the output differs only in ways the diff cannot show)"


def test_a_match_failure_carries_the_diff() -> None:
    result = match(["one", "two"], "one\n2")
    assert not result.ok and result.captures == {} and result.elided == ()
    assert result.diff == render_diff(["one", "two"], ["one", "2"], {})


def test_a_search_that_gives_up_says_so() -> None:
    expected = ["...", "x"] * 30 + ["never"]
    result = match(expected, "\n".join("x" for _ in range(300)))
    assert result.diff.startswith(
        "(the search for a match gave up: too many ways to place `...`)\n"
    )
    assert not match(["...", "never"], "x\nx").diff.startswith("(the search")


def test_failures_are_plainly_false() -> None:
    assert match(["a"], "b").ok is False
    assert match(["a", "q"], "a", order_any=True).ok is False
    assert match(["a"], "a\nb", order_any=True).ok is False
    assert match(["a"], "a").ok is True


def test_a_non_breaking_space_is_no_blank() -> None:
    # French typography: `prix\u00a0:` is one word, never `prix :`.
    assert not match(["prix\u00a0: 3"], "prix : 3").ok
    assert not match(["prix : 3"], "prix\u00a0: 3").ok
    assert match(["prix\u00a0: 3"], "prix\u00a0:  3").ok


def test_diff_searches_forward_only() -> None:
    diff = render_diff(["a", "b", "a"], ["a", "b", "c"], {})
    assert diff.splitlines()[3:] == [" a", " b", "-a", "+c"]
    # An earlier line would match the last expected one: it is not taken again.
    diff = render_diff(["a [..]", "b", "a [..]"], ["a 1", "b", "c"], {})
    assert diff.splitlines()[3:] == [" a 1", " b", "-a [..]", "+c"]


def test_an_ellipsis_never_goes_back() -> None:
    assert not match_prefix(["a", "...", "a"], "a")
    assert not match(["a", "...", "a", "..."], "a").ok
    assert match(["a", "...", "a", "..."], "a\na").ok


def test_diff_gives_an_unmatched_ellipsis_what_the_remaining_lines_leave() -> None:
    diff = render_diff(["x", "...", "q", "r"], ["x", "1", "2", "3", "r"], {})
    assert diff.splitlines()[3:] == [" x", " 1", " 2", "-q", "+3", " r"]


def test_diff_after_a_matched_ellipsis_keeps_what_came_before() -> None:
    assert render_diff(["a", "...", "z"], ["a", "b", "z"], {}) == (
        "(the output differs only in ways the diff cannot show)"
    )
    diff = render_diff(["a", "b"], ["a", "c", "d"], {})
    assert diff.splitlines()[3:] == [" a", "-b", "+c", "+d"]


def test_diff_context_is_three_lines() -> None:
    same = [str(n) for n in range(8)]
    diff = render_diff([*same, "x"], [*same, "y"], {})
    assert diff.splitlines()[2:] == ["@@ -6,4 +6,4 @@", " 5", " 6", " 7", "-x", "+y"]
