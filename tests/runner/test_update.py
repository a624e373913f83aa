"""`verify --update`, the pure part: rewriting a chapter's expected output from what its
commands really printed, and checking the rewrite honestly."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from runner.notation import parse_chapter
from runner.update import Outcome, literal_line, recheck, recheck_source, rewrite

PATH = Path("ch.md")


def outcome(block: int, command: int, output: str, status: int = 0, ok: bool = False) -> Outcome:
    return Outcome(block, command, output, status, ok=ok, mismatch=not ok)


def passed(block: int, command: int, output: str, status: int = 0) -> Outcome:
    return outcome(block, command, output, status, ok=True)


def updated(text: str, *outcomes: Outcome) -> str:
    chapter = parse_chapter(PATH, text)
    by_key = {(o.block, o.command): o for o in outcomes}
    new = rewrite(chapter, by_key)
    assert recheck_source(PATH, new, by_key, frozenset()) == [], new
    return new


def test_only_the_failed_output_changes_prose_and_fences_are_kept() -> None:
    text = (
        "# Titre\n\nDu texte, *gardé*.\n\n"
        '```console title="Essai" session="a"\n$ printf \'one\\ntwo\\n\'  # comment\none\n2\n'
        "$ echo ok\nok\n```\n\nLa fin.\n"
    )
    new = updated(text, outcome(0, 0, "one\ntwo"), passed(0, 1, "ok"))
    assert new == text.replace("one\n2\n", "one\ntwo\n")


def test_lines_that_still_match_are_kept_as_written() -> None:
    text = (
        "```console\n$ cmd\nheader [..] x\n{{ id }} node-01\n...\nlast {{ /\\d+/ }}\n```\n"
        "```console\n$ echo {{ id }}\n{{ id }}\n```\n"
    )
    out = "header blah x\nabc123 node-01\nfiller\nnew line\nlast 42"
    new = updated(text, outcome(0, 0, out + "\nsurprise"), passed(1, 0, "abc123"))
    assert new.split("```")[1] == (
        "console\n$ cmd\nheader [..] x\n{{ id }} node-01\n...\nlast {{ /\\d+/ }}\nsurprise\n"
    )


def test_captured_values_are_written_back_as_their_names() -> None:
    text = (
        "```console\n$ docker swarm init\nSwarm initialized: current node ({{ node_id }}) is now "
        "a manager.\n```\n"
        "```console\n$ docker node ls\nID  HOSTNAME\n```\n"
    )
    new = updated(
        text,
        passed(0, 0, "Swarm initialized: current node (k3j2h1g0f9) is now a manager."),
        outcome(1, 0, "ID  HOSTNAME  STATUS\nk3j2h1g0f9 *  node-01  Ready"),
    )
    assert "ID  HOSTNAME  STATUS\n{{ node_id }} *  node-01  Ready\n```" in new
    assert "k3j2h1g0f9" not in new


def test_a_row_that_gained_a_column_keeps_its_captures() -> None:
    text = (
        "```console\n$ docker node ls\n"
        "ID                            HOSTNAME   STATUS    AVAILABILITY   MANAGER STATUS\n"
        "{{ id_01 }} *   node-01    Ready     Active         Leader\n"
        "{{ id_02 }}     node-02    [..]      Active\n```\n"
        "```console\n$ docker node inspect {{ id_02 }} -f '{{.ID}}'\n{{ id_02 }}\n```\n"
    )
    output = (
        "ID                            HOSTNAME   STATUS    AVAILABILITY   MANAGER STATUS   "
        "ENGINE VERSION\n"
        "k1k1k1k1k1k1 *   node-01    Ready     Active         Leader           20.10.5\n"
        "k2k2k2k2k2k2     node-02    Down      Active                          20.10.5"
    )
    new = updated(text, outcome(0, 0, output), passed(1, 0, "k2k2k2k2k2k2"))
    assert "{{ id_01 }} *   node-01    Ready     Active         Leader           20.10.5\n" in new
    assert "{{ id_02 }}     node-02    [..]      Active                          20.10.5\n" in new
    assert "k1k1" not in new and "k2k2" not in new


def test_order_any_keeps_every_line_that_still_finds_its_match() -> None:
    text = '```console order="any"\n$ ps\nweb.{{ /\\d/ }} Running\ndb Running\ngone Running\n```\n'
    new = updated(text, outcome(0, 0, "db Running\ncache Running\nweb.2 Running"))
    assert new == text.replace("gone Running\n", "cache Running\n")


def test_lines_joined_into_one_keep_what_still_fits() -> None:
    text = (
        "```console\n$ docker swarm init\nTo add a worker:\n\n"
        "    docker swarm join \\\n    --token SWMTKN-1-[..] \\\n    10.0.0.1:2377\n```\n"
    )
    output = "To add a worker:\n\n    docker swarm join --token SWMTKN-1-abc123 10.0.0.9:2377"
    new = updated(text, outcome(0, 0, output))
    assert "\n    docker swarm join --token SWMTKN-1-[..] 10.0.0.9:2377\n```" in new
    assert "abc123" not in new


def test_exit_status_is_added_changed_or_removed() -> None:
    text = "```console\n$ a\n$ b\n[2]\n$ c\n[1]\n```\n"
    new = updated(text, outcome(0, 0, "", 3), outcome(0, 1, "", 4), outcome(0, 2, "", 0))
    assert new == "```console\n$ a\n[3]\n$ b\n[4]\n$ c\n```\n"


def test_an_unchecked_block_gets_only_its_status_updated() -> None:
    text = "```console unchecked\n$ date\n$ (exit 2)\n[1]\n```\n"
    new = updated(text, passed(0, 0, "Sun Nov 29"), outcome(0, 1, "noise", 2))
    assert new == text.replace("[1]", "[2]")


def test_output_that_reads_as_notation_is_escaped() -> None:
    text = "```console\n$ cat notes\nx\n```\n"
    out = (
        "$ not a prompt\nroot@box:~# neither\n...\n[1]\n^C\nsome [..] text\n{{ not_a_capture }}\nok"
    )
    new = updated(text, outcome(0, 0, out))
    assert "\n$ not a prompt\n" not in new and "\n...\n" not in new


def test_a_block_in_an_admonition_keeps_its_indentation_and_crlf_stays() -> None:
    text = '!!! note "N"\n    ```console\n    $ echo a\n    b\n    ```\n\nText.\n'
    new = updated(text, outcome(0, 0, "a"))
    assert new == text.replace("    b\n", "    a\n")
    crlf = "```console\r\n$ echo a\r\nb\r\n```\r\n"
    assert updated(crlf, outcome(0, 0, "a")) == crlf.replace("b\r\n", "a\r\n")


def test_blank_lines_before_the_next_command_are_kept() -> None:
    text = "```console\n$ echo a\nb\n\n$ echo c\nc\n```\n"
    assert updated(text, outcome(0, 0, "a"), passed(0, 1, "c")) == text.replace("b\n", "a\n")


def test_a_key_stays_after_the_lines_it_waited_for() -> None:
    text = "```console\n$ tail -f log\nline 1\nready\n^C\n```\n"
    new = updated(text, Outcome(0, 0, "line 1\nready\nmore", None, ok=False, mismatch=True))
    assert new == "```console\n$ tail -f log\nline 1\nready\n^C\nmore\n```\n"


def test_a_custom_elision_marker_is_kept_and_literal_dots_escaped() -> None:
    text = '---\nverify:\n  elision: "...snip..."\n---\n```console\n$ seq\n1\n...snip...\n9\n```\n'
    # `...snip...` may stand for the new last line too: the smallest rewrite drops `9`.
    assert updated(text, outcome(0, 0, "1\n2\n8\n10")).endswith("$ seq\n1\n...snip...\n```\n")
    text = text.replace("1\n...snip...\n9", "0")
    new = updated(text, outcome(0, 0, "1\n...\n9"))
    assert new.endswith("$ seq\n1\n{{ /\\.\\.\\./ }}\n9\n```\n"), new


def test_recheck_says_what_would_still_fail() -> None:
    chapter = parse_chapter(PATH, "```console\n$ a\nx\n$ b\ny\n```\n")
    problems = recheck(chapter, {(0, 0): passed(0, 0, "x")}, frozenset())
    assert problems == ["ch.md:4: not run (blocked, or a capture was missing)"]
    timed_out = Outcome(0, 1, "y", None, ok=False, mismatch=False)
    problems = recheck(chapter, {(0, 0): passed(0, 0, "x"), (0, 1): timed_out}, frozenset())
    assert problems == ["ch.md:4: failed for another reason than its output"]


def test_short_values_are_not_written_back() -> None:
    assert literal_line("replicas 3/3", {"n": "3"}, "...", None) == "replicas 3/3"
    assert literal_line("id abcd1234.", {"i": "abcd1234"}, "...", None) == "id {{ i }}."


LINES = st.lists(
    st.sampled_from(
        ["a", "b", "$ x", "...", "[..]", "[1]", "^C", "{{ y }}", "{{", "x {{ * }}", "", "  c  d"]
    ),
    max_size=8,
)


@settings(max_examples=200, deadline=None)
@given(expected=LINES, actual=LINES)
def test_any_rewrite_matches_the_output_it_came_from(
    expected: list[str], actual: list[str]
) -> None:
    kept = [line for line in expected if line.strip() and line not in ("{{", "$ x", "[1]", "^C")]
    body = "".join(f"{line}\n" for line in kept)
    text = f"```console\n$ cmd\n{body}```\n"
    try:
        parse_chapter(PATH, text)
    except Exception:
        return  # not a valid chapter to start from
    output = "\n".join(line.rstrip() for line in actual).strip("\n")
    updated(text, outcome(0, 0, output))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=8), unique=True, max_size=40), st.integers(1, 9))
def test_shards_cover_the_book_once_and_are_balanced(keys: list[str], n: int) -> None:
    from runner.run.batch import shard

    slices = [shard(keys, lambda k: k, k, n) for k in range(1, n + 1)]
    assert sorted(key for part in slices for key in part) == sorted(keys)
    sizes = [len(part) for part in slices]
    assert max(sizes) - min(sizes) <= 1
    # Stable: the order the chapters were found in does not matter.
    assert [shard(list(reversed(keys)), lambda k: k, k, n) for k in range(1, n + 1)] == slices


def test_chapters_at_once_start_with_the_longest() -> None:
    from runner.run.batch import longest_first

    lasted = {"a": 10.0, "b": 130.0, "c": 40.0}
    order = longest_first(["a", "b", "c", "new", "d"], lambda k: k, {**lasted, "d": 40.0})
    assert order == ["new", "b", "c", "d", "a"]
