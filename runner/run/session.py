"""A persistent bash driven through a pty by pexpect, in the manner of pexpect's replwrap.

bash runs with no rc files and no line editing, echo off, `TERM=dumb`, a fixed terminal size,
and a prompt that carries the exit status of the last command and the nesting depth. The
prompt is written split in PS1 (`$?` is expanded only when shown), so that printing the
environment never fakes it. PS2 is empty: continuation prompts never reach the output.

What a reader's terminal does, the session does too: every signal disposition is reset to the
default in the child (Python ignores SIGPIPE and SIGXFSZ, and `yes | head -n 1` would complain
of a broken pipe), and the terminal mode is put back after each command (`stty echo` would
otherwise echo every later command). Output is read in one pass: the prompt is looked for in
the new data only (plus a short overlap), so 10 MB of output cost what reading them costs.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import termios
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pexpect

from runner.run.tracking import Tracker

ROWS, COLUMNS = 50, 200
RESYNC_TIMEOUT = 5.0
INTERRUPT_GRACE = 2.0  # after Ctrl-C, how long a command has to die and give the prompt back
LOOKBACK = 512  # longer than any prompt we look for: a prompt split across two reads is found
READ_SIZE = 1 << 16
POLL = 0.05


@dataclass(frozen=True)
class ShellResult:
    output: str  # raw, as read from the pty (not normalised)
    status: int | None  # exit status read from the prompt; None when not at our prompt
    duration: float
    timed_out: bool = False
    recovered: bool = True  # after a timeout: did the session come back to its prompt?
    nested: bool = False  # the nested shell's prompt appeared (run_open)
    note: str | None = None  # what recovery found (e.g. the prompt was changed)


class SessionLost(Exception):
    pass


class _Timeout(Exception):
    pass


def _reset_signals() -> None:
    """In the child, before exec: a login shell's signal dispositions, nothing blocked."""
    for sig in signal.valid_signals():
        if sig in (signal.SIGKILL, signal.SIGSTOP):
            continue
        with contextlib.suppress(OSError, ValueError):
            signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, set())


class _Stream:
    """What the pty printed since the last match, searched linearly."""

    def __init__(self, child: pexpect.spawn) -> None:
        self._child = child
        self._chunks: list[str] = []
        self._size = 0
        self._tail = ""  # the end of what was already searched
        self._leftover = ""  # read past the last match, not yet searched

    def pending(self) -> str:
        return "".join(self._chunks)

    def unread(self, text: str) -> None:
        """Put back, in front, text taken by a match that turned out not to be ours."""
        if text:
            self._chunks.insert(0, text)
            self._size += len(text)

    def take(self) -> str:
        """Everything pending, which is then forgotten."""
        text = self.pending() + self._leftover
        self._chunks, self._size, self._tail, self._leftover = [], 0, "", ""
        return text

    def until(
        self,
        patterns: list[re.Pattern[str]],
        timeout: float,
        on_data: Callable[[], bool] | None = None,
    ) -> tuple[int, re.Match[str], str]:
        """Read until one of `patterns` appears; returns (index, match, text before it).

        `on_data()` is called after new data and every POLL seconds; True stops the wait
        (raises _Timeout with nothing consumed). Raises _Timeout, pexpect.EOF."""
        deadline = time.monotonic() + timeout
        data, self._leftover = self._leftover, ""
        while True:
            if data:
                base = self._size - len(self._tail)
                window = self._tail + data
                self._chunks.append(data)
                self._size += len(data)
                found: tuple[int, re.Match[str]] | None = None
                for index, pattern in enumerate(patterns):
                    hit = pattern.search(window)
                    if hit is not None and (found is None or hit.start() < found[1].start()):
                        found = (index, hit)
                if found is not None:
                    full = self.pending()
                    before = full[: base + found[1].start()]
                    self._leftover = full[base + found[1].end() :]
                    self._chunks, self._size, self._tail = [], 0, ""
                    return found[0], found[1], before
                self._tail = window[-LOOKBACK:]
            if on_data is not None and on_data():
                raise _Timeout("stopped by the caller")
            left = deadline - time.monotonic()
            if left <= 0:
                raise _Timeout("no match in time")
            wait = min(left, POLL) if on_data is not None else left
            try:
                data = self._child.read_nonblocking(READ_SIZE, timeout=wait)
            except pexpect.TIMEOUT:
                data = ""


class Shell:
    """One terminal of a chapter: a bash, and the nested shells opened inside it."""

    def __init__(self, name: str, env: dict[str, str], cwd: Path) -> None:
        self.name = name
        self.token = secrets.token_hex(6)
        self.depth = 0
        self.alive = True
        self.exited = False  # the shell itself ended (`exit` at its own prompt)
        self._tracker = Tracker.create(f"{cwd.name}/{self.token}")

        def preexec() -> None:
            _reset_signals()
            self._tracker.join()

        self._child = pexpect.spawn(
            "bash",
            ["--norc", "--noprofile", "--noediting"],
            env={**env, **self._tracker.env(), "TERM": "dumb", "HISTFILE": "/dev/null"},
            cwd=str(cwd),
            encoding="utf-8",
            codec_errors="replace",
            echo=False,
            dimensions=(ROWS, COLUMNS),
            timeout=RESYNC_TIMEOUT,
            preexec_fn=preexec,
        )
        # pexpect sleeps 50 ms before every send by default: that alone would dominate.
        self._child.delaybeforesend = None
        self._child.delayafterread = None  # and 0.1 ms after every read
        # Closing the pty hangs bash up at once; 0.1 s of grace per session is too long.
        self._child.ptyproc.delayafterclose = 0.02
        self._stream = _Stream(self._child)
        self._prompt = re.compile(rf"__VB{self.token}_(\d+):(\d+)__> ")
        self._modes: dict[int, list[Any]] = {}  # terminal mode, by depth, as we set it
        self._setup(0)

    # --- the prompt ------------------------------------------------------------------------

    def _init_line(self, depth: int) -> str:
        # `$?` stays unexpanded in the value: only the shown prompt has digits there.
        ps1 = f"__VB{self.token}_{depth}:" + "$?" + "__> "
        return (
            "stty -echo 2>/dev/null; set +o emacs +o vi 2>/dev/null; unset PROMPT_COMMAND; "
            f"PS1='{ps1}'; PS2=''; export -n PS1 PS2; export TERM=dumb"
        )

    def _setup(self, depth: int) -> None:
        self._child.send(self._init_line(depth) + "\n")
        try:
            self._expect_prompt(depth, RESYNC_TIMEOUT)
        except _Timeout as exc:
            raise pexpect.TIMEOUT(f"no prompt from the new shell: {exc}") from None
        self._modes[depth] = self._mode()

    def _expect_prompt(
        self, depth: int, timeout: float, on_data: Callable[[], bool] | None = None
    ) -> tuple[int, str]:
        """Wait for our prompt at `depth`; returns (the exit status it shows, output before)."""
        deadline = time.monotonic() + timeout
        skipped = ""
        while True:
            left = max(0.0, deadline - time.monotonic())
            try:
                _, found, before = self._stream.until([self._prompt], left, on_data)
            except _Timeout:
                self._stream.unread(skipped)  # keep it for the partial output
                raise
            if int(found.group(1)) == depth:
                return int(found.group(2)), skipped + before
            skipped += before + found.group(0)

    # --- the terminal mode -----------------------------------------------------------------

    def _mode(self) -> list[Any]:
        try:
            return termios.tcgetattr(self._child.child_fd)
        except termios.error:
            return []

    def _restore_mode(self) -> None:
        """`stty echo` and the like last one command: the next starts in our mode again."""
        wanted = self._modes.get(self.depth)
        if wanted and self._mode() != wanted:
            with contextlib.suppress(termios.error):
                termios.tcsetattr(self._child.child_fd, termios.TCSANOW, wanted)

    # --- running ---------------------------------------------------------------------------

    def run(
        self,
        command: str,
        timeout: float,
        *,
        key: str | None = None,
        ready: Callable[[str], bool] | None = None,
        opens: str | None = None,
        closes: bool = False,
    ) -> ShellResult:
        """Type a command and read its output up to the next prompt.

        key/ready: send `key` once `ready(output so far)` holds (e.g. ^C after `tail -f`).
        opens: the command starts a nested shell whose prompt is `opens`.
        closes: the command leaves the current nested shell.
        """
        if not self.alive:
            raise SessionLost(self.name)
        start = time.monotonic()
        deadline = start + timeout
        if command or key is None:
            self._child.send(command + "\n")  # else: only a key, pressed at the prompt
        try:
            if key is not None:
                early = self._wait_then_send(key, ready or (lambda _: True), deadline)
                if early is not None:
                    # The command ended before its key was due: the key is not sent.
                    self._restore_mode()
                    return ShellResult(early[1], early[0], time.monotonic() - start)
            if opens is not None:
                return self._read_open(opens, start, deadline)
            depth = self.depth - 1 if closes else self.depth
            status, output = self._expect_prompt(depth, max(0.0, deadline - time.monotonic()))
            self.depth = depth
            self._restore_mode()
            return ShellResult(output, status, time.monotonic() - start)
        except (_Timeout, pexpect.TIMEOUT):  # the latter: a nested shell that never set up
            partial = self._stream.take()
            recovered, note = self.interrupt()
            return ShellResult(
                partial,
                None,
                time.monotonic() - start,
                timed_out=True,
                recovered=recovered,
                note=note,
            )
        except pexpect.EOF:
            self.alive = False
            self.exited = True
            partial = self._stream.take()
            self.close()
            return ShellResult(
                partial, None, time.monotonic() - start, timed_out=False, recovered=False
            )

    def _wait_then_send(
        self, key: str, ready: Callable[[str], bool], deadline: float
    ) -> tuple[int, str] | None:
        """Send `key` once `ready(output)`; (status, output) if our prompt came back first."""
        seen = [-1]
        quiet_until = [0.0]

        def due() -> bool:
            now = time.monotonic()
            if now > deadline:
                raise _Timeout("key never became due")
            text = self._stream.pending()
            if len(text) == seen[0] or now < quiet_until[0]:
                return False  # nothing new since `ready` said no, or asked too recently
            seen[0] = len(text)
            answer = ready(text)
            # `ready` reads the whole output: spaced out by its own cost, it stays a small
            # share of the time however much the command prints before its key is due.
            quiet_until[0] = time.monotonic() + 4 * (time.monotonic() - now)
            return answer

        try:
            status, output = self._expect_prompt(
                self.depth, max(0.0, deadline - time.monotonic()), due
            )
        except _Timeout:
            if time.monotonic() > deadline:
                raise
            self._child.send(key)
            return None
        return status, output

    def _read_open(self, prompt: str, start: float, deadline: float) -> ShellResult:
        nested = re.compile(re.escape(prompt) + " ?")
        index, found, output = self._stream.until(
            [nested, self._prompt], max(0.0, deadline - time.monotonic())
        )
        if index == 1:  # back at our own prompt: the nested shell never opened
            return ShellResult(output, int(found.group(2)), time.monotonic() - start)
        self.depth += 1
        self._setup(self.depth)
        return ShellResult(output, None, time.monotonic() - start, nested=True)

    def interrupt(self) -> tuple[bool, str | None]:
        """After a timeout: Ctrl-C, wait for the command to die and our prompt to come back,
        only then resynchronise. A line typed while the command still reads its input would
        be swallowed by it. Returns (recovered, what was found)."""
        note: str | None = None
        try:
            at_prompt = False
            for attempt in range(2):
                self._child.sendintr()
                try:
                    self._expect_prompt(self.depth, INTERRUPT_GRACE)
                    at_prompt = True
                    break
                except _Timeout:
                    if attempt == 1:
                        at_prompt = self._kill_foreground()
            nonce = secrets.token_hex(4)
            self._stream.take()
            self._child.send(f"echo '__VB_SYNC_''{nonce}'\n")
            try:
                self._stream.until([re.compile(f"__VB_SYNC_{nonce}")], RESYNC_TIMEOUT)
            except _Timeout:
                raise  # nothing reads our line: the session is lost
            try:
                self._expect_prompt(self.depth, INTERRUPT_GRACE if not at_prompt else 5.0)
            except _Timeout:
                # The shell reads and runs our line but never shows our prompt: the prompt
                # was changed (PS1, PROMPT_COMMAND, `exec bash`...). Put ours back.
                note = (
                    "the session's prompt was changed (PS1, PROMPT_COMMAND or a new shell): "
                    "the runner finds the end of a command by its own prompt, so a chapter "
                    "cannot change it; the runner has put its prompt back"
                )
                self._setup(self.depth)
            self._restore_mode()
            return True, note
        except (_Timeout, pexpect.TIMEOUT, pexpect.EOF, OSError):
            self.close()
            return False, note

    def _kill_foreground(self) -> bool:
        """Ctrl-C did nothing (the command ignores SIGINT): kill the terminal's foreground
        job, unless that is the shell itself. True when our prompt then came back."""
        try:
            group = os.tcgetpgrp(self._child.child_fd)
        except OSError:
            return False
        if group in (self._child.pid, os.getpgrp()):
            return False
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGKILL)
        try:
            self._expect_prompt(self.depth, INTERRUPT_GRACE)
            return True
        except _Timeout:
            return False

    def close(self) -> None:
        if self._child.isalive():
            self._child.close(force=True)
        self.alive = False
        self._tracker.end_all()
