"""Bounded work: big outputs are read, stored and diffed within bounds; an author's regular
expression cannot hang the run. (Speed is measured in `nox -s bench`, not asserted here.)"""

from __future__ import annotations

import json
from pathlib import Path

from runner.matcher import MAX_DIFF_LINES
from runner.run.output import KEEP_LINES, MAX_LINE_CHARS
from tests.faults.conftest import Verify

TEN_MB = "head -c 10000000 /dev/zero | tr '\\0' a | fold -w 99"


def _stored(tmp_path: Path) -> int:
    return sum(p.stat().st_size for p in (tmp_path / "verified").rglob("*.json"))


def test_ten_megabytes_verify_and_are_stored_bounded(verify: Verify, tmp_path: Path) -> None:
    result = verify(f"```console\n$ {TEN_MB}\n...\n$ echo after\nafter\n```\n")
    assert result.code == 0, result.out[-2000:]
    command = result.passing.blocks[0].commands[0]
    assert command.status == 0
    lines = command.output.split("\n")
    assert len(lines) == 2 * KEEP_LINES + 1
    assert "lignes non conservées" in lines[KEEP_LINES]
    assert command.elided == ((0, len(lines)),)  # the `...` folds the note too
    assert _stored(tmp_path) < 2 * (2 * KEEP_LINES + 1) * (MAX_LINE_CHARS + 100)


def test_a_failing_five_megabyte_output_prints_a_bounded_diff(
    verify: Verify, tmp_path: Path
) -> None:
    result = verify(
        "```console\n$ head -c 5000000 /dev/zero | tr '\\0' b | fold -w 99\nnot this\n```\n"
    )
    assert result.code == 1
    error = result.latest.blocks[0].commands[0].error or ""
    assert len(error.splitlines()) <= MAX_DIFF_LINES + 5
    assert "more lines of diff not shown" in error
    assert len(result.out.splitlines()) < MAX_DIFF_LINES + 50
    assert _stored(tmp_path) < 2_000_000
    record = json.loads(next((tmp_path / "verified").rglob("*.json")).read_text())
    assert "lignes non conservées" in record["latest"]["blocks"][0]["commands"][0]["output"]


def test_a_catastrophic_regex_fails_the_block_with_its_reason(verify: Verify) -> None:
    result = verify(
        "```console\n$ printf 'a%.0s' $(seq 40); echo\n{{ /(a|aa)+b/ }}\n```\n\n"
        "```console\n$ echo next\nnext\n```\n"
    )
    assert [b.status for b in result.latest.blocks] == ["failed", "passed"], result.out
    error = result.latest.blocks[0].commands[0].error or ""
    assert "matching gave up after 2 s (of processor time)" in error and "(a|aa)+b" in error, error


def test_the_issue_regex_no_longer_hangs(verify: Verify) -> None:
    result = verify("```console\n$ printf 'a%.0s' $(seq 40); echo\n{{ /(a+)+b/ }}\n```\n")
    assert result.code == 1
    assert "output differs" in (result.latest.blocks[0].commands[0].error or "")


def test_capped_output_keeps_elided_spans_on_the_right_lines() -> None:
    from runner.run.output import cap_output

    n = 5000
    lines = [f"line {i}" for i in range(n)]
    # A fold in the head, one across the cut, one in the tail.
    stored, spans = cap_output("\n".join(lines), ((10, 20), (400, 4800), (4900, 4950)))
    kept = stored.split("\n")
    assert len(kept) == 2 * KEEP_LINES + 1
    assert kept[KEEP_LINES].startswith("[… 4\u202f000 lignes non conservées\u00a0:")
    head, across, tail = spans
    assert kept[head[0]] == "line 10" and kept[head[1]] == "line 20"
    assert kept[across[0]] == "line 400" and kept[across[1]] == "line 4800"
    assert across[0] < KEEP_LINES < across[1]  # the note is folded with it
    assert kept[tail[0]] == "line 4900" and kept[tail[1]] == "line 4950"
    assert cap_output("short\noutput", ((0, 1),)) == ("short\noutput", ((0, 1),))


def test_a_late_difference_in_a_long_output_is_numbered_as_in_the_output() -> None:
    from runner.matcher import match

    actual = [f"l{i}" for i in range(6000)]
    expected = list(actual)
    expected[4000] = "changed"
    result = match(expected, "\n".join(actual))
    assert not result.ok
    lines = result.diff.splitlines()
    assert len(lines) <= MAX_DIFF_LINES + 1
    hunk = next(line for line in lines if line.startswith("@@"))
    assert hunk == "@@ -3998,7 +3998,7 @@", hunk
    assert "-changed" in lines and "+l4000" in lines


def test_one_huge_line_is_stored_and_diffed_bounded(verify: Verify, tmp_path: Path) -> None:
    result = verify("```console\n$ head -c 3000000 /dev/zero | tr '\\0' c; echo\nnot this\n```\n")
    assert result.code == 1
    command = result.latest.blocks[0].commands[0]
    assert all(len(line) < MAX_LINE_CHARS + 100 for line in command.output.split("\n"))
    assert all(len(line) < MAX_LINE_CHARS + 100 for line in (command.error or "").split("\n"))
    assert _stored(tmp_path) < 50_000
