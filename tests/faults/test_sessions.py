"""Sessions behave like a reader's terminal, and recover from what a chapter does to them."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.faults.conftest import Verify, book


def test_sigpipe_gives_what_a_terminal_shows(verify: Verify) -> None:
    result = verify(
        "```console\n"
        "$ yes | head -n 1\ny\n"
        "$ seq 1 1000000 | head -n 1\n1\n"
        "$ yes 2>&1 | head -c 2 | wc -c\n2\n"
        "$ yes | head -n 1 >/dev/null; echo ${PIPESTATUS[0]}\n141\n"
        "```\n"
    )
    assert result.code == 0, result.out
    outputs = [c.output for c in result.passing.blocks[0].commands]
    assert outputs == ["y", "1", "2", "141"]  # no `yes: standard output: Broken pipe`


def test_sigxfsz_kills_as_in_a_login_shell(verify: Verify) -> None:
    # With SIGXFSZ ignored (inherited from Python), the write fails with EFBIG instead.
    result = verify(
        "```console\n$ (ulimit -f 1; head -c 5000 /dev/zero > big); echo $?\n153\n```\n"
    )
    assert result.code == 0, result.out


def test_cat_timeout_recovers_twenty_times_out_of_twenty(verify: Verify) -> None:
    pairs = 20
    text = "".join(
        f'```console timeout="2"\n$ cat\n```\n\n```console\n$ echo after {n}\nafter {n}\n```\n\n'
        for n in range(pairs)
    )
    result = verify(text)
    assert result.code == 1, result.out
    statuses = [b.status for b in result.latest.blocks]
    assert statuses == ["failed", "passed"] * pairs, statuses
    assert all(
        "timed out after 2 s" in (b.commands[0].error or "") for b in result.latest.blocks[::2]
    )


def test_read_builtin_timeout_recovers(verify: Verify) -> None:
    result = verify('```console timeout="1"\n$ read line\n```\n\n```console\n$ echo ok\nok\n```\n')
    assert [b.status for b in result.latest.blocks] == ["failed", "passed"], result.out


def test_a_command_ignoring_ctrl_c_is_killed_and_the_session_goes_on(verify: Verify) -> None:
    result = verify(
        '```console timeout="1"\n$ bash -c "trap \'\' INT; sleep 60"\n```\n\n'
        "```console\n$ echo ok\nok\n```\n"
    )
    assert [b.status for b in result.latest.blocks] == ["failed", "passed"], result.out


def test_a_changed_prompt_is_said_and_put_back(verify: Verify) -> None:
    result = verify(
        "```console timeout=\"2\"\n$ PS1='moi> '\n```\n\n```console\n$ echo ok\nok\n```\n"
    )
    assert [b.status for b in result.latest.blocks] == ["failed", "passed"], result.out
    assert "prompt was changed" in (result.latest.blocks[0].commands[0].error or "")
    assert "prompt was changed" in result.out


def test_stty_echo_does_not_leak_into_later_commands(verify: Verify) -> None:
    result = verify(
        "```console\n$ stty echo\n$ echo one\none\n```\n\n```console\n$ echo two\ntwo\n```\n"
    )
    assert result.code == 0, result.out


def _alive(pattern: str) -> list[str]:
    found = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True)
    return found.stdout.split()


def test_setsid_and_nohup_processes_end_with_the_session(verify: Verify) -> None:
    tag = f"{os.getpid() % 1000}{time.monotonic_ns() % 1000:03d}"  # unlike any other sleep
    result = verify(
        "```console\n"
        f"$ setsid sleep 4321.{tag}1 > /dev/null 2>&1 < /dev/null &\n...\n"
        f"$ nohup sleep 4321.{tag}2 > /dev/null 2>&1 &\n...\n"
        f"$ setsid -f sleep 4321.{tag}3\n...\n"
        f"$ sleep 0.2; pgrep -f 'sleep 4321.{tag}' | wc -l\n3\n...\n"
        "```\n"
    )
    assert result.code == 0, result.out
    assert _alive(f"sleep 4321.{tag}") == []


def test_a_mount_in_home_is_unmounted_and_home_removed(verify: Verify) -> None:
    if os.geteuid() != 0:
        pytest.skip("only root can mount")
    result = verify(
        "```console\n$ mkdir m && mount -t tmpfs none m && touch m/f && pwd\n{{ home }}\n```\n"
    )
    assert result.code == 0, result.out
    home = result.passing.blocks[0].commands[0].captures["home"]
    assert "Traceback" not in result.out
    assert home not in Path("/proc/self/mountinfo").read_text()
    assert not Path(home).exists()


def test_what_a_killed_run_left_is_removed_by_the_next(tmp_path: Path) -> None:
    tag = f"{os.getpid() % 1000}{time.monotonic_ns() % 1000:03d}"
    stray, waiting = f"sleep 4322.{tag}", f"sleep 4323.{tag}"
    chapter = book(
        tmp_path,
        f"```console\n$ setsid {stray} > /dev/null 2>&1 < /dev/null &\n...\n$ {waiting}\n```\n",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "runner", "verify", str(chapter)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not _alive(waiting):
        assert time.monotonic() < deadline, "the chapter never started"
        time.sleep(0.05)
    homes = list(Path("/tmp").glob(f"verify-home-{proc.pid}-*"))
    assert homes, "the run's home is named after its pid"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    left = _alive(stray) + _alive(waiting)
    try:
        # SIGKILL left the home and the stray; not asserted here, since any other run on the
        # machine (another user's) may already have cleaned them: the next run must have.
        (tmp_path / "next").mkdir()
        other = book(tmp_path / "next", "```console\n$ echo ok\nok\n```\n")
        done = subprocess.run(
            [sys.executable, "-m", "runner", "verify", str(other)], capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert not homes[0].exists()
        # Found by the session cgroup (root) or by the marker naming the dead run's home.
        assert _alive(stray) == [] and _alive(waiting) == []
    finally:
        for pid in left:  # only the processes this test started
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)


def test_a_capture_that_leaves_the_command_unfinished_fails_at_once(verify: Verify) -> None:
    result = verify(
        '```console\n$ echo "it\'s"\n{{ word }}\n```\n\n'
        "```console\n$ echo {{ word }}\nit's\n```\n\n```console\n$ echo still\nstill\n```\n"
    )
    assert [b.status for b in result.latest.blocks] == ["passed", "failed", "passed"]
    error = result.latest.blocks[1].commands[0].error or ""
    assert (
        "{{ word }}" in error
        and "captured at" in error
        and "c.md:2" in error.replace("chapter.md", "c.md")
    ), error
    assert "timed out" not in error


def test_nfc_and_nfd_are_shown_with_code_points(verify: Verify) -> None:
    result = verify("```console\n$ printf 'cafe\\xcc\\x81\\n'\ncafé\n```\n")
    assert result.code == 1
    error = result.latest.blocks[0].commands[0].error or ""
    assert "U+00E9" in error and "U+0065 U+0301" in error, error


def test_an_empty_file_says_there_is_nothing_to_verify(verify: Verify) -> None:
    result = verify("")
    assert result.code == 0
    assert "nothing to verify" in result.out


def test_without_root_the_environment_marker_ends_setsid_processes() -> None:
    """As a real other user (no cgroup can be made): the marker net alone."""
    if os.geteuid() != 0:
        pytest.skip("needs root to become another user for the test")
    from runner.run.home import make_home, remove_home
    from runner.run.session import Shell

    tag = f"4324.{os.getpid() % 1000}{time.monotonic_ns() % 1000:03d}"
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover (child)
        os.close(read)
        report = "child failed"
        try:
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            home = make_home()
            shell = Shell("main", {"PATH": os.environ["PATH"]}, home)
            started = shell.run(f"setsid sleep {tag} > /dev/null 2>&1 < /dev/null &", 30)
            for _ in range(200):  # the background job may not have started yet
                if _alive(f"sleep {tag}"):
                    break
                time.sleep(0.05)
            before = len(_alive(f"sleep {tag}"))
            shell.close()
            remove_home(home)
            report = f"{started.status} {before} {len(_alive(f'sleep {tag}'))}"
        finally:
            os.write(write, report.encode())
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as fh:
        report = fh.read()
    os.waitpid(pid, 0)
    for left in _alive(f"sleep {tag}"):  # only what this test started
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(left), signal.SIGKILL)
    assert report == "0 1 0", report  # started, running, then ended with the session
