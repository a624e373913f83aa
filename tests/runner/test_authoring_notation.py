"""Notation for authors (issue 11): repeated lines, custom elision, prompts holding captured
values, `unchecked` blocks, images in front matter, and fences CommonMark does not see."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.matcher import match
from runner.notation import NotationError, parse_chapter
from runner.notation.containers import open_containers
from runner.notation.patterns import matcher_line


def parse(text: str):  # type: ignore[no-untyped-def]
    return parse_chapter(Path("ch.md"), text)


def error_of(text: str) -> NotationError:
    with pytest.raises(NotationError) as info:
        parse(text)
    return info.value


# --- zero or more lines of a shape ---------------------------------------------------------


def test_a_repeated_line_matches_zero_or_more_lines_of_its_shape() -> None:
    expected = ["NAME", "web.{{ /\\d/ }} Running {{ * }}", "end"]
    assert match(expected, "NAME\nend").ok
    assert match(expected, "NAME\nweb.1 Running\nend").ok
    assert match(expected, "NAME\nweb.1 Running\nweb.2 Running\nend").ok
    assert not match(expected, "NAME\nweb.1 Running\nweb.2 Preparing\nend").ok
    assert not match(expected, "NAME\nweb.1 Running").ok


def test_a_repeated_line_after_an_ellipsis_and_in_any_order() -> None:
    assert match(["...", "x{{ /\\d/ }} {{ * }}"], "a\nb\nx1\nx2").ok
    assert match(["...", "x{{ /\\d/ }} {{ * }}"], "a").ok
    any_order = match(["b", "x[..] {{ * }}"], "x1\nb\nx2", order_any=True)
    assert any_order.ok
    assert not match(["b", "x[..] {{ * }}"], "x1\nb\ny", order_any=True).ok


def test_a_repeated_line_cannot_capture() -> None:
    err = error_of("```console\n$ docker ps\n{{ id }} web {{ * }}\n```\n")
    assert err.loc.line == 3 and "cannot capture" in str(err)
    # a value captured earlier is fine
    parse("```console\n$ hostname\n{{ h }}\n$ ps\n{{ h }} x {{ * }}\n```\n")


# --- order="any" lists every missing line ----------------------------------------------------


def test_order_any_lists_every_line_that_found_no_match() -> None:
    result = match(["a", "b", "c", "d"], "a\nx\nc", order_any=True)
    assert not result.ok
    assert "- no output line matches: b" in result.diff
    assert "- no output line matches: d" in result.diff
    assert "+ not expected: x" in result.diff


# --- elision marker other than `...` --------------------------------------------------------


def test_a_chapter_declares_its_own_elision_marker() -> None:
    chapter = parse(
        '---\nverify:\n  elision: "...snip..."\n---\n```console\n$ seq 5\n1\n...snip...\n5\n```\n'
    )
    assert chapter.elision == "...snip..."
    lines = [matcher_line(e.text, chapter.elision) for e in chapter.blocks[0].commands[0].expected]
    assert lines == ["1", "...", "5"]
    assert match(lines, "1\n2\n3\n4\n5").ok
    # In such a chapter `...` is plain text.
    dots = [matcher_line(t, "...snip...") for t in ("a", "...", "b")]
    assert match(dots, "a\n...\nb").ok and not match(dots, "a\nx\ny\nb").ok


def test_a_bad_elision_marker_is_refused() -> None:
    err = error_of("---\nverify:\n  elision: ''\n---\n")
    assert "verify.elision" in str(err) and err.loc.line == 3  # the key's own line


# --- prompts that hold a captured value -----------------------------------------------------


def test_a_nested_prompt_may_hold_a_captured_value() -> None:
    (block,) = parse(
        "```console\n$ hostname\n{{ node }}\n$ bash\n[{{ node }}]$ echo hi\nhi\n"
        "[{{ node }}]$ exit\n```\n"
    ).blocks
    opener, inner, leave = block.commands[1:]
    assert opener.opens_shell == "[{{ node }}]$"
    assert inner.prompt == "[{{ node }}]$" and leave.closes_shell


def test_a_prompt_value_must_be_captured_first() -> None:
    err = error_of("```console\n$ bash\n[{{ node }}]$ echo hi\nhi\n```\n")
    assert err.loc.line == 3 and "prompt uses `{{ node }}`" in str(err)


# --- unchecked blocks -----------------------------------------------------------------------


def test_unchecked_is_a_flag_without_expected_output() -> None:
    (block,) = parse("```console unchecked\n$ date\n$ false\n[1]\n```\n").blocks
    assert block.options.unchecked and block.commands[1].status == 1
    err = error_of("```console unchecked\n$ date\nMon Jan 1\n```\n")
    assert err.loc.line == 3 and "unchecked" in str(err)


# --- images ---------------------------------------------------------------------------------


def test_images_are_declared_under_the_lab() -> None:
    chapter = parse(
        "---\nverify:\n  lab:\n    nodes: 1\n"
        "    images: {alpine: busybox, 'nginx:1.11': web}\n---\n"
    )
    assert chapter.lab is not None
    assert chapter.lab.images == (("alpine", "busybox"), ("nginx:1.11", "web"))
    err = error_of("---\nverify:\n  lab: {images: [alpine]}\n---\n")
    assert "verify.lab.images" in str(err)
    err = error_of("---\nverify:\n  lab: {images: {'Bad Name': busybox}}\n---\n")
    assert "not an image name" in str(err)


# --- fences CommonMark does not see ---------------------------------------------------------


_NESTED = "        ```console\n        $ echo in-note\n        in-note\n        ```\n"


@pytest.mark.parametrize(
    "text",
    [
        '!!! note "Titre"\n    ```console\n    $ echo in-note\n    in-note\n    ```\n',
        "!!! note\n\n    ```console\n    $ echo in-note\n    in-note\n    ```\n",
        '=== "Linux"\n    ```console\n    $ echo in-note\n    in-note\n    ```\n',
        '??? tip "Plus"\n    ```console\n    $ echo in-note\n    in-note\n    ```\n',
        "???+ tip\n    ```console\n    $ echo in-note\n    in-note\n    ```\n",
        '=== "A"\n    !!! note\n' + _NESTED,
        "- item\n\n    !!! note\n" + _NESTED,
    ],
    ids=["admonition", "admonition-blank", "tab", "details", "details-open", "nested", "list"],
)
def test_console_blocks_inside_material_containers_are_verified(text: str) -> None:
    (block,) = parse("# T\n\n" + text).blocks
    (command,) = block.commands
    assert command.text == "echo in-note" and [e.text for e in command.expected] == ["in-note"]
    where = next(n for n, line in enumerate(text.split("\n")) if "$ echo" in line)
    assert command.loc.line == 3 + where  # the file's own line numbers


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("Intro.\n    ```console\n    $ true\n    ```\n", 2),  # lazy paragraph continuation
        ("Intro.\n\n    ```console\n    $ true\n    ```\n", 3),  # indented code block
        ("<div>\n```console\n$ true\n```\n</div>\n", 2),  # an HTML block
        ("<div markdown>\n```console\n$ true\n```\n</div>\n", 2),  # md_in_html
        ("```{.console}\n$ true\n```\n", 1),  # superfences' attribute form
        ("``` Console\n$ true\n```\n", 1),  # not the language `console`
        ("> quote\n    ```console\n    $ true\n    ```\n", 2),  # lazy line of a quote
        ("Terme\n:   ```console\n    $ true\n    ```\n", 2),  # a definition list (def_list)
    ],
)
def test_a_console_fence_commonmark_does_not_see_is_refused(text: str, line: int) -> None:
    err = error_of(text)
    assert err.loc.line == line, str(err)
    assert "not seen as a fenced block" in str(err)


def test_fences_shown_inside_another_fence_or_a_comment_are_not_blocks() -> None:
    chapter = parse(
        "````markdown\n```console\n$ true\n```\n````\n\n<!--\n```console\n$ x\n```\n-->\n"
    )
    assert chapter.blocks == ()


def test_containers_keep_line_numbers_and_leave_other_text_alone() -> None:
    lines = ["!!! note", "    text", "", "    more", "after", "    code"]
    assert open_containers(lines) == ["", "text", "", "more", "after", "    code"]
