"""A persistent bash driven through a pty by pexpect, in the manner of pexpect's replwrap.

bash runs with no rc files and no line editing, echo off, `TERM=dumb`, a fixed terminal size,
and a prompt that carries the exit status of the last command and the nesting depth. The
prompt is written split in PS1 (`$?` is expanded only when shown), so that printing the
environment never fakes it. PS2 is empty: continuation prompts never reach the output.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pexpect

ROWS, COLUMNS = 50, 200
RESYNC_TIMEOUT = 5.0


@dataclass(frozen=True)
class ShellResult:
    output: str  # raw, as read from the pty (not normalised)
    status: int | None  # exit status read from the prompt; None when not at our prompt
    duration: float
    timed_out: bool = False
    recovered: bool = True  # after a timeout: did Ctrl-C bring the prompt back?
    nested: bool = False  # the nested shell's prompt appeared (run_open)


class SessionLost(Exception):
    pass


class Shell:
    """One terminal of a chapter: a bash, and the nested shells opened inside it."""

    def __init__(self, name: str, env: dict[str, str], cwd: Path) -> None:
        self.name = name
        self.token = secrets.token_hex(6)
        self.depth = 0
        self.alive = True
        self.exited = False  # the shell itself ended (`exit` at its own prompt)
        self._child = pexpect.spawn(
            "bash",
            ["--norc", "--noprofile", "--noediting"],
            env={**env, "TERM": "dumb", "HISTFILE": "/dev/null"},
            cwd=str(cwd),
            encoding="utf-8",
            codec_errors="replace",
            echo=False,
            dimensions=(ROWS, COLUMNS),
            timeout=RESYNC_TIMEOUT,
        )
        # pexpect sleeps 50 ms before every send by default: that alone would dominate.
        self._child.delaybeforesend = None
        self._child.delayafterread = None  # and 0.1 ms after every read
        # Closing the pty hangs bash up at once; 0.1 s of grace per session is too long.
        self._child.ptyproc.delayafterclose = 0.02
        self._prompt = re.compile(rf"__VB{self.token}_(\d+):(\d+)__> ")
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
        self._child.sendline(self._init_line(depth))
        self._expect_prompt(depth, RESYNC_TIMEOUT)

    def _expect_prompt(self, depth: int, timeout: float) -> int:
        """Wait for our prompt at `depth`; returns the exit status it shows."""
        deadline = time.monotonic() + timeout
        while True:
            left = max(0.0, deadline - time.monotonic())
            self._child.expect(self._prompt, timeout=left)
            if int(self._child.match.group(1)) == depth:
                return int(self._child.match.group(2))

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
            if key is not None and not self._wait_then_send(
                key, ready or (lambda _: True), deadline
            ):
                # The command ended before its key was due: the key is not sent.
                status = int(self._child.match.group(2))
                return ShellResult(self._child.before, status, time.monotonic() - start)
            if opens is not None:
                return self._read_open(opens, start, deadline)
            depth = self.depth - 1 if closes else self.depth
            status = self._expect_prompt(depth, max(0.0, deadline - time.monotonic()))
            self.depth = depth
            return ShellResult(self._child.before, status, time.monotonic() - start)
        except pexpect.TIMEOUT:
            partial = self._child.before if isinstance(self._child.before, str) else ""
            recovered = self.interrupt()
            return ShellResult(
                partial, None, time.monotonic() - start, timed_out=True, recovered=recovered
            )
        except pexpect.EOF:
            self.alive = False
            self.exited = True
            partial = self._child.before if isinstance(self._child.before, str) else ""
            return ShellResult(
                partial, None, time.monotonic() - start, timed_out=False, recovered=False
            )

    def _wait_then_send(self, key: str, ready: Callable[[str], bool], deadline: float) -> bool:
        """Send `key` once `ready(output)`; False if our prompt came back first."""
        while True:
            index = self._child.expect([self._prompt, pexpect.TIMEOUT], timeout=0.05)
            if index == 0:
                return False
            if ready(self._child.before):
                self._child.send(key)
                return True
            if time.monotonic() > deadline:
                raise pexpect.TIMEOUT("key never became due")

    def _read_open(self, prompt: str, start: float, deadline: float) -> ShellResult:
        nested = re.compile(re.escape(prompt) + " ?")
        index = self._child.expect(
            [nested, self._prompt], timeout=max(0.0, deadline - time.monotonic())
        )
        output = self._child.before
        if index == 1:  # back at our own prompt: the nested shell never opened
            return ShellResult(output, int(self._child.match.group(2)), time.monotonic() - start)
        self.depth += 1
        self._setup(self.depth)
        return ShellResult(output, None, time.monotonic() - start, nested=True)

    def interrupt(self) -> bool:
        """Ctrl-C, then resynchronise on our prompt; on failure the session is lost."""
        try:
            self._child.sendintr()
            nonce = secrets.token_hex(4)
            self._child.sendline(f"echo '__VB_SYNC_''{nonce}'")
            self._child.expect(f"__VB_SYNC_{nonce}", timeout=RESYNC_TIMEOUT)
            self._expect_prompt(self.depth, RESYNC_TIMEOUT)
            return True
        except (pexpect.TIMEOUT, pexpect.EOF):
            self.close()
            return False

    def close(self) -> None:
        if self._child.isalive():
            self._child.close(force=True)
        self.alive = False
