"""The chapter parser (runner.notation.chapter) and its helpers (containers, engine bounds,
elision markers), called directly on strings: whole messages with `file:line`, exact parsed
values. Fast and pure."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.matcher import match
from runner.model import Chapter, Location, StartsFrom
from runner.notation import NotationError, parse_chapter
from runner.notation.containers import _dedent, _width, open_containers
from runner.notation.options import parse_engines
from runner.notation.patterns import (
    LITERAL_DOTS,
    Anything,
    Placeholder,
    Text,
    matcher_line,
    tokenize,
)
from runner.notation.transcript import match_prompt

PATH = Path("ch.md")


def parse(text: str) -> Chapter:
    return parse_chapter(PATH, text)


def refusal(text: str) -> str:
    with pytest.raises(NotationError) as info:
        parse(text)
    return str(info.value)


# --- refusals, whole -----------------------------------------------------------------------

UNSEEN = (
    "this console block is not seen as a fenced block (it follows a paragraph line without a "
    "blank line, sits in an HTML block, an indented code block or a definition list, or is "
    "not written ```console): it would be published unverified; put a blank line before it, "
    "move it out, or write ```console"
)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "```console hidden\n$ ls\n$ rm -f f\n```\n",
            "ch.md:3: a hidden block may only check or wait: this command changes what the "
            "reader has (files, machines, the cluster, the shell). Show it (remove `hidden`), "
            "or let the chapter start from one that does it (verify: {starts-from: ...})",
        ),
        (
            "```console unchecked\n$ date\n\nlundi\n```\n",
            "ch.md:4: an `unchecked` block has no expected output (only `[N]`): remove these "
            "lines, or the option",
        ),
        (
            "```console\n$ ls\n... {{ * }}\n```\n",
            "ch.md:3: `...` cannot be repeated: it already stands for any lines",
        ),
        (
            "---\nverify: {elision: '[snip]'}\n---\n```console\n$ ls\n[snip] {{ * }}\n```\n",
            "ch.md:6: `[snip]` cannot be repeated: it already stands for any lines",
        ),
        (
            "```console\n$ ls\na\nb {{ /[/ }}\n```\n",
            "ch.md:4: bad regular expression /[/: unterminated character set at position 1",
        ),
        (
            "```console\n$ echo a \\\n> b \\\n> {{ /x/ }}\n```\n",
            "ch.md:2: a command can use a captured value, `{{ name }}`, not a regular expression",
        ),
        (
            "```console\n$ echo a \\\n> {{ a\n```\n",
            "ch.md:3: `{{` is never closed on this line (write `}}`)",
        ),
        (
            "```console\n$ echo a \\\n> " + "x" * 4001 + "\n```\n",
            "ch.md:3: a command line longer than 4000 bytes is cut by the terminal; split it with "
            "`\\` at the end of a line",
        ),
        (
            "```console\n$ ssh a\n{{ h }}@a$ ls\n```\n",
            "ch.md:3: the prompt uses `{{ h }}`, which no earlier output captures; capture it "
            "first (e.g. from `hostname`)",
        ),
        (
            "```console\n$ echo a\n$ echo b \\\n> {{ v }}\n```\n",
            "ch.md:4: `{{ v }}` is used in a command but no earlier output captures it; capture "
            "it in an expected line first",
        ),
        (
            "```console\n$ ps\n{{ id }} web {{ * }}\n```\n",
            "ch.md:3: a repeated line (`{{ * }}`) cannot capture (which of its lines would it "
            "keep?): use `{{ /REGEX/ }}`, or a value captured earlier",
        ),
        (
            "```console\n$ ssh a\nu@a$ exit\n```\n\n```console\nu@a$ ls\n```\n",
            "ch.md:7: this command is typed at the prompt 'u@a$' but the session 'main' is at "
            "'$' here (a nested shell is opened by the command before its first prompt, and "
            "left with `exit`)",
        ),
        (
            "```console\n```\n",
            "ch.md:1: empty console block: write `$ command` lines, or remove it",
        ),
        ("Texte\n    ```console\n    $ ls\n    ```\n", "ch.md:2: " + UNSEEN),
        ("```{.console}\n$ ls\n```\n", "ch.md:1: " + UNSEEN),
        ("Intro.\n\n~~~ console\n$ ls\n~~~\n\n    ~~~console\n", "ch.md:7: " + UNSEEN),
        ("<!-- a -->\n\n<div>\n```console\n$ ls\n```\n</div>\n", "ch.md:4: " + UNSEEN),
        ("Texte\n    ```console\n    $ ls\n    ```\n\n<!-- c -->\n", "ch.md:2: " + UNSEEN),
    ],
)
def test_refusals(text: str, message: str) -> None:
    assert refusal(text) == message


def test_with_its_own_elision_marker_a_chapter_may_repeat_literal_dots() -> None:
    chapter = parse(
        "---\nverify: {elision: '[snip]'}\n---\n```console\n$ ls\na\n... {{ * }}\n```\n"
    )
    command = chapter.blocks[0].commands[0]
    assert [e.text for e in command.expected] == ["a", "... {{ * }}"]
    lines = [matcher_line(e.text, chapter.elision) for e in command.expected]
    assert match(lines, "a\n...\n...").ok and match(lines, "a").ok
    assert not match(lines, "a\nb").ok


def test_a_hidden_block_judges_a_continued_command_whole() -> None:
    (block,) = parse("```console hidden\n$ docker \\\n> node ls\n```\n").blocks
    assert block.commands[0].lines == ("docker \\", "node ls")


def test_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "c.md"
    path.write_bytes(b"# T\n\xff\n")
    with pytest.raises(NotationError) as info:
        parse_chapter(path)
    assert info.value.loc == Location(path, 1)
    assert info.value.message.startswith("not UTF-8 text: 'utf-8' codec can't decode byte 0xff")


def test_a_file_is_read_when_no_text_is_given(tmp_path: Path) -> None:
    path = tmp_path / "c.md"
    path.write_text("# Titre\n\n```console\n$ ls\n```\n", encoding="utf-8")
    chapter = parse_chapter(path)
    assert chapter.path == path and chapter.title == "Titre" and len(chapter.blocks) == 1


# --- what a chapter gives ------------------------------------------------------------------


def test_titles() -> None:
    assert parse("# Un\n\n# Deux\n").title == "Un"
    assert parse("Texte.\n\n# Un\n").title == "Un"
    assert parse("#\n\n# Deux\n").title == "Deux"  # an empty title is no title
    assert parse("## Section\n").title is None
    assert parse("---\ntitle: FM\n---\n# Un\n").title == "FM"
    assert parse("---\ntitle: 3\n---\n# Un\n").title == "Un"  # not text: the heading's
    assert parse("---\ntitle: FM\n---\n").front_matter == {"title": "FM"}


def test_only_console_fences_are_blocks_and_they_keep_their_lines() -> None:
    chapter = parse(
        "---\ntitle: T\n---\n\n```bash\n$ ls\n```\n\n```console\n$ ls\na\n```\n\n"
        '~~~console  session="s"  \n$ echo b\nb\n~~~\n\n```consoles\n$ x\n```\n'
    )
    first, second = chapter.blocks
    assert (first.index, first.loc, first.end_line) == (0, Location(PATH, 9), 12)
    assert first.source == "$ ls\na\n" and first.info == "console"
    assert first.commands[0].loc == Location(PATH, 10)
    assert [e.loc.line for e in first.commands[0].expected] == [11]
    assert (second.index, second.loc, second.end_line) == (1, Location(PATH, 14), 17)
    assert second.info == 'console  session="s"' and second.options.session == "s"


def test_the_front_matter_gives_the_chapter_its_settings() -> None:
    chapter = parse(
        "---\nverify:\n  timeout: 9\n  elision: '[...]'\n---\n"
        "```console\n$ ls\n[...]\n```\n"
        '```console timeout="2"\n$ ls\n```\n'
    )
    assert chapter.timeout == 9.0 and chapter.elision == "[...]" and chapter.lab is None
    assert [b.options.timeout for b in chapter.blocks] == [9.0, 2.0]
    assert chapter.source.startswith("---\nverify:")
    plain = parse("```console\n$ ls\n```\n")
    assert plain.timeout is None and plain.blocks[0].options.timeout == 30.0
    assert plain.starts_from is None
    following = parse("---\nverify:\n  starts-from: partie-1.md\n---\n# T\n")
    assert following.starts_from == StartsFrom("partie-1.md", Location(PATH, 3))


def test_sections_and_opening_paragraphs() -> None:
    chapter = parse(
        "---\ntitle: T\n---\n# Titre\n\nUn.\n\n!!! note\n    Note.\n\n> Citation.\n\nDeux.\n\n"
        "## Section ##\n\nTrois.\n\n### Sous\n"
    )
    assert chapter.headings == ((15, "Section"), (19, "Sous"))
    assert chapter.intro == ("Un.", "Deux.")
    # the first block ends the opening; so does a second title
    assert parse("# T\n\nUn.\n\n```console\n$ ls\n```\n\nDeux.\n").intro == ("Un.",)
    assert parse("# T\n\nUn.\n\n# U\n\nDeux.\n").intro == ("Un.",)
    assert parse("Avant.\n\n# T\n\nUn.\n").intro == ("Avant.", "Un.")
    assert parse("- a\n\n  Dans la liste.\n\nHors.\n").intro == ("Hors.",)
    # sections are read from the page as written, containers not opened
    opened = parse('=== "A"\n\n    ## Dans\n\n## Hors\n')
    assert opened.headings == ((5, "Hors"),)


def test_fences_inside_other_fences_and_comments_are_shown_not_run() -> None:
    chapter = parse(
        "````markdown\n```console\n$ true\n```\n````\n\n<!--\n```console\n$ x\n```\n-->\n\n"
        "```console\n$ ls\n```\n"
    )
    assert [b.loc.line for b in chapter.blocks] == [13]
    indented = parse("  <!--\n```console\n$ x\n```\n-->\n")  # a comment may be indented
    assert indented.blocks == ()


def test_nested_shells_are_linked_in_their_session() -> None:
    chapter = parse(
        "```console\n$ ssh a\nu@a$ ls\n```\n"
        '```console session="t"\n$ ls\n```\n'
        '```console skip="x"\nv@b$ ls\n```\n'
        "```console\nu@a$ ^D\n$ ls\n```\n"
    )
    (ssh, inner), (other,), (skipped,), (leave, after) = (b.commands for b in chapter.blocks)
    assert ssh.opens_shell == "u@a$" and not ssh.closes_shell
    assert inner.opens_shell is None and not inner.closes_shell
    assert other.opens_shell is None and skipped.opens_shell is None
    assert leave.closes_shell and leave.opens_shell is None
    assert after.opens_shell is None and not after.closes_shell
    # `^D` after text is a key sent to a program, not a shell left
    kept = parse("```console\n$ ssh a\nu@a$ cat\n^D\nu@a$ exit\n```\n").blocks[0].commands
    assert [c.closes_shell for c in kept] == [False, False, True]
    # nothing nested: the very same blocks
    assert parse("```console\n$ ls\n$ exit\n```\n").blocks[0].commands[1].closes_shell is False


def test_captures_flow_only_from_verified_blocks_in_order() -> None:
    chapter = parse(
        "```console\n$ hostname\n{{ h }}\n```\n```console\n$ ssh {{ h }}\n{{ h }}$ echo {{ h }}\n"
        "{{ h }} x {{ * }}\n```\n"
    )
    assert chapter.blocks[1].commands[1].prompt == "{{ h }}$"
    assert "no earlier output captures" in refusal(
        '```console skip="x"\n$ hostname\n{{ h }}\n```\n```console\n$ echo {{ h }}\n```\n'
    )


# --- Material containers -------------------------------------------------------------------


def test_container_widths_and_dedent() -> None:
    assert _width("") == 0
    assert _width("  ") == 2
    assert _width("\t") == 4
    assert _width(" \t") == 4
    assert _width("\t ") == 5
    assert _width("     \t") == 8
    assert _dedent("    text", 4) == "text"
    assert _dedent("      text", 4) == "  text"
    assert _dedent("\ttext", 4) == "text"
    assert _dedent(" \ttext", 2) == "  text"  # the tab spans columns 1-3: two are kept
    assert _dedent("  \ttext", 2) == "\ttext"
    assert _dedent("  text", 4) == "text"  # fewer blanks than asked: all of them go
    assert _dedent("text", 0) == "text"
    assert _dedent("    ", 4) == ""
    assert _dedent("  ", 4) == ""
    assert _dedent("Xtext", 2) == "Xtext"  # nothing to take away
    assert _dedent("    \t x", 8) == " x"  # the tab after four blanks reaches column 8


def test_containers_are_opened() -> None:
    lines = [
        '!!! note "T"',
        "    Texte.",
        "",
        '    === "A"',
        "        Dans A.",
        "    Après A.",
        "Dehors.",
        "???+ tip",
        "\tTab.",
        '===! "B"',
        "    B.",
        "!!!note",
        "    Pas un en-tête.",
        "    ??? x",
        "  !!! y",
        "   Moins de quatre.",
    ]
    assert open_containers(lines) == [
        "",
        "Texte.",
        "",
        "",
        "Dans A.",
        "Après A.",
        "Dehors.",
        "",
        "Tab.",
        "",
        "B.",
        "!!!note",
        "    Pas un en-tête.",
        "",  # a header however indented
        "",
        "   Moins de quatre.",
    ]
    assert open_containers(["!!!", "    x"]) == ["", "x"]
    assert open_containers(["=== ", "    x", '===+ "B"', "    y"]) == ["", "x", "", "y"]


def test_a_container_inside_a_list_item_keeps_the_item_indentation() -> None:
    lines = ["- item", "", "    !!! note", "        ```console", "        $ ls", "        ```"]
    assert open_containers(lines) == ["- item", "", "", "    ```console", "    $ ls", "    ```"]


# --- engines= bounds and the elision marker ------------------------------------------------


def test_engine_bounds() -> None:
    here = Location(PATH, 3)
    assert parse_engines(">=26", here) == ((">=", (26, 0)),)
    assert parse_engines(" <26 , 20.10", here) == (("<", (26, 0)), ("==", (20, 10)))
    assert parse_engines("<=28.5,>20,==26.1", here) == (
        ("<=", (28, 5)),
        (">", (20, 0)),
        ("==", (26, 1)),
    )
    for bad in ("newest", ">=", "26.x", ">=26,,", "=>26", "", "26.1.5", ">=26."):
        with pytest.raises(NotationError) as info:
            parse_engines(bad, here)
        assert str(info.value) == (
            f"ch.md:3: engines={bad!r}: write Docker Engine generations with an optional "
            'comparison, separated by commas, e.g. engines=">=26" or engines="20.10"'
        )


def test_the_elision_marker_as_the_matcher_reads_it() -> None:
    assert matcher_line("...", "...") == "..."
    assert matcher_line(" ... ", "...") == " ... "  # kept as written
    assert matcher_line("a", "...") == "a"
    assert matcher_line(" [snip] ", "[snip]") == "..."
    assert matcher_line("...", "[snip]") == LITERAL_DOTS
    assert matcher_line("  ...", "[snip]") == LITERAL_DOTS
    assert matcher_line("a ...", "[snip]") == "a ..."
    assert matcher_line("[snip] x", "[snip]") == "[snip] x"


# --- fence options -------------------------------------------------------------------------

KNOWN = (
    "session, timeout, until, order, hidden, skip, requires, prompt, engines, unchecked, title, "
    "linenums, hl_lines"
)


@pytest.mark.parametrize(
    ("rest", "message"),
    [
        ("colour=red", f"unknown option 'colour' on a console block (known: {KNOWN})"),
        ('session="a" session="b"', "option 'session' given twice"),
        ('hidden="yes"', "hidden is a flag: write it alone, without a value"),
        ("timeout", 'timeout needs a value: timeout="..."'),
        ("skip", 'skip needs a value: skip="..." (skip="why it is not run")'),
        ('order="random"', "order= takes only \"any\", not 'random'"),
        ('session="a b"', "session name 'a b': use letters, digits, '-', '_', '.'"),
        ('skip=" "', 'skip= needs a reason, e.g. skip="needs a real VirtualBox"'),
        ('requires=" , "', 'requires= names capabilities, e.g. requires="ipvs"'),
        ('prompt="  "', 'prompt= must not be blank, e.g. prompt="/ # "'),
        ('timeout="0"', 'timeout= takes a positive number of seconds, e.g. timeout="60"'),
        ('until="inf"', 'until= takes a positive number of seconds, e.g. until="60"'),
        (
            'engines="26.x"',
            "engines='26.x': write Docker Engine generations with an optional "
            'comparison, separated by commas, e.g. engines=">=26" or engines="20.10"',
        ),
        (
            'engines=""',
            "engines='': write Docker Engine generations with an optional comparison, "
            'separated by commas, e.g. engines=">=26" or engines="20.10"',
        ),
        (
            'a="b',
            'cannot read the fence options at \'="b\'; write them as key="value" '
            "separated by spaces",
        ),
    ],
)
def test_fence_option_refusals(rest: str, message: str) -> None:
    assert refusal(f"```console {rest}\n$ ls\n```\n") == f"ch.md:1: {message}"


def test_fence_option_values() -> None:
    (block,) = parse(
        '```console session=s-1 timeout=5 until="60" order=any requires="ipvs, overlay" '
        'prompt=\'/ # \' engines=" >=26 " title="T" linenums="1"\n$ sh\n/ # ls\n```\n'
    ).blocks
    options = block.options
    assert (options.session, options.timeout, options.until) == ("s-1", 5.0, 60.0)
    assert options.order_any and not options.hidden and not options.unchecked
    assert options.requires == ("ipvs", "overlay") and options.prompt == "/ #"
    assert options.engines == ((">=", (26, 0)),) and options.engines_text == ">=26"
    assert options.display == (("title", "T"), ("linenums", "1"))
    (bare,) = parse('```console title=Xylo hl_lines=""\n$ ls\n```\n').blocks
    assert bare.options.display == (("title", "Xylo"), ("hl_lines", ""))
    assert options.skip is None
    (plain,) = parse("```console hidden unchecked\n$ ls\n```\n").blocks
    assert plain.options.hidden and plain.options.unchecked
    assert (plain.options.engines, plain.options.engines_text) == ((), None)
    assert (plain.options.session, plain.options.until, plain.options.order_any) == (
        "main",
        None,
        False,
    )


# --- keys and prompts ----------------------------------------------------------------------


def test_a_key_typed_at_the_prompt_itself() -> None:
    chapter = parse("```console\n$ ssh a\nu@a$ ^C\nu@a$ ^D\n$ ls\n```\n")
    _, interrupt, leave, _ = chapter.blocks[0].commands
    assert (interrupt.key, interrupt.lines, interrupt.text) == ("^C", ("",), "")
    assert (leave.key, leave.lines, leave.closes_shell) == ("^D", ("",), True)


def test_prompts_of_letters_and_of_signs_only() -> None:
    assert match_prompt("X$ ls", None) == ("X$", "ls")
    assert match_prompt("X# ls", None) == ("X#", "ls")
    assert match_prompt("#$ ls", None) is None  # signs only: output, not a prompt
    assert match_prompt("## ls", None) is None


def test_go_templates_after_a_placeholder_keep_what_came_before() -> None:
    before = [Text("a "), Placeholder("x", None), Text(" "), Anything()]
    assert tokenize("a {{ x }} [..] {{ .ID }} c") == [*before, Text(" {{ .ID }}"), Text(" c")]
    assert tokenize("a {{ x }} [..] {{ json }} c") == [*before, Text(" {{ json }}"), Text(" c")]
    assert tokenize("a {{ x }} [..] {{ json }} c", allow_anything=False) == [
        Text("a "),
        Placeholder("x", None),
        Text(" [..] {{ json }}"),
        Text(" c"),
    ]
