"""Real chapters, run in real bash sessions through the command line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.runner.conftest import Verified

Verify = Callable[..., Verified]


def test_captures_ellipsis_and_statuses(verify: Verify) -> None:
    result = verify(
        "# Essai\n\n```console\n"
        "$ echo \"id: $(printf 'abc%03d' 7)\"\nid: {{ id }}\n"
        "$ echo {{ id }} again\n{{ id }} again\n"
        "$ seq 1 5\n1\n...\n5\n"
        "$ echo 'the quick brown fox'\nthe [..] fox\n"
        "$ ls /nowhere 2>/dev/null\n[2]\n"
        "```\n"
    )
    assert result.code == 0, result.out
    run = result.passing
    assert run.status == "passed"
    commands = run.blocks[0].commands
    assert commands[0].captures == {"id": "abc007"}
    assert commands[1].command == "echo abc007 again"  # the value was typed
    assert commands[2].elided == ((1, 4),)
    assert commands[4].status == 2


def test_a_mismatch_fails_with_file_line_and_a_diff(verify: Verify) -> None:
    result = verify("```console\n$ printf 'one\\ntwo\\nthree\\n'\none\n2\nthree\n```\n")
    assert result.code == 1
    assert "chapter.md, line 1, did not verify" in result.out
    assert "chapter.md:2: $ printf" in result.out
    assert "-2" in result.out and "+two" in result.out
    assert result.record.passing is None
    assert result.record.latest is not None and result.record.latest.status == "failed"


def test_unexpected_status_says_how_to_accept_it(verify: Verify) -> None:
    result = verify("```console\n$ false\n```\n")
    assert result.code == 1
    assert "exit status 1, expected 0 (write [1] if that is expected)" in result.out


def test_until_converges_on_a_file_another_session_writes(verify: Verify) -> None:
    result = verify(
        '```console session="writer"\n$ (sleep 1.5; echo ready > flag) &\n...\n```\n\n'
        '```console session="writer"\n$ pwd\n{{ dir }}\n```\n\n'
        '```console until="20"\n$ cat {{ dir }}/flag 2>/dev/null || echo waiting\nready\n```\n'
    )
    assert result.code == 0, result.out
    run = result.passing
    polled = run.blocks[2].commands[0]
    assert polled.attempts > 1 and polled.output == "ready"


def test_ctrl_c_ends_tail_f(verify: Verify) -> None:
    result = verify(
        "```console\n$ (for i in 1 2 3; do echo line $i; done; sleep 0.3; echo ready) > log\n"
        "$ tail -f log\nline 1\n...\nready\n^C\n$ echo after\nafter\n```\n"
    )
    assert result.code == 0, result.out
    run = result.passing
    tail = run.blocks[0].commands[1]
    assert tail.key == "^C" and "ready" in tail.output


def test_two_sessions_keep_their_own_state(verify: Verify) -> None:
    result = verify(
        "```console\n$ export WHO=first; cd /tmp\n```\n"
        '```console session="two"\n$ echo ${WHO:-unset}\nunset\n```\n'
        "```console\n$ echo $WHO $PWD\nfirst /tmp\n```\n"
    )
    assert result.code == 0, result.out


def test_nested_shell_with_its_own_prompt(verify: Verify) -> None:
    result = verify(
        "```console\n$ env PS1='box@inner:~$ ' bash --norc --noprofile\n"
        "box@inner:~$ echo $((6 * 7))\n42\n"
        "box@inner:~$ false\n[1]\n"
        "box@inner:~$ exit 3\nexit\n[3]\n"
        "$ echo back\nback\n```\n"
    )
    assert result.code == 0, result.out
    run = result.passing
    prompts = [c.prompt for c in run.blocks[0].commands]
    assert prompts == ["$", "box@inner:~$", "box@inner:~$", "box@inner:~$", "$"]
    assert "__VB" not in json.dumps([c.output for c in run.blocks[0].commands])


def test_declared_prompt_with_spaces(verify: Verify) -> None:
    result = verify(
        "```console prompt=\"/ # \"\n$ env PS1='/ # ' bash --norc --noprofile\n"
        "/ # echo inside\ninside\n/ # exit\nexit\n$ echo out\nout\n```\n"
    )
    assert result.code == 0, result.out


def test_a_timeout_recovers_and_later_blocks_run(verify: Verify) -> None:
    result = verify(
        '```console timeout="1"\n$ echo partial; sleep 30\npartial\n```\n'
        "```console\n$ echo still here\nstill here\n```\n"
    )
    assert result.code == 1
    run = result.latest
    assert [b.status for b in run.blocks] == ["failed", "passed"]
    error = run.blocks[0].commands[0].error or ""
    assert "timed out after 1 s" in error and "partial" in error


def test_a_session_that_cannot_recover_blocks_its_later_blocks(verify: Verify) -> None:
    result = verify(
        '```console timeout="1"\n$ bash -c "trap \'\' INT; sleep 60"\n```\n'
        "```console\n$ echo never\nnever\n```\n"
        '```console session="other"\n$ echo other\nother\n```\n'
    )
    assert result.code == 1
    run = result.latest
    assert [b.status for b in run.blocks] == ["failed", "blocked", "passed"]
    assert "was lost at" in (run.blocks[1].reason or "")


def test_skip_hidden_and_heredoc(verify: Verify) -> None:
    result = verify(
        '```console skip="pas de VirtualBox ici"\n$ docker-machine create -d virtualbox x\n```\n'
        "```console\n$ cat <<'EOF' > f.txt\n> hello\n> EOF\n```\n"
        "```console hidden\n$ cat f.txt\nhello\n```\n"
    )
    assert result.code == 0, result.out
    run = result.passing
    assert [b.status for b in run.blocks] == ["skipped", "passed", "passed"]
    assert run.blocks[0].reason == "pas de VirtualBox ici" and run.blocks[2].hidden


def test_requires_without_a_lab_is_skipped_with_a_reason(verify: Verify) -> None:
    result = verify('```console requires="ipvs"\n$ true\n```\n')
    assert result.code == 0
    run = result.passing
    assert run.blocks[0].status == "skipped"
    assert "no lab" in (run.blocks[0].reason or "")


def test_cache_force_and_failed_runs_keep_the_last_pass(verify: Verify) -> None:
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
    result = verify('```console\n$ touch ran.txt\n```\n```console colour="red"\n$ true\n```\n')
    assert result.code == 2
    assert "chapter.md:4: unknown option 'colour'" in result.out
    assert not list(tmp_path.rglob("ran.txt"))
    assert result.record.passing is None and result.record.latest is None


def test_junit_has_a_case_per_block(verify: Verify, tmp_path: Path) -> None:
    junit = tmp_path / "out" / "junit.xml"
    verify(
        '```console\n$ true\n```\n```console\n$ false\n```\n```console skip="x"\n$ true\n```\n',
        "--junit",
        str(junit),
    )
    xml = junit.read_text()
    assert xml.count("<testcase") == 3 and xml.count("<failure") == 1 and "<skipped" in xml


def test_usage_errors(verify: Verify, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from runner.cli import main

    assert main(["verify", str(tmp_path / "missing.md")]) == 2
    assert "no such file or folder" in capsys.readouterr().out


def test_a_key_never_due_fails_with_the_whole_output(verify: Verify) -> None:
    result = verify("```console\n$ echo done early\nnever printed\n^C\n```\n")
    assert result.code == 1
    run = result.latest
    command = run.blocks[0].commands[0]
    assert command.output == "done early"
    assert "+done early" in (command.error or "")


def test_prose_only_pages_are_not_recorded(verify: Verify, tmp_path: Path) -> None:
    result = verify("# Accueil\n\nDu texte, et un bloc bash :\n\n```bash\nls\n```\n")
    assert result.code == 0
    assert not (tmp_path / "verified").exists()


def test_loops_nested_quotes_and_ctrl_d_in_a_nested_shell(verify: Verify) -> None:
    result = verify(
        "```console\n$ for i in 1 2; do\n> echo n$i\n> done\nn1\nn2\n"
        '$ echo "$(echo "l\'eau")"\nl\'eau\n'
        "$ env PS1='inner$ ' bash --norc --noprofile\n"
        "inner$ cat\n^D\ninner$ echo still\nstill\ninner$ ^D\nexit\n"
        "$ docker inspect -f '{{range .X}}{{end}}' 2>/dev/null || echo '{{end}}'\n{{end}}\n```\n"
    )
    assert result.code == 0, result.out


def test_a_capture_from_a_skipped_block_is_never_guessed(verify: Verify) -> None:
    result = verify(
        '```console requires="ipvs"\n$ echo secret\n{{ token }}\n```\n'
        "```console\n$ echo {{ token }}\n{{ token }}\n```\n"
    )
    assert result.code == 1
    run = result.latest
    assert "{{ token }} was never captured" in (run.blocks[1].commands[0].error or "")


def test_exit_in_the_main_shell_is_reported_as_such(verify: Verify) -> None:
    result = verify("```console\n$ exit\n```\n```console\n$ true\n```\n")
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
