"""Real chapters, run in real bash sessions through the command line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from runner.cli import main
from tests.runner.conftest import Verified, chapter

Verify = Callable[..., Verified]


def test_captures_ellipsis_and_statuses(verify: Verify) -> None:
    result = verify(chapter("captures.md"))
    assert result.code == 0, result.out
    run = result.passing
    assert run.status == "passed"
    commands = run.blocks[0].commands
    assert commands[0].captures == {"id": "abc007"}
    assert commands[1].command == "echo abc007 again"  # the value was typed
    assert commands[2].elided == ((1, 4),)
    assert commands[4].status == 2


def test_a_mismatch_fails_with_file_line_and_a_diff(verify: Verify) -> None:
    result = verify(chapter("mismatch.md"))
    assert result.code == 1
    assert "mismatch.md, line 5, did not verify" in result.out
    assert "mismatch.md:6: $ printf" in result.out
    assert "-2" in result.out and "+two" in result.out
    assert result.record.passing is None
    assert result.record.latest is not None and result.record.latest.status == "failed"


def test_unexpected_status_says_how_to_accept_it(verify: Verify) -> None:
    result = verify(chapter("unexpected-status.md"))
    assert result.code == 1
    assert "exit status 1, expected 0 (write [1] if that is expected)" in result.out


def test_until_converges_on_a_file_another_session_writes(verify: Verify) -> None:
    result = verify(chapter("until.md"))
    assert result.code == 0, result.out
    run = result.passing
    polled = run.blocks[2].commands[0]
    assert polled.attempts > 1 and polled.output == "ready"


def test_ctrl_c_ends_tail_f(verify: Verify) -> None:
    result = verify(chapter("ctrl-c.md"))
    assert result.code == 0, result.out
    run = result.passing
    tail = run.blocks[0].commands[1]
    assert tail.key == "^C" and "ready" in tail.output


def test_two_sessions_keep_their_own_state(verify: Verify) -> None:
    result = verify(chapter("sessions.md"))
    assert result.code == 0, result.out


def test_nested_shell_with_its_own_prompt(verify: Verify) -> None:
    result = verify(chapter("nested-shell.md"))
    assert result.code == 0, result.out
    run = result.passing
    prompts = [c.prompt for c in run.blocks[0].commands]
    assert prompts == ["$", "box@inner:~$", "box@inner:~$", "box@inner:~$", "$"]
    assert "__VB" not in json.dumps([c.output for c in run.blocks[0].commands])


def test_declared_prompt_with_spaces(verify: Verify) -> None:
    result = verify(chapter("declared-prompt.md"))
    assert result.code == 0, result.out


def test_a_timeout_recovers_and_later_blocks_run(verify: Verify) -> None:
    result = verify(chapter("timeout.md"))
    assert result.code == 1
    run = result.latest
    assert [b.status for b in run.blocks] == ["failed", "passed"]
    error = run.blocks[0].commands[0].error or ""
    assert "timed out after 1 s" in error and "partial" in error


def test_a_session_that_cannot_recover_blocks_its_later_blocks(verify: Verify) -> None:
    result = verify(chapter("lost-session.md"))
    assert result.code == 1
    run = result.latest
    assert [b.status for b in run.blocks] == ["failed", "blocked", "passed"]
    assert "was lost at" in (run.blocks[1].reason or "")


def test_skip_hidden_and_heredoc(verify: Verify) -> None:
    result = verify(chapter("skip-hidden-heredoc.md"))
    assert result.code == 0, result.out
    run = result.passing
    assert [b.status for b in run.blocks] == ["skipped", "passed", "passed"]
    assert run.blocks[0].reason == "pas de VirtualBox ici" and run.blocks[2].hidden


def test_requires_without_a_lab_is_skipped_with_a_reason(verify: Verify) -> None:
    result = verify(chapter("requires-no-lab.md"))
    assert result.code == 0
    run = result.passing
    assert run.blocks[0].status == "skipped"
    assert "no lab" in (run.blocks[0].reason or "")


def test_cache_force_and_failed_runs_keep_the_last_pass(verify: Verify) -> None:
    # Chapters written here, not kept as files: the test edits the chapter between runs.
    chapter = "```console\n$ echo one\none\n```\n"
    first = verify(chapter)
    assert first.code == 0 and first.record.passing is not None
    again = verify(chapter)
    assert "cached" in again.out and again.record.passing == first.record.passing
    forced = verify(chapter, "--force")
    assert "cached" not in forced.out and forced.record.passing != first.record.passing
    broken = verify("```console\n$ echo two\none\n```\n")
    assert broken.code == 1
    assert broken.record.passing == forced.record.passing  # the last pass survives
    assert broken.record.latest is not None and broken.record.latest.status == "failed"


def test_notation_errors_stop_before_anything_runs(verify: Verify, tmp_path: Path) -> None:
    # An absolute path: sessions start in a throwaway home, where a file would vanish anyway.
    ran = tmp_path / "ran.txt"
    result = verify(f'```console\n$ touch {ran}\n```\n```console colour="red"\n$ true\n```\n')
    assert result.code == 2
    assert "chapter.md:4: unknown option 'colour'" in result.out
    assert not ran.exists()
    assert result.record.passing is None and result.record.latest is None


def test_junit_has_a_case_per_block(verify: Verify, tmp_path: Path) -> None:
    junit = tmp_path / "out" / "junit.xml"
    verify(
        chapter("junit.md"),
        "--junit",
        str(junit),
    )
    xml = junit.read_text()
    assert xml.count("<testcase") == 3 and xml.count("<failure") == 1 and "<skipped" in xml


def test_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", str(tmp_path / "missing.md")]) == 2
    assert "no such file or folder" in capsys.readouterr().out


def test_a_key_never_due_fails_with_the_whole_output(verify: Verify) -> None:
    result = verify(chapter("key-never-due.md"))
    assert result.code == 1
    run = result.latest
    command = run.blocks[0].commands[0]
    assert command.output == "done early"
    assert "+done early" in (command.error or "")


def test_prose_only_pages_are_not_recorded(verify: Verify, tmp_path: Path) -> None:
    result = verify(chapter("prose-only.md"))
    assert result.code == 0
    assert not (tmp_path / "verified").exists()


def test_loops_nested_quotes_and_ctrl_d_in_a_nested_shell(verify: Verify) -> None:
    result = verify(chapter("loops-quotes-ctrl-d.md"))
    assert result.code == 0, result.out


def test_a_capture_from_a_skipped_block_is_never_guessed(verify: Verify) -> None:
    result = verify(chapter("never-captured.md"))
    assert result.code == 1
    run = result.latest
    error = run.blocks[1].commands[0].error or ""
    assert "`{{ token }}` was never captured" in error
    # It names the line that should have captured it.
    assert "should have captured it is " in error and "never-captured.md:7" in error


def test_exit_in_the_main_shell_is_reported_as_such(verify: Verify) -> None:
    result = verify(chapter("exit-main-shell.md"))
    assert result.code == 1
    run = result.latest
    assert [b.status for b in run.blocks] == ["failed", "blocked"]
    assert "its shell exited" in (run.blocks[1].reason or "")


def test_a_newer_failure_is_not_hidden_by_the_cache(verify: Verify, tmp_path: Path) -> None:
    flag = tmp_path / "flag"
    chapter = f"```console\n$ cat {flag}\nok\n```\n"
    flag.write_text("ok\n")
    assert verify(chapter).code == 0
    flag.write_text("broken\n")
    assert verify(chapter, "--force").code == 1
    flag.write_text("ok\n")
    again = verify(chapter)
    assert "cached" not in again.out and again.code == 0
    assert again.record.latest is None
