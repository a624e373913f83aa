"""The notation parser: what it reads, and the file:line errors it gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.notation import NotationError, parse_chapter


def parse(text: str, name: str = "ch.md"):
    return parse_chapter(Path(name), text)


def error_of(text: str) -> NotationError:
    with pytest.raises(NotationError) as info:
        parse(text)
    return info.value


def test_commands_outputs_status_and_lines() -> None:
    chapter = parse("# Titre\n\nTexte.\n\n```console\n$ echo a\na\n$ false\n[1]\n```\n")
    assert chapter.title == "Titre"
    (block,) = chapter.blocks
    assert block.loc.line == 5 and block.end_line == 10
    first, second = block.commands
    assert (first.text, [e.text for e in first.expected], first.status) == ("echo a", ["a"], None)
    assert first.loc.line == 6 and first.expected[0].loc.line == 7
    assert (second.text, second.expected, second.status) == ("false", (), 1)


def test_front_matter_lab_and_timeout_keep_line_numbers() -> None:
    chapter = parse(
        "---\ntitle: T\nverify:\n  lab: {nodes: 3}\n  timeout: 90\n---\n```console\n$ true\n```\n"
    )
    assert chapter.lab is not None and chapter.lab.nodes == ("node-01", "node-02", "node-03")
    assert chapter.timeout == 90 and chapter.blocks[0].options.timeout == 90
    assert chapter.blocks[0].loc.line == 7
    named = parse("---\nverify:\n  lab:\n    nodes: [manager1, worker1]\n---\n")
    assert named.lab is not None and named.lab.nodes == ("manager1", "worker1")
    empty = parse("---\nverify: {lab: {}}\n---\n")
    assert empty.lab is not None and empty.lab.nodes == ()
    assert parse("# x\n").lab is None


def test_options_in_material_style() -> None:
    chapter = parse(
        '```console session="two" until="60" timeout="5" hidden order="any" title="Voir"\n'
        "$ true\n```\n"
        '```console skip="pas de VirtualBox ici"\n$ docker-machine create -d virtualbox x\n```\n'
        '```console requires="ipvs,overlay"\n$ true\n```\n'
    )
    a, b, c = (blk.options for blk in chapter.blocks)
    assert (a.session, a.until, a.timeout, a.hidden, a.order_any) == ("two", 60, 5, True, True)
    assert a.display == (("title", "Voir"),)
    assert b.skip == "pas de VirtualBox ici" and not chapter.blocks[1].verified
    assert c.requires == ("ipvs", "overlay")


def test_only_console_blocks_count() -> None:
    chapter = parse("```bash\n$ rm -rf /\n```\n\n    $ indented code\n\n```console\n$ true\n```\n")
    assert len(chapter.blocks) == 1 and chapter.blocks[0].commands[0].text == "true"


def test_continuations_backslash_and_heredoc() -> None:
    (block,) = parse(
        "```console\n$ docker run \\\n    --rm busybox\nout\n"
        "$ cat <<'EOF' | tr a-z A-Z\n> hello $HOME\n> EOF\nHELLO $HOME\n"
        "$ echo 'two\n> lines'\ntwo\nlines\n```\n"
    ).blocks
    run, cat, echo = block.commands
    assert run.lines == ("docker run \\", "    --rm busybox") and run.expected[0].text == "out"
    assert cat.lines == ("cat <<'EOF' | tr a-z A-Z", "hello $HOME", "EOF")
    assert [e.text for e in cat.expected] == ["HELLO $HOME"]
    assert echo.lines == ("echo 'two", "lines'")


def test_compound_commands_and_nested_quotes() -> None:
    (block,) = parse(
        "```console\n$ for i in 1 2; do\n> echo $i\n> done\n1\n2\n"
        "$ if true; then\n>   echo yes\n> fi\nyes\n"
        "$ echo \"$(echo \"l'eau\")\" $'it\\'s'\nl'eau it's\n"
        "$ echo done > /dev/null\n```\n"
    ).blocks
    loop, cond, quotes, done = block.commands
    assert loop.lines == ("for i in 1 2; do", "echo $i", "done")
    assert [e.text for e in loop.expected] == ["1", "2"]
    assert cond.lines == ("if true; then", "  echo yes", "fi")
    assert len(quotes.lines) == 1 and done.lines == ("echo done > /dev/null",)


def test_go_template_actions_are_never_placeholders() -> None:
    (block,) = parse(
        "```console\n$ docker inspect -f '{{range .Mounts}}{{.Source}}{{end}}' x\n"
        "{{end}} {{ else }}\n```\n"
    ).blocks
    assert block.commands[0].text.endswith("{{end}}' x")


def test_ctrl_d_to_a_program_in_a_nested_shell_does_not_leave_it() -> None:
    (block,) = parse(
        "```console\n$ env PS1='dsh# ' dash\ndsh# cat\n^D\ndsh# echo still\nstill\ndsh# ^D\n```\n"
    ).blocks
    _, cat, still, leave = block.commands
    assert cat.key == "^D" and not cat.closes_shell and not still.closes_shell
    assert leave.key == "^D" and leave.text == "" and leave.closes_shell


def test_keys_and_nested_shells_across_blocks() -> None:
    chapter = parse(
        "```console\n$ docker-machine ssh node-01\n"
        "docker@node-01:~$ tail -f /var/log/docker.log\n...\n[..]memberlist[..]\n^C\n```\n"
        "Text.\n"
        "```console\ndocker@node-01:~$ exit\n$ echo back\nback\n```\n"
    )
    ssh, tail = chapter.blocks[0].commands
    leave, back = chapter.blocks[1].commands
    assert ssh.opens_shell == "docker@node-01:~$" and not ssh.checks_status
    assert tail.key == "^C" and tail.expected_before_key == 2 and not tail.checks_status
    assert leave.closes_shell and leave.prompt == "docker@node-01:~$"
    assert not leave.checks_status  # it gives back the shell's last status (130 after ^C)
    assert back.prompt == "$" and not back.closes_shell


def test_declared_prompt_with_spaces_and_comment_lines_are_output() -> None:
    (block,) = parse(
        '```console prompt="/ # "\n$ docker run -it busybox sh\n/ # hostname\n{{ h }}\n'
        "/ # exit\n$ docker-machine env n1\nexport A=1\n# Run this command\n```\n"
    ).blocks
    run, host, leave, env = block.commands
    assert run.opens_shell == "/ #" and host.prompt == "/ #" and leave.closes_shell
    assert [e.text for e in env.expected] == ["export A=1", "# Run this command"]


def test_go_templates_are_literal_and_captures_feed_commands() -> None:
    (block,) = parse(
        "```console\n$ docker ps --format '{{.ID}} {{json .Names}}'\n{{ id }} x\n"
        "$ docker rm {{ id }}\n{{ id }}\n```\n"
    ).blocks
    assert block.commands[0].text == "docker ps --format '{{.ID}} {{json .Names}}'"
    assert block.commands[1].text == "docker rm {{ id }}"


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ('```console colour="red"\n$ true\n```\n', 1, "unknown option 'colour'"),
        ("```console\n$ echo {{ nope }}\n```\n", 2, "no earlier output captures it"),
        ("```console\n$ echo\n{{ x\n```\n", 3, "never closed"),
        ("```console\n$ echo\n{{ x /[a-/ }}\n```\n", 3, "bad regular expression"),
        ("```console\n$ false\n[1]\nmore\n```\n", 3, "must be the last"),
        ('```console until="5"\n$ tail -f x\n^C\n```\n', 2, "until= block"),
        ("```console\nhello\n$ true\n```\n", 2, "output before any command"),
        ("```console\n$ cat <<EOF\nline\n```\n", 3, "unfinished"),
        ('```console timeout="soon"\n$ true\n```\n', 1, "positive number"),
        ("```console skip\n$ true\n```\n", 1, "skip needs a value"),
        ("```console\n$ true\n^C\n^C\n```\n", 4, "one key"),
        ("---\nverify: {lab: {nodez: 2}}\n---\n", 2, "under verify.lab: did you mean `nodes`?"),
        ("---\nverify: [\n---\n", 3, "not valid YAML"),
        ('```console order="random"\n$ true\n```\n', 1, 'only "any"'),
        ("Text.\n\n    ```console\n    $ true\n    ```\n", 3, "not seen as a fenced block"),
        ('```console timeout="nan"\n$ true\n```\n', 1, "positive number"),
        ("```console\n$ echo " + "x" * 4100 + "\n```\n", 2, "cut by the terminal"),
        ("```console\n$ true\n{{ w /(?P<vb__0>a)/ }}\n```\n", 3, "runner's own"),
    ],
)
def test_errors_name_file_and_line(text: str, line: int, words: str) -> None:
    err = error_of(text)
    assert err.loc.line == line, str(err)
    assert str(err).startswith(f"ch.md:{line}: ")
    assert words in str(err)
