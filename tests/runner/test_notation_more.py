"""The notation parser in detail: fast pure tests, one behaviour each (they also keep the
mutation score of `nox -s mutate` honest)."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.model import Chapter, LabRequest, Location
from runner.notation import NotationError, parse_chapter
from runner.notation.errors import NotationError as Error
from runner.notation.frontmatter import split_front_matter
from runner.notation.options import parse_options, split_options
from runner.notation.patterns import (
    GO_TEMPLATE_WORDS,
    Anything,
    PatternError,
    Placeholder,
    Text,
    compile_line,
    names_in_command,
    substitute,
    tokenize,
)
from runner.notation.transcript import match_prompt

PATH = Path("ch.md")
HERE = Location(PATH, 7)


def parse(text: str) -> Chapter:
    return parse_chapter(PATH, text)


def error(text: str) -> NotationError:
    with pytest.raises(NotationError) as info:
        parse(text)
    return info.value


# --- the chapter's outline: sections and opening paragraphs --------------------------------


def test_headings_below_the_title_with_their_lines() -> None:
    chapter = parse(
        "---\ntitle: T\n---\n# Titre\n\n## Un  \n\ntexte\n\n### Deux\n\n# Autre titre\n###### Six\n"
    )
    assert chapter.headings == ((6, "Un"), (10, "Deux"), (13, "Six"))


def test_opening_paragraphs_stop_at_the_first_section() -> None:
    chapter = parse(
        "# Titre\n\nUn *premier*\nparagraphe.\n\n!!! note\n    Encadré.\n\n- liste\n\n"
        "> citation\n\nDeux.\n\n## Section\n\nTrois.\n"
    )
    assert chapter.intro == ("Un *premier*\nparagraphe.", "Deux.")


def test_opening_paragraphs_stop_at_a_block_or_a_second_title() -> None:
    assert parse("# T\n\nUn.\n\n```console\n$ true\n```\n\nDeux.\n").intro == ("Un.",)
    assert parse("# T\n\nUn.\n\n# U\n\nDeux.\n").intro == ("Un.",)
    assert parse("Avant.\n\n# T\n\nAprès.\n").intro == ("Avant.", "Après.")
    assert parse("## S\n\nTexte.\n").intro == ()
    assert parse("```bash\nls\n```\n\nTexte.\n").intro == ()  # any fence ends it
    assert parse("    code\n\nTexte.\n").intro == ("Texte.",)


def test_title_from_the_front_matter_or_the_first_heading() -> None:
    assert parse("---\ntitle: Devant\n---\n# Titre\n").title == "Devant"
    assert parse("---\ntitle: 3\n---\n# Titre\n").title == "Titre"
    assert parse("## S\n\n# Titre  \n\n# Autre\n").title == "Titre"
    assert parse("# \n\n# Vrai\n").title == "Vrai"
    assert parse("texte\n").title is None


def test_chapter_keeps_its_source_path_and_front_matter() -> None:
    text = "---\ntitle: T\nobjectifs: [a]\n---\n```console\n$ true\n```\n"
    chapter = parse(text)
    assert chapter.path == PATH and chapter.source == text
    assert chapter.front_matter == {"title": "T", "objectifs": ["a"]}
    assert chapter.lab is None and chapter.timeout is None


def test_crlf_chapters_keep_their_lines() -> None:
    chapter = parse("---\r\ntitle: T\r\n---\r\n# T\r\n\r\n## S\r\n```console\r\n$ true\r\n```\r\n")
    assert chapter.headings == ((6, "S"),)
    assert chapter.blocks[0].loc.line == 7


def test_reading_the_file_itself(tmp_path: Path) -> None:
    path = tmp_path / "c.md"
    path.write_text("```console\n$ true\n```\n", encoding="utf-8")
    assert parse_chapter(path).blocks[0].commands[0].text == "true"
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(NotationError, match=r"c\.md:1: not UTF-8 text"):
        parse_chapter(path)


# --- blocks -------------------------------------------------------------------------------


def test_block_fields() -> None:
    text = 'Texte.\n\n```console  title="T"\n$ echo a\na\n```\n\n```console\n$ true\n```\n'
    first, second = parse(text).blocks
    assert (first.index, first.loc, first.end_line) == (0, Location(PATH, 3), 6)
    assert first.source == "$ echo a\na\n" and first.info == 'console  title="T"'
    assert second.index == 1 and second.options.timeout == 30.0


def test_an_empty_block_is_an_error_unless_skipped() -> None:
    err = error("```console\n\n```\n")
    assert (err.loc.line, err.message) == (
        1,
        "empty console block: write `$ command` lines, or remove it",
    )
    assert parse('```console skip="plus tard"\n```\n').blocks[0].commands == ()


def test_the_front_matter_timeout_is_the_default() -> None:
    chapter = parse("---\nverify: {timeout: 7}\n---\n```console\n$ true\n```\n")
    assert chapter.blocks[0].options.timeout == 7.0
    assert parse("```console\n$ true\n```\n").blocks[0].options.timeout == 30.0


def test_console_fences_inside_containers_are_verified_with_their_line() -> None:
    (block,) = parse(
        '=== "Onglet"\n\n    Texte.\n\n    ~~~~ console\n    $ true\n    ~~~~\n'
    ).blocks
    assert block.loc.line == 5 and block.commands[0].loc.line == 6
    # Indented code that shows a fence of another language is left alone.
    assert parse("!!! note\n\n    ```bash\n    ls\n    ```\n").blocks == ()


def test_a_key_inside_until_is_refused_on_the_command() -> None:
    err = error('```console until="5"\n$ true\n$ tail -f x\n^C\n```\n')
    assert err.loc.line == 3 and err.message.startswith("^C inside an until= block")


def test_a_regex_in_a_command_is_refused() -> None:
    err = error("```console\n$ echo a\n{{ x }}\n$ echo {{ x }} \\\n> {{ /b+/ }}\n```\n")
    assert err.loc.line == 4
    assert "a command can use a captured value" in err.message


def test_bad_patterns_in_commands_name_their_continuation_line() -> None:
    err = error("```console\n$ echo a \\\n> {{ b\n```\n")
    assert err.loc.line == 3 and "never closed" in err.message


def test_a_long_continuation_line_names_its_own_line() -> None:
    err = error("```console\n$ echo \\\n> " + "y" * 4001 + "\n```\n")
    assert err.loc.line == 3 and "longer than 4000 bytes" in err.message
    assert parse("```console\n$ echo " + "y" * 3994 + "\n```\n").blocks  # 4000 bytes: kept


def test_captures_are_known_from_verified_blocks_only() -> None:
    err = error('```console skip="x"\n$ echo a\n{{ v }}\n```\n```console\n$ echo {{ v }}\n```\n')
    assert err.loc.line == 6 and "`{{ v }}` is used in a command" in err.message
    chapter = parse(
        "```console\n$ echo a\n{{ v }} [..]\n```\n```console\n$ echo {{ v }} \\\n> {{ v }}\n```\n"
    )
    assert chapter.blocks[1].commands[0].lines == ("echo {{ v }} \\", "{{ v }}")


def test_a_capture_is_used_only_after_it_is_made() -> None:
    err = error("```console\n$ echo {{ v }}\n{{ v }}\n```\n")
    assert err.loc.line == 2
    err = error("```console\n$ echo a\n$ echo \\\n> {{ w }}\n```\n")
    assert err.loc.line == 4


# --- nested shells across sessions -------------------------------------------------------


def test_nested_shells_follow_each_session() -> None:
    chapter = parse(
        "```console\n$ ssh a\nu@a$ echo 1\n1\n```\n"
        '```console session="s"\n$ echo other\nother\n```\n'
        "```console\nu@a$ logout\n$ exit 0\n```\n"
    )
    ssh, one = chapter.blocks[0].commands
    assert ssh.opens_shell == "u@a$" and one.opens_shell is None
    assert chapter.blocks[1].commands[0].opens_shell is None
    logout, leave = chapter.blocks[2].commands
    assert logout.closes_shell and logout.opens_shell is None
    assert not leave.closes_shell  # `exit` at the session's own prompt leaves no nested shell


def test_skipped_blocks_take_no_part_in_nested_shells() -> None:
    chapter = parse(
        '```console skip="x"\nu@a$ echo 1\n```\n```console\n$ ssh a\nu@a$ exit 3\n[3]\n```\n'
    )
    assert chapter.blocks[0].commands[0].opens_shell is None
    ssh, leave = chapter.blocks[1].commands
    assert ssh.opens_shell == "u@a$" and leave.closes_shell


def test_a_prompt_out_of_place_is_an_error() -> None:
    err = error("```console\n$ ssh a\nu@a$ exit\nu@a$ ls\n```\n")
    assert err.loc.line == 4
    assert err.message == (
        "this command is typed at the prompt 'u@a$' but the session 'main' is at '$' here "
        "(a nested shell is opened by the command before its first prompt, and left with `exit`)"
    )


def test_two_levels_of_nesting() -> None:
    chapter = parse("```console\n$ ssh a\nu@a$ ssh b\nu@b$ exit\nu@a$ exit\n$ true\n```\n")
    ssh_a, ssh_b, leave_b, leave_a, last = chapter.blocks[0].commands
    assert ssh_a.opens_shell == "u@a$" and ssh_b.opens_shell == "u@b$"
    assert leave_b.closes_shell and leave_a.closes_shell
    assert not last.closes_shell and last.opens_shell is None


def test_exit_forms_that_leave_a_shell() -> None:
    for leave in ("exit", "  exit 2 ", "logout", "exit\t1"):
        chapter = parse(f"```console\n$ ssh a\nu@a$ {leave}\n```\n")
        assert chapter.blocks[0].commands[1].closes_shell, leave
    chapter = parse("```console\n$ ssh a\nu@a$ exit now\nu@a$ exit\n```\n")
    assert not chapter.blocks[0].commands[1].closes_shell


# --- front matter -------------------------------------------------------------------------


def front(text: str) -> tuple[int, LabRequest | None, float | None]:
    parsed = split_front_matter(text, PATH)
    return parsed.lines, parsed.lab, parsed.timeout


def front_error(text: str) -> NotationError:
    with pytest.raises(NotationError) as info:
        split_front_matter(text, PATH)
    return info.value


def test_front_matter_fences_and_line_counts() -> None:
    assert front("# x\n") == (0, None, None)
    assert front("---\n---\n# x\n") == (2, None, None)
    assert front("---\ntitle: a\n...\n") == (3, None, None)
    assert front("---\ntitle: a\n---") == (3, None, None)
    assert front("---  \r\ntitle: a\r\n---\r\n") == (3, None, None)
    assert split_front_matter("---\n---\n", PATH).data == {}
    assert split_front_matter("---\ntitle: a\n---\n", PATH).data == {"title": "a"}


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("---\n- a\n---\n", 1, "front matter must be a YAML map"),
        ("---\ntitle: a\nverify: 3\n---\n", 3, "verify: must be a map, e.g."),
        (
            "---\nverify:\n  colour: 1\n---\n",
            3,
            "unknown key `colour` under verify: (known: lab, timeout, starts-from, elision)",
        ),
        ("---\nverify: {timeout: 0}\n---\n", 2, "verify.timeout must be a positive number"),
        ("---\nverify: {timeout: -2}\n---\n", 2, "verify.timeout must be a positive number"),
        ("---\nverify: {timeout: true}\n---\n", 2, "verify.timeout must be a positive number"),
        ("---\nverify: {timeout: soon}\n---\n", 2, "verify.timeout must be a positive number"),
        ("---\nverify: {timeout: .inf}\n---\n", 2, "verify.timeout must be a positive number"),
        ("---\nverify: {lab: 3}\n---\n", 2, "verify.lab must be a map"),
        ("---\nverify: {lab: {nodes: 33}}\n---\n", 2, "from 0 to 32 nodes"),
        ("---\nverify: {lab: {nodes: -1}}\n---\n", 2, "from 0 to 32 nodes"),
        ("---\nverify: {lab: {nodes: true}}\n---\n", 2, "a number or a list of names"),
        ("---\nverify: {lab: {nodes: x}}\n---\n", 2, "a number or a list of names"),
        ("---\nverify: {lab: {nodes: [a, 2]}}\n---\n", 2, "a number or a list of names"),
        ("---\nverify: {lab: {nodes: [a, a]}}\n---\n", 2, "names a node twice"),
        ("---\nverify: {lab: {nodes: [-a]}}\n---\n", 2, "node name '-a': letters, digits"),
        ("---\nverify: {lab: {nodes: [a_b]}}\n---\n", 2, "node name 'a_b'"),
        ("---\nverify: {lab: {provider: 3}}\n---\n", 2, "verify.lab.provider is a name"),
        (
            "---\nverify: {lab: {b: 1, a: 2}}\n---\n",
            2,
            "unknown key `b` under verify.lab: (known: nodes, provider, images)",
        ),
        ("---\na: 1\nb: [\n---\n", 4, "front matter is not valid YAML"),
    ],
)
def test_front_matter_errors(text: str, line: int, message: str) -> None:
    err = front_error(text)
    assert err.loc == Location(PATH, line), str(err)
    assert message in err.message


def test_lab_requests() -> None:
    assert "verify.lab has no value" in front_error("---\nverify: {lab: }\n---\n").message
    assert front("---\nverify: {lab: {nodes: 0}}\n---\n")[1] == LabRequest()
    assert front("---\nverify: {lab: {nodes: 32}}\n---\n")[1] == LabRequest(
        nodes=tuple(f"node-{n:02d}" for n in range(1, 33))
    )
    named = front("---\nverify: {lab: {nodes: [a.b, " + "c" * 63 + "], provider: machine}}\n---\n")
    assert named[1] == LabRequest(nodes=("a.b", "c" * 63), provider="machine")
    assert (
        "node name" in front_error("---\nverify: {lab: {nodes: [" + "c" * 65 + "]}}\n---\n").message
    )
    assert front("---\nverify: {timeout: 2.5}\n---\n")[2] == 2.5
    assert front("---\nverify: {}\n---\n") == (3, None, None)


# --- fence options ------------------------------------------------------------------------


def test_options_read_quoted_bare_and_flag_values() -> None:
    assert split_options(" a=\"x y\" b='z' c=1 d ", HERE) == [
        ("a", "x y"),
        ("b", "z"),
        ("c", "1"),
        ("d", None),
    ]
    assert split_options("", HERE) == [] and split_options("   ", HERE) == []
    options = parse_options(
        'session=s.1-x until=2.5 prompt=" / # " hl_lines="1 2" linenums="3"', HERE, 9.0
    )
    assert (options.session, options.until, options.timeout) == ("s.1-x", 2.5, 9.0)
    assert options.prompt == " / #" and options.display == (("hl_lines", "1 2"), ("linenums", "3"))
    assert parse_options("", HERE, 9.0) == parse_options("", HERE, 9.0)
    plain = parse_options("", HERE, 9.0)
    assert (plain.session, plain.until, plain.hidden, plain.order_any, plain.skip) == (
        "main",
        None,
        False,
        False,
        None,
    )
    assert (plain.requires, plain.prompt, plain.display) == ((), None, ())
    assert parse_options('title=""', HERE, 9.0).display == (("title", ""),)


@pytest.mark.parametrize(
    ("rest", "message"),
    [
        ('a="unclosed', "cannot read the fence options at '=\"unclosed'"),
        ("=x", "cannot read the fence options at '=x'"),
        ("hidden hidden", "option 'hidden' given twice"),
        ('hidden="yes"', "hidden is a flag: write it alone"),
        ("session", 'session needs a value: session="..."'),
        ("skip", 'skip needs a value: skip="..." (skip="why it is not run")'),
        ('skip="  "', "skip= needs a reason"),
        ('session="a b"', "session name 'a b'"),
        ('requires=" , "', "requires= names capabilities"),
        ('prompt=" "', "prompt= must not be blank"),
        ('until="soon"', 'until= takes a positive number of seconds, e.g. until="60"'),
        ('timeout="inf"', 'timeout= takes a positive number of seconds, e.g. timeout="60"'),
        ('order="any" order="any"', "given twice"),
    ],
)
def test_option_errors(rest: str, message: str) -> None:
    with pytest.raises(NotationError) as info:
        parse_options(rest, HERE, 30.0)
    assert info.value.loc == HERE and message in info.value.message


def test_errors_carry_location_and_message() -> None:
    err = Error(HERE, "what to do")
    assert (err.loc, err.message, str(err)) == (HERE, "what to do", "ch.md:7: what to do")


# --- prompts ------------------------------------------------------------------------------


def test_prompts() -> None:
    assert match_prompt("$ ls", None) == ("$", "ls")
    assert match_prompt("$", None) == ("$", "")
    assert match_prompt("$ ", None) == ("$", "")
    assert match_prompt("docker@n:~$ ls -l", None) == ("docker@n:~$", "ls -l")
    assert match_prompt("root@n:/# ls", None) == ("root@n:/#", "ls")
    assert match_prompt("# ls", None) is None  # a comment in output, not a prompt
    assert match_prompt("## ls", None) is None
    assert match_prompt("/ # ls", "/ #") == ("/ #", "ls")
    assert match_prompt("/ #", "/ #") == ("/ #", "")
    assert match_prompt("/ #x", "/ #") is None
    assert match_prompt("output", None) is None
    assert match_prompt("$ls", None) is None


# --- tokens, names and substitution -------------------------------------------------------


def test_tokens() -> None:
    assert tokenize("a [..] {{ x }} {{ /b+/ }} {{ y /c/ }}") == [
        Text("a "),
        Anything(),
        Text(" "),
        Placeholder("x", None),
        Text(" "),
        Placeholder(None, "b+"),
        Text(" "),
        Placeholder("y", "c"),
    ]
    assert tokenize("a [..] b", allow_anything=False) == [Text("a [..] b")]
    assert tokenize("") == [] and tokenize("", allow_anything=False) == []
    assert tokenize("[..]") == [Anything()]
    assert tokenize("{{.ID}} {{}}") == [Text("{{.ID}}"), Text(" {{}}")]
    assert tokenize("{{ end }}{{ x }}") == [Text("{{ end }}"), Placeholder("x", None)]
    assert tokenize("{{ end /e/ }}") == [Placeholder("end", "e")]


# Go's text/template actions and functions, and Docker's own --format functions.
GO_WORDS = (
    "end else if range with define template block break continue nil not and or "
    "eq ne lt le gt ge len index print printf println slice call html js urlquery "
    "json join title lower upper split pad padWithSpace truncate tablerow table"
)


def test_every_go_template_word_is_literal() -> None:
    words = str.split(GO_WORDS)
    assert frozenset(words) == GO_TEMPLATE_WORDS
    for word in words:
        assert tokenize(f"{{{{ {word} }}}}") == [Text(f"{{{{ {word} }}}}")], word
        assert names_in_command(f"echo {{{{{word}}}}}") == []
        assert substitute(f"{{{{ {word} }}}}", {word: "v"}) == f"{{{{ {word} }}}}"


def test_pattern_errors() -> None:
    with pytest.raises(PatternError, match=r"^`\{\{` is never closed on this line"):
        tokenize("a {{ b")
    with pytest.raises(PatternError, match=r"^bad regular expression /\(/: "):
        tokenize("{{ /(/ }}")
    with pytest.raises(PatternError, match=r"^group names starting with vb__ are the runner's own"):
        tokenize("{{ /(?P<vb__1>a)/ }}")


def test_names_in_a_command_and_their_values() -> None:
    assert names_in_command("echo {{ a }} {{b}} {{ /x/ }} {{ c /y/ }} {{.ID}}") == ["a", "b"]
    assert substitute("echo {{ a }} {{b}} {{ c }} {{ /x/ }}", {"a": "1", "b": "2"}) == (
        "echo 1 2 {{ c }} {{ /x/ }}"
    )
    assert substitute("{{ a /x/ }}", {"a": "1"}) == "{{ a /x/ }}"


def test_compiled_lines() -> None:
    literal, groups = compile_line("  a  b ", {})
    assert groups == {} and literal.fullmatch("a b") and literal.fullmatch("a\tb  ")
    assert not literal.fullmatch("ab")
    regex, groups = compile_line("  id: {{ x }} {{ y /[0-9]+/ }} {{ x }}", {"y": "7"})
    assert groups == {"vb__0": "x"}
    assert regex.fullmatch("id: a 7 a") and regex.fullmatch("   id:\ta  7 a")
    assert not regex.fullmatch("id: a 8 a") and not regex.fullmatch("id: a 7 b")
    assert not regex.fullmatch("id: a b 7 a b")  # a bare placeholder is one word
    regex, _ = compile_line("a.b [..] {{ /x?/ }}", {})
    assert regex.fullmatch("a.b anything x") and not regex.fullmatch("aXb anything x")
    assert regex.fullmatch("a.b  ")


# --- whole messages: what an author reads ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (
            '```console until="5"\n$ tail -f x\n^C\n```\n',
            2,
            "^C inside an until= block: a polled command is re-run, a key cannot be; "
            "move it to a block of its own",
        ),
        (
            "```console\n$ echo " + "x" * 3996 + "\n```\n",
            2,
            "a command line longer than 4000 bytes is cut by the terminal; split it with `\\` "
            "at the end of a line",
        ),
        (
            "```console\n$ echo a\n{{ x }}\n$ echo {{ /b/ }}\n```\n",
            4,
            "a command can use a captured value, `{{ name }}`, not a regular expression",
        ),
        (
            "```console\nhello\n```\n",
            2,
            "output before any command: a console block starts with a command typed at a "
            "prompt, e.g. `$ ls`",
        ),
        (
            "```console\n$ echo a \\\n```\n",
            2,
            "this command is unfinished at the end of the block (an open quote, here-document, "
            "or a trailing `\\`, `|`, `&&`); finish it, with its continuation lines behind `> `",
        ),
        (
            "```console\n$ echo 'a\nb'\n```\n",
            3,
            "the command above is unfinished (open quote or here-document): its continuation "
            "lines start with `> `",
        ),
        (
            "```console\n$ echo a\n{{ v }}\n$ echo {{ v }} {{ w }}\n```\n",
            4,
            "`{{ w }}` is used in a command but no earlier output captures it; capture it in an "
            "expected line first",
        ),
        (
            "```console\n$ false\n[1]\nx\n```\n",
            3,
            "[1] must be the last expected line of its command (the exit status)",
        ),
        ("```console\n$ cat\n^D\n^C\n```\n", 4, "one key (^C or ^D) per command at most"),
    ],
)
def test_whole_error_messages(text: str, line: int, message: str) -> None:
    err = error(text)
    assert (err.loc, err.message) == (Location(PATH, line), message)


def test_the_longest_command_line_kept() -> None:
    assert parse("```console\n$ echo " + "y" * 3995 + "\n```\n").blocks
    err = error("```console\n$ echo " + "é" * 1998 + "\n```\n")  # bytes, not characters
    assert "longer than 4000 bytes" in err.message


def test_a_bad_pattern_in_a_command_names_the_file() -> None:
    assert str(error("```console\n$ echo \\\n> {{ b\n```\n")).startswith("ch.md:3: ")


def test_a_fence_in_a_paragraph_line_is_refused() -> None:
    err = error("Texte\n    ```console\n    $ true\n    ```\n")
    assert err.loc.line == 2 and "would be published unverified" in err.message


def test_an_indented_admonition_paragraph_is_no_intro() -> None:
    assert parse("# T\n\n   !!! note\n\nUn.\n").intro == ("Un.",)


def test_an_empty_continuation_line() -> None:
    (command,) = parse("```console\n$ cat <<EOF\n>\n> EOF\n```\n").blocks[0].commands
    assert command.lines == ("cat <<EOF", "", "EOF")


def test_blank_lines_around_the_output_and_the_status() -> None:
    (command,) = parse("```console\n$ run\n\n\na\n\nb\n\n\n[3]\n\n```\n").blocks[0].commands
    assert [e.text for e in command.expected] == ["a", "", "b"]
    assert command.status == 3 and command.expected[0].loc.line == 5
    (blank,) = parse("```console\n$ run\n\n\n```\n").blocks[0].commands
    assert blank.expected == () and blank.status is None


def test_no_key_means_nothing_before_it() -> None:
    (command,) = parse("```console\n$ echo a\na\n```\n").blocks[0].commands
    assert command.key is None and command.expected_before_key == 0
    (keyed,) = parse("```console\n$ tail -f l\na\nb\n^C\nc\n```\n").blocks[0].commands
    assert keyed.expected_before_key == 2 and [e.text for e in keyed.expected] == ["a", "b", "c"]
    (indented,) = parse("```console\n$ cat\n  ^C\n```\n").blocks[0].commands
    assert indented.key is None and indented.expected[0].text == "  ^C"
