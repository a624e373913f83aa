"""Just enough of bash's lexing: is a command line finished, and if not, what keeps it open."""

from __future__ import annotations

import pytest

from runner.notation.shellsyntax import LineReader

State = tuple[list[str], list[str], list[tuple[str, bool]], bool]
DONE: State = ([], [], [], False)


def read(*lines: str) -> LineReader:
    reader = LineReader()
    for line in lines:
        reader.feed(line)
    return reader


def state(*lines: str) -> State:
    reader = read(*lines)
    return reader.stack, reader.compound, reader.heredocs, reader.continued


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        # quotes
        (['echo "a \\" b"'], DONE),
        (['echo "a'], (['"'], [], [], False)),
        (['echo "a', 'b"'], DONE),
        (["echo 'a\\'"], DONE),  # no escape inside single quotes
        (["echo 'it''s"], (["'"], [], [], False)),
        (["echo $'it\\'s'"], DONE),
        (["echo $'a"], (["$'"], [], [], False)),
        (["echo $'a\\\\' 'b"], (["'"], [], [], False)),
        (["echo `date`"], DONE),
        (["echo `date"], (["`"], [], [], False)),
        (['echo "`date`"'], DONE),
        (['echo "`date"'], (['"', "`"], [], [], False)),
        (['echo "$(echo ")")"'], DONE),
        (['echo "$(date"'], (['"', "(", '"'], [], [], False)),  # a new quote inside `$(`
        (['echo "$(date'], (['"', "("], [], [], False)),
        (['echo "$(date "a'], (['"', "(", '"'], [], [], False)),
        (['echo "a$b(c" d'], DONE),  # `$b(` is no command substitution
        (['echo "\\$(x"'], DONE),
        (['echo "\\"" \'x'], (["'"], [], [], False)),  # an escaped quote inside quotes
        (['echo "$()"'], DONE),
        (["echo \\\"'"], (["'"], [], [], False)),  # an escaped quote, then a real one
        # subshells
        (["(cd /tmp; ls)"], DONE),
        (["(cd /tmp"], (["("], [], [], False)),
        (["echo )"], DONE),  # a stray `)` closes nothing
        (["(echo 'a)'"], (["("], [], [], False)),
        # backslashes
        (["echo a \\"], ([], [], [], True)),
        (["echo a\\ b"], DONE),
        (["echo a\\\\"], DONE),  # an escaped backslash, then the end of the line
        (["echo \\'a"], DONE),
        (["echo \\(a"], DONE),
        # comments
        (["echo a # it's a comment"], DONE),
        (["#!/bin/sh 'x"], DONE),
        (["echo a#b 'c"], (["'"], [], [], False)),
        (["echo a;# 'x"], DONE),
        (["echo a&# 'x"], DONE),
        (["echo a|# 'x"], ([], [], [], True)),  # the pipe still waits (bash -c agrees)
        (["(# 'x"], (["("], [], [], False)),
        (["echo\t# 'x"], DONE),
        (["echo x'#' 'y"], (["'"], [], [], False)),
        # operators at the end
        (["ls |"], ([], [], [], True)),
        (["ls |  "], ([], [], [], True)),
        (["ls &&"], ([], [], [], True)),
        (["ls ||"], ([], [], [], True)),
        (["ls &"], DONE),
        (["ls | wc"], DONE),
        (["ls '|"], (["'"], [], [], False)),
        # here-documents
        (["cat <<EOF"], ([], [], [("EOF", False)], False)),
        (["cat <<EOF", "a", "EOF"], DONE),
        (["cat <<EOF", "\tEOF"], ([], [], [("EOF", False)], False)),
        (["cat <<-EOF", "\tline", "\t\tEOF"], DONE),
        (["cat <<-EOF", "EOF\t"], ([], [], [("EOF", True)], False)),
        (["cat <<-EOF", "  EOF"], ([], [], [("EOF", True)], False)),  # tabs only, no spaces
        (["cat <<-EOF", "\tXEOF"], ([], [], [("EOF", True)], False)),
        (["cat << 'A B'", "A B"], DONE),
        (['cat <<"END" | wc -l', "x", "END"], DONE),
        (["cat <<\\STOP", "STOP"], DONE),
        (["cat <<< 'here string'"], DONE),
        (["cat <<<EOF"], DONE),
        (["cat <<<$x <<EOF"], ([], [], [("EOF", False)], False)),
        (["cat <<A <<B", "A"], ([], [], [("B", False)], False)),
        (["cat <<A <<B", "B"], ([], [], [("A", False), ("B", False)], False)),
        (["cat <<A; echo 'x", "y' <<B", "B"], ([], [], [("A", False), ("B", False)], False)),
        (["cat <<A; echo 'x", "y' <<B", "A", "B"], DONE),
        (["cat <<EOF", "'", "EOF"], DONE),  # a quote inside the document is only text
        (["cat <<'E-1.x'", "E-1.x"], DONE),
        # compound commands
        (["for i in 1 2; do"], ([], ["done"], [], False)),
        (["for i in 1 2; do", "echo $i", "done"], DONE),
        (["for i in a; do echo done; done"], DONE),
        (["if true; then"], ([], ["fi"], [], False)),
        (["if true; then", "echo", "fi"], DONE),
        (["if true; then", "done"], ([], ["fi"], [], False)),  # the wrong closer
        (["case $x in", "a) echo;;", "esac"], DONE),
        (["while true; do", "if x; then", "fi"], ([], ["done"], [], False)),
        (["until false; do", "done"], DONE),
        (["select x in a; do", "break; done"], DONE),
        (["{ echo a;"], ([], ["}"], [], False)),
        (["{ echo a; }"], DONE),
        (["done"], DONE),  # a closer with nothing open
        (["fi"], DONE),
        (["echo for if case {"], DONE),  # not at the start of a command
        (["echo a; if true; then"], ([], ["fi"], [], False)),
        (["echo a && for x in y; do"], ([], ["done"], [], False)),
        (["echo a || while x; do"], ([], ["done"], [], False)),
        (["echo a | while read l; do"], ([], ["done"], [], False)),
        (["echo a & if x; then"], ([], ["fi"], [], False)),
        (["time for i in 1; do"], ([], ["done"], [], False)),
        (["! if x; then"], ([], ["fi"], [], False)),
        (["for i in 1; do if x; then"], ([], ["done", "fi"], [], False)),
        (["if a; then if b; then"], ([], ["fi", "fi"], [], False)),
        (["if x; then :; else if y; then"], ([], ["fi", "fi"], [], False)),
        (["while x; do :; done; if y; then"], ([], ["fi"], [], False)),
        (['echo "$(for i in 1; do echo; done)"'], DONE),
        (["x=$(if a; then"], (["("], [], [], False)),
        (["(if a; then"], (["("], [], [], False)),
        (["(cd x) ; if a; then"], ([], ["fi"], [], False)),
        (["echo 'if' ; fi"], DONE),
        (["echo done) ; if a; then"], ([], ["fi"], [], False)),
        (["echo a>b; for x in y; do"], ([], ["done"], [], False)),
        (["echo $x for"], DONE),
    ],
)
def test_what_keeps_a_command_open(lines: list[str], expected: State) -> None:
    assert state(*lines) == expected


def test_finished_and_continued_are_booleans() -> None:
    done = read("echo a \\", "b")
    assert done.unfinished is False and done.continued_only is False
    assert done.continued is False
    assert read("ls |").continued_only is True
    assert read("ls |").unfinished is True
    assert read("echo 'a |").continued_only is False  # the quote, not the pipe, keeps it open
    assert read("if x; then |").continued_only is False


def test_in_a_here_document() -> None:
    assert read("cat <<EOF").in_heredoc is True
    assert read("cat <<EOF; echo 'a").in_heredoc is False  # the quote first
    assert read("cat <<EOF |").in_heredoc is False  # the pipe's next line first
    assert read("cat <<EOF |", "wc").in_heredoc is True
    assert read("echo").in_heredoc is False


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # a word right after a quote, a `)`, or a `$` is no reserved word
        ('"ls" for', DONE),
        ("$'ls' for", DONE),
        ("echo $(ls) for x", DONE),
        ("$if", DONE),
        ("echo $''", DONE),  # an empty ANSI-C string closes at once
        ("cat <<<'a b'", DONE),  # a here-string, quoted
        ('echo a #it"s', DONE),  # a comment: its quote opens nothing
        ("echo a #", DONE),
        # a here-document announced before a comment is still read
        ("cat <<EOF # the text", ([], [], [("EOF", False)], False)),
        ("ls | # then", ([], [], [], True)),  # a pipe before a comment still continues
        ("ls && # then", ([], [], [], True)),
        ("ls # a |", DONE),
    ],
)
def test_what_ends_a_command_word(line: str, expected: State) -> None:
    assert state(line) == expected
