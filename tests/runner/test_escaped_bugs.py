"""One test for each one-line bug that once got past the suite (issue 8), fast and direct.

Each was checked by putting its bug back by hand: the test fails with it, passes without.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from runner.cli import LabChoice, _lab_key, main
from runner.lab import engines
from runner.matcher import match
from runner.model import Location
from runner.notation import NotationError, parse_chapter
from runner.notation.options import parse_options
from runner.notation.shellsyntax import LineReader
from runner.records import chapter_hash
from runner.run.execute import BACKOFF_MAX, BACKOFF_START, key_due, next_pause
from runner.site.render import md_cell
from runner.store import ResultStore
from tests.runner.conftest import Verified

HERE = Location(Path("t.md"), 1)


def test_a_run_of_blanks_beside_a_placeholder_matches_any_run_of_blanks() -> None:
    # `docker ps` pads its columns: one blank written may be many printed, and the reverse.
    result = match(["web   {{ id }}   Up"], "web 3f2a      Up")
    assert result.ok and result.captures == {"id": "3f2a"}
    assert match(["web {{ id }} Up"], "web      3f2a\tUp").ok
    assert not match(["web {{ id }} Up"], "web3f2a Up").ok


def test_in_any_order_one_output_line_satisfies_one_expected_line() -> None:
    assert not match(["ready", "ready"], "ready", order_any=True).ok
    assert not match(["ready", "ready", "..."], "ready\nother", order_any=True).ok
    assert match(["ready", "ready"], "ready\nready", order_any=True).ok


def test_a_name_repeated_on_one_line_is_a_back_reference() -> None:
    assert match(["{{ x }} and {{ x }}"], "abc and abc").ok
    assert not match(["{{ x }} and {{ x }}"], "abc and abd").ok
    assert match(["{{ x /[a-z]+/ }}={{ x }}"], "ab=ab").captures == {"x": "ab"}
    assert not match(["{{ x /[a-z]+/ }}={{ x }}"], "ab=ba").ok


@pytest.mark.parametrize("ending", ["|", "&&", "||", "\\"])
def test_a_trailing_operator_continues_the_command(ending: str) -> None:
    reader = LineReader()
    reader.feed(f"docker ps -q {ending}")
    assert reader.unfinished and reader.continued_only
    reader.feed("wc -l")
    assert not reader.unfinished


def test_a_pipe_at_the_end_of_a_line_continues_it_in_a_chapter() -> None:
    chapter = parse_chapter(Path("t.md"), "```console\n$ docker ps -q |\n> wc -l\n0\n```\n")
    (command,) = chapter.blocks[0].commands
    assert command.lines == ("docker ps -q |", "wc -l")
    assert [e.text for e in command.expected] == ["0"]


@pytest.mark.parametrize("status", [1, 42, 127, 255])
def test_exit_statuses_of_up_to_three_digits(status: int) -> None:
    chapter = parse_chapter(Path("t.md"), f"```console\n$ nosuch\nbash: nosuch\n[{status}]\n```\n")
    (command,) = chapter.blocks[0].commands
    assert command.status == status
    assert [e.text for e in command.expected] == ["bash: nosuch"]


@pytest.mark.parametrize("option", ['timeout="0"', 'until="0"', 'timeout="-1"', 'timeout="0.0"'])
def test_a_zero_or_negative_time_is_refused(option: str) -> None:
    with pytest.raises(NotationError, match="positive number of seconds"):
        parse_options(option, HERE, 30.0)
    assert parse_options('timeout="0.5"', HERE, 30.0).timeout == 0.5


def test_a_key_waits_for_complete_lines() -> None:
    # `^C` after `ready`: a last line still being written ("ready" of "ready? not yet") is no
    # evidence; once its newline has come, it is.
    expected = ["line 1", "ready"]
    assert not key_due(expected, "line 1\r\nready", {})
    assert not key_due(expected, "line 1\r\nready? not yet\r\n", {})
    assert key_due(expected, "line 1\r\nready\r\n", {})
    assert key_due(expected, "line 1\r\nready\r\nmore", {})


def test_until_backoff_doubles_up_to_its_cap() -> None:
    pauses = [BACKOFF_START]
    for _ in range(12):
        pauses.append(next_pause(pauses[-1]))
    assert pauses[1] == 2 * BACKOFF_START
    assert max(pauses) == BACKOFF_MAX == pauses[-1]


def test_the_cache_is_keyed_on_the_lab(
    verify: Callable[..., Verified], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A real passing run, re-keyed as the run of a lab chapter on the netns provider.
    plain = verify("```console\n$ echo one\none\n```\n")
    path = tmp_path / "docs" / "lab.md"
    path.write_text("---\nverify:\n  lab: {nodes: 0}\n---\n\n```console\n$ echo one\none\n```\n")
    chapter = parse_chapter(path)
    store = ResultStore.for_chapter(path)
    netns = _lab_key(chapter, LabChoice("netns", ()), engines.bundle(engines.DEFAULT))
    store.save(
        replace(
            plain.passing, chapter=store.key(path), source_hash=chapter_hash(chapter), lab_key=netns
        )
    )
    assert main(["verify", str(path), "--provider", "netns"]) == 0
    assert "cached" in capsys.readouterr().out
    # No provider named: the one chosen (netns, nothing is required) is the same lab.
    assert main(["verify", str(path)]) == 0
    assert "cached" in capsys.readouterr().out
    # Another provider: not cached, so the run asks for that lab (which does not exist).
    assert main(["verify", str(path), "--provider", "nosuch"]) == 2
    out = capsys.readouterr().out
    assert "cached" not in out and "unknown lab provider 'nosuch'" in out


def test_a_pipe_in_a_report_table_cell_is_escaped() -> None:
    assert md_cell("docker ps | wc -l") == "docker ps \\| wc -l"
    assert md_cell("a\n|b|") == "a \\|b\\|"
    assert md_cell("[x]_*`") == "\\[x\\]\\_\\*\\`"
