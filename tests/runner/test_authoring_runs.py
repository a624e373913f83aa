"""Issue 11 in real bash sessions: polling to the deadline and failing fast, failures that
point at their cause, and the new notation, through the real command line."""

from __future__ import annotations

from collections.abc import Callable

from tests.runner.conftest import Verified

Verify = Callable[..., Verified]


def test_until_polls_up_to_its_deadline_with_a_last_attempt_there(verify: Verify) -> None:
    result = verify('```console until="3"\n$ echo waiting\ncompleted\n```\n')
    assert result.code == 1
    block = result.latest.blocks[0]
    (command,) = block.commands
    # Before: the next backoff step would pass the deadline, so it gave up at about 1.5 s.
    assert block.duration >= 3.0, block.duration
    assert command.attempts >= 5
    assert "still not matching after" in (command.error or "")


def test_until_stops_at_once_on_a_table_header_that_differs(verify: Verify) -> None:
    result = verify(
        '```console until="60"\n$ printf "ID   NAME   STATE\\nx1   web    running\\n"\n'
        "ID   NAME   STATUS\n{{ /x\\d/ }}   web   running\n```\n"
    )
    assert result.code == 1
    (command,) = result.latest.blocks[0].commands
    assert command.attempts == 1
    assert "stopped polling after 1 attempt(s): the table header differs" in (command.error or "")


def test_until_stops_at_once_on_a_usage_error_or_a_missing_command(verify: Verify) -> None:
    usage = (
        '```console until="60"\n'
        "$ bash -c \"echo 'unknown flag: --nope'; "
        'echo \\"See \'docker ps --help\'.\\"; exit 125"\n'
        "web\n```\n"
    )
    result = verify(usage)
    (command,) = result.latest.blocks[0].commands
    assert command.attempts == 1 and "a usage error" in (command.error or ""), command.error
    result = verify('```console until="60"\n$ no-such-command-here\nweb\n```\n', name="b.md")
    (command,) = result.latest.blocks[0].commands
    assert command.attempts == 1 and "exit status 127" in (command.error or "")


def test_until_keeps_polling_an_error_that_may_pass(verify: Verify) -> None:
    # A daemon error (status 1, e.g. no leader during an election) may pass: it is polled.
    result = verify(
        '```console session="w"\n$ (sleep 1; touch ok) &\n...\n$ pwd\n{{ d }}\n```\n'
        '```console until="30"\n'
        '$ test -e {{ d }}/ok && echo "ID  NAME" || { echo "Error response from daemon"; false; }\n'
        "ID  NAME\n```\n"
    )
    assert result.code == 0, result.out
    assert result.passing.blocks[1].commands[0].attempts > 1


def test_a_failed_hidden_block_blocks_its_session_naming_the_line(verify: Verify) -> None:
    result = verify(
        "```console hidden\n$ true\n$ false\n```\n"
        "```console\n$ echo after\nafter\n```\n"
        '```console session="other"\n$ echo other\nother\n```\n'
    )
    assert result.code == 1
    blocks = result.latest.blocks
    assert [b.status for b in blocks] == ["failed", "blocked", "passed"]
    assert "hidden block at" in (blocks[1].reason or "")
    assert "chapter.md:3" in (blocks[1].reason or "")
    assert "chapter.md:3" in result.out


def test_a_failed_visible_block_lets_its_session_go_on(verify: Verify) -> None:
    result = verify("```console\n$ false\n```\n```console\n$ echo after\nafter\n```\n")
    assert [b.status for b in result.latest.blocks] == ["failed", "passed"]


def test_unchecked_output_is_neither_checked_nor_kept_but_the_status_is(verify: Verify) -> None:
    result = verify("```console unchecked\n$ date; echo noise\n$ (exit 3)\n[3]\n```\n")
    assert result.code == 0, result.out
    commands = result.passing.blocks[0].commands
    assert [c.output for c in commands] == ["", ""]
    failed = verify("```console unchecked\n$ echo x; false\n```\n", name="b.md")
    assert failed.code == 1 and "exit status 1" in (failed.latest.blocks[0].commands[0].error or "")


def test_a_nested_prompt_holding_a_captured_value(verify: Verify) -> None:
    result = verify(
        "```console\n$ echo box-7\n{{ node }}\n"
        "$ env PS1='[box-7]$ ' bash --norc --noprofile\n"
        "[{{ node }}]$ echo inside\ninside\n[{{ node }}]$ exit\nexit\n$ echo out\nout\n```\n"
    )
    assert result.code == 0, result.out
    prompts = [c.prompt for c in result.passing.blocks[0].commands]
    assert prompts == ["$", "$", "[box-7]$", "[box-7]$", "$"]


def test_a_chapter_with_its_own_elision_marker_and_repeated_lines(verify: Verify) -> None:
    result = verify(
        '---\nverify:\n  elision: "...snip..."\n---\n'
        "```console\n$ seq 1 5\n1\n...snip...\n5\n"
        "$ printf 'a\\n...\\nb\\n'\na\n...\nb\n"
        "$ printf 'H\\nweb.1 Running\\nweb.2 Running\\n'\nH\nweb.{{ /\\d/ }} Running {{ * }}\n"
        "$ echo H\nH\nweb.{{ /\\d/ }} Running {{ * }}\n```\n"
    )
    assert result.code == 0, result.out
    assert result.passing.blocks[0].commands[0].elided == ((1, 4),)
