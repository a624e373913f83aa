"""The matcher and the normaliser: pure functions, checked directly."""

from __future__ import annotations

from runner.matcher import match, match_prefix
from runner.normalise import normalise


def test_exact_and_empty() -> None:
    assert match(["a", "b"], "a\nb").ok
    assert match([], "").ok
    assert not match([], "surprise").ok
    assert not match(["a"], "").ok


def test_ellipsis_lines_and_within_line() -> None:
    result = match(["start", "...", "end [..] here"], "start\nx\ny\nend of it here")
    assert result.ok and result.elided == ((1, 3),)
    assert match(["...", "last"], "last").ok
    assert match(["first", "..."], "first").ok
    assert not match(["a [..] c"], "a b\nc").ok


def test_captures_flow_between_lines_and_from_known() -> None:
    result = match(["node ({{ id }})", "again {{ id }}"], "node (abc123)\nagain abc123")
    assert result.ok and result.captures == {"id": "abc123"}
    assert not match(["{{ id }}", "{{ id }}"], "a\nb").ok
    assert match(["token {{ t }}"], "token SWMTKN-1", known={"t": "SWMTKN-1"}).ok
    assert not match(["token {{ t }}"], "token other", known={"t": "SWMTKN-1"}).ok
    assert match(["token {{ t }}"], "token SWMTKN-1", known={"t": "SWMTKN-1"}).captures == {}


def test_regex_placeholders() -> None:
    result = match(["id {{ n /[0-9]+/ }} and {{ /[a-z]+/ }}"], "id 42 and abc")
    assert result.ok and result.captures == {"n": "42"}
    assert not match(["id {{ n /[0-9]+/ }}"], "id x42").ok
    # Author's own groups do not shift the captures.
    assert match(["{{ v /(a|b)+/ }}!"], "abba!").captures == {"v": "abba"}


def test_go_templates_are_literal() -> None:
    assert match(["{{.ID}} {{json .Spec}}"], "{{.ID}} {{json .Spec}}").ok
    assert not match(["{{.ID}}"], "abc").ok


def test_blank_runs_equal_any_blank_run() -> None:
    assert match(["ID   NAME   STATUS"], "ID NAME\tSTATUS").ok
    assert not match(["ID NAME"], "IDNAME").ok


def test_any_order() -> None:
    assert match(["b", "a"], "a\nb", order_any=True).ok
    assert not match(["b", "a"], "a\nb\nc", order_any=True).ok
    assert match(["b", "...", "a"], "a\nc\nb", order_any=True).ok
    spread = match(["...", "x"], "a\nb\nx\nc\nd", order_any=True)
    assert spread.ok and spread.elided == ((0, 2), (3, 5))  # one span per run of lines
    assert match(["...", "...", "z"], "a\nb\nz").elided == ((0, 2),)
    assert not match(["a", "a"], "a\nb", order_any=True).ok


def test_prefix_for_keys() -> None:
    assert match_prefix(["...", "[..]ready[..]"], "boot\nall ready now\nmore")
    assert not match_prefix(["...", "[..]ready[..]"], "boot\nall")
    assert match_prefix([], "")


def test_diff_shows_only_real_differences() -> None:
    result = match(["id {{ x }}", "...", "status: ok"], "id 7\nnoise\nstatus: failed")
    assert not result.ok
    assert "-status: ok" in result.diff and "+status: failed" in result.diff
    assert "-id {{ x }}" not in result.diff


def test_pathological_input_is_bounded() -> None:
    expected = ["...", "x"] * 30 + ["never"]
    assert not match(expected, "\n".join("x" for _ in range(300))).ok


def test_normalise() -> None:
    raw = (
        "\r\n\x1b[1;32mgreen\x1b[0m  \r\nprogress 10%\rprogress 100%\r\n"
        "\x1b]0;title\x07tail\r\n\r\n"
    )
    assert normalise(raw) == "green\nprogress 100%\ntail"
    assert normalise("") == ""
