"""Run a parsed chapter in its sessions and check every command: the results, never the page.

The executor knows sessions, the matcher and (through `runner.lab.base.Lab`) the lab; it
knows nothing of Markdown beyond the parsed `Chapter`.
"""

from __future__ import annotations

import platform
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from runner.lab.base import Lab
from runner.matcher import match, match_prefix
from runner.model import KEY_BYTES, Block, Chapter, Command
from runner.normalise import normalise
from runner.notation.patterns import (
    PatternError,
    Placeholder,
    matcher_line,
    names_in_command,
    substitute,
    tokenize,
)
from runner.notation.shellsyntax import LineReader
from runner.records import (
    BlockResult,
    BlockStatus,
    ChapterRun,
    CommandResult,
    LabInfo,
    block_hash,
    chapter_hash,
)
from runner.run import host
from runner.run.home import make_home, remove_home
from runner.run.output import cap_lines, cap_output
from runner.run.session import SessionLost, Shell
from runner.update import Outcome

BACKOFF_START, BACKOFF_MAX = 0.1, 2.0


@dataclass
class Progress:
    """Callbacks for the terminal reporter; all optional."""

    block: Callable[[Block], None] = lambda _b: None
    command: Callable[[Command, str], None] = lambda _c, _t: None
    block_done: Callable[[Block, BlockResult], None] = lambda _b, _r: None
    # The full output of a command's last attempt (results keep a capped copy), for --update.
    outcome: Callable[[Outcome], None] = lambda _o: None


@dataclass
class RunContext:
    """Everything a chapter run needs, passed down instead of living in globals."""

    chapter: Chapter
    chapter_key: str
    runner_version: str
    lab_key: str
    lab: Lab | None
    base_env: dict[str, str]
    progress: Progress = field(default_factory=Progress)
    captures: dict[str, str] = field(default_factory=dict)
    captured_at: dict[str, str] = field(default_factory=dict)  # name -> file:line
    sessions: dict[str, Shell] = field(default_factory=dict)
    lost: dict[str, str] = field(default_factory=dict)  # session -> why it was lost
    # Go on with a block after a command whose output or status did not match (--update).
    keep_going: bool = False
    rewritable: set[int] = field(default_factory=set)  # blocks that failed only by mismatches
    # `starts-from`: each starting chapter's state-changing blocks, the first chapter first
    setup: tuple[tuple[Block, ...], ...] = ()


def run_chapter(ctx: RunContext) -> ChapterRun:
    started = datetime.now(UTC)
    t0 = time.monotonic()
    results: list[BlockResult] = []
    home = make_home()
    try:
        setup_failed = _run_setup(ctx, home)
        for block in ctx.chapter.blocks:
            if setup_failed is not None:
                results.append(_block_result(block, "blocked", reason=setup_failed))
                continue
            ctx.progress.block(block)
            result = _run_block(ctx, block, home)
            if (
                block.options.hidden
                and result.status == "failed"
                and block.index not in ctx.rewritable  # --update rewrites it: go on
            ):
                # Later blocks would fail for misleading reasons (no daemon, no file...).
                name = block.options.session
                line = next((c.line for c in result.commands if c.error), block.loc.line)
                ctx.lost.setdefault(
                    name,
                    f"the hidden block at {block.loc} failed at {block.loc.path}:{line}; "
                    f"the later blocks of session {name!r} were not run",
                )
            ctx.progress.block_done(block, result)
            results.append(result)
    finally:
        for shell in ctx.sessions.values():
            shell.close()
        remove_home(home)  # after the sessions: nothing of theirs holds it any more
    failed = any(r.status in ("failed", "blocked") for r in results)
    lab_info = ctx.lab.info() if ctx.lab else LabInfo(provider="none", kernel=platform.release())
    env = {**ctx.base_env, **(ctx.lab.session_env() if ctx.lab else {})}
    facts = host.tool_versions(env)
    lab_info = replace(
        lab_info,
        client_version=facts.client_version,
        machine_version=facts.machine_version,
        host_os=facts.host_os,
    )
    return ChapterRun(
        chapter=ctx.chapter_key,
        title=ctx.chapter.title,
        source_hash=chapter_hash(ctx.chapter),
        runner_version=ctx.runner_version,
        lab_key=ctx.lab_key,
        lab=lab_info,
        started=started.isoformat(timespec="seconds"),
        duration=round(time.monotonic() - t0, 3),
        status="failed" if failed else "passed",
        blocks=tuple(results),
    )


def _run_setup(ctx: RunContext, home: Path) -> str | None:
    """Bring the lab to where the chapter starts (`starts-from`), in the chapter's own sessions;
    each starting chapter with its own captured values. Why it failed, or None."""
    for blocks in ctx.setup:
        ctx.captures.clear()
        for block in blocks:
            ctx.progress.block(block)
            result = _run_block(ctx, block, home)
            ctx.progress.block_done(block, result)
            if result.status in ("failed", "blocked"):
                ctx.captures.clear()
                return (
                    f"the set-up (starts-from) failed at {block.loc.path}:{block.loc.line}; "
                    f"the chapter was not run: {result.reason}"
                )
    ctx.captures.clear()
    return None


def _skip_reason(ctx: RunContext, block: Block) -> str | None:
    if block.options.skip is not None:
        return block.options.skip
    if not block.options.requires:
        return None
    if ctx.lab is None:
        return f"needs {', '.join(block.options.requires)}, and this chapter has no lab"
    caps = ctx.lab.capabilities()
    missing = []
    for name in block.options.requires:
        cap = caps.get(name)
        if cap is None:
            missing.append(f"{name}: unknown capability (known: {', '.join(sorted(caps))})")
        elif not cap.present:
            missing.append(f"{name}: {cap.reason}")
    return "; ".join(missing) or None


def _shell(ctx: RunContext, name: str, home: Path) -> Shell:
    if name not in ctx.sessions:
        env = {**ctx.base_env, "HOME": str(home)}
        if ctx.lab is not None:
            env.update(ctx.lab.session_env())
        ctx.sessions[name] = Shell(name, env, home)
    return ctx.sessions[name]


def _block_result(
    block: Block,
    status: BlockStatus,
    *,
    reason: str | None = None,
    duration: float = 0.0,
    commands: tuple[CommandResult, ...] = (),
) -> BlockResult:
    return BlockResult(
        index=block.index,
        line=block.loc.line,
        status=status,
        session=block.options.session,
        hidden=block.options.hidden,
        reason=reason,
        duration=duration,
        until=block.options.until,
        source_hash=block_hash(block),
        commands=commands,
    )


def _run_block(ctx: RunContext, block: Block, home: Path) -> BlockResult:
    reason = _skip_reason(ctx, block)
    if reason is not None:
        return _block_result(block, "skipped", reason=reason)
    name = block.options.session
    if name in ctx.lost:
        return _block_result(block, "blocked", reason=ctx.lost[name])
    t0 = time.monotonic()
    shell = _shell(ctx, name, home)
    done: list[CommandResult] = []
    first_error: CommandResult | None = None
    for number, command in enumerate(block.commands):
        result, mismatch = _run_command(ctx, block, number, command, shell)
        done.append(result)
        if result.error is not None and ctx.keep_going and mismatch and shell.alive:
            first_error = first_error or result
            continue
        if result.error is not None:
            if not shell.alive:
                why = "its shell exited" if shell.exited else "Ctrl-C did not bring its prompt back"
                ctx.lost[name] = (
                    f"session {name!r} was lost at {command.loc} ({why}); "
                    "its later blocks were not run"
                )
            summary = f"{command.loc}: {result.error.splitlines()[0]}"
            problems = ctx.lab.problems() if ctx.lab else []
            for problem in problems:
                summary += f"\nnode {problem.node}: {problem.message}\n" + "\n".join(
                    "    " + line for line in problem.log_tail.splitlines()
                )
            return _block_result(
                block,
                "failed",
                reason=summary,
                duration=time.monotonic() - t0,
                commands=tuple(done),
            )
    if first_error is not None:
        ctx.rewritable.add(block.index)
        return _block_result(
            block,
            "failed",
            reason=f"{block.loc.path}:{first_error.line}: "
            + (first_error.error or "").splitlines()[0],
            duration=time.monotonic() - t0,
            commands=tuple(done),
        )
    return _block_result(block, "passed", duration=time.monotonic() - t0, commands=tuple(done))


def _captured_at(chapter: Chapter, name: str) -> str:
    """Where the chapter captures `name` first (file:line), for a useful message."""
    for block in chapter.blocks:
        for command in block.commands:
            for item in command.expected:
                try:
                    pieces = tokenize(item.text)
                except PatternError:
                    continue
                if any(isinstance(p, Placeholder) and p.name == name for p in pieces):
                    skip = block.options.skip
                    return f"{item.loc}" + (f", in a block with skip={skip!r}" if skip else "")
    return "nowhere"


def _run_command(
    ctx: RunContext, block: Block, number: int, command: Command, shell: Shell
) -> tuple[CommandResult, bool]:
    """The command's result, and whether it failed only by its output or exit status."""
    typed = substitute(command.text, ctx.captures)
    ctx.progress.command(command, typed)
    names = names_in_command(command.text) + names_in_command(command.opens_shell or "")
    missing = [n for n in dict.fromkeys(names) if n not in ctx.captures]
    if missing:
        # The block that captures it was skipped (requires=) or failed: never type a guess.
        listed = "; ".join(
            f"`{{{{ {n} }}}}` was never captured in this run: the line that should have "
            f"captured it is {_captured_at(ctx.chapter, n)}"
            for n in missing
        )
        never = _command_result(
            command,
            typed,
            "",
            None,
            0.0,
            error=f"{listed} (it was skipped or failed, or did not match); the command was not run",
            attempts=0,
        )
        return never, False
    unfinished = _unfinished_by(ctx, command, typed)
    if unfinished is not None:
        return _command_result(command, typed, "", None, 0.0, error=unfinished), False
    expected = [matcher_line(e.text, ctx.chapter.elision) for e in command.expected]
    until = block.options.until
    deadline = time.monotonic() + until if until is not None else None
    pause = BACKOFF_START
    attempts = 0
    while True:
        attempts += 1
        result, output = _attempt(ctx, block, command, shell, typed, expected)
        mismatch = result.error is not None and result.error.startswith(
            ("output differs", "exit status")
        )
        result = replace(result, attempts=attempts, prompt=substitute(command.prompt, ctx.captures))
        if result.error is None:
            ctx.captures.update(result.captures)
            ctx.captured_at.update({name: str(command.loc) for name in result.captures})
            break
        left = deadline - time.monotonic() if deadline is not None else 0.0
        structural = _structural(command, expected, result) if deadline is not None else None
        if deadline is None or not shell.alive or left <= 0 or structural is not None:
            if deadline is not None:
                why = (
                    f"stopped polling after {attempts} attempt(s): {structural}"
                    if structural is not None
                    else f"still not matching after {attempts} attempts in {until:g} s"
                )
                result = replace(result, error=f"{why}: {result.error}")
            break
        # Polling backoff while a cluster converges; the last wait ends at the deadline, and
        # one more attempt is made there.
        time.sleep(min(pause, left))
        pause = next_pause(pause)
    ctx.progress.outcome(
        Outcome(block.index, number, output, result.status, result.error is None, mismatch)
    )
    if block.options.unchecked and result.error is None:
        result = replace(result, output="", elided=())  # neither checked nor shown
    return result, mismatch


# How Docker's command line ends a usage error (unknown flag, wrong arguments).
_USAGE = re.compile(r"See '[^']+ --help'\.")


def _structural(command: Command, expected: list[str], result: CommandResult) -> str | None:
    """Why waiting cannot make this output match, or None (see NOTATION.md, `until=`)."""
    want = command.status or 0
    if result.status in (126, 127) and want != result.status:
        return f"exit status {result.status}: the command cannot run here"
    if result.status not in (None, want) and any(
        _USAGE.fullmatch(line.strip()) for line in result.output.split("\n")
    ):
        return "a usage error, which no amount of waiting changes"
    header = expected[0] if expected else ""
    first = result.output.split("\n", 1)[0]
    if (
        header.strip()
        and result.status == want
        and not any(ch.islower() for ch in header)
        and "{{" not in header
        and "[..]" not in header
        and header.strip() != "..."
        and first.split() != header.split()
    ):
        return f"the table header differs ({first.strip()!r} instead of {header.strip()!r})"
    return None


def next_pause(pause: float) -> float:
    """The next pause between two polls of an `until` block: doubled, up to BACKOFF_MAX."""
    return min(pause * 2, BACKOFF_MAX)


def key_due(before_key: Sequence[str], output: str, known: Mapping[str, str]) -> bool:
    """May a command's key be sent: have the lines expected before it all appeared? Complete
    lines only: a line still being written may yet turn out different."""
    return match_prefix(before_key, normalise(output[: output.rfind("\n") + 1]), known)


def _unfinished(text: str) -> bool:
    reader = LineReader()
    for line in text.split("\n"):
        reader.feed(line)
    return reader.unfinished


def _unfinished_by(ctx: RunContext, command: Command, typed: str) -> str | None:
    """A captured value that leaves the command unfinished (an unbalanced quote...) would make
    bash wait for more until the timeout: say so at once, naming the value."""
    if typed == command.text or not _unfinished(typed) or _unfinished(command.text):
        return None
    culprits = [
        name
        for name in dict.fromkeys(names_in_command(command.text))
        if _unfinished(substitute(command.text, {name: ctx.captures[name]}))
    ] or list(dict.fromkeys(names_in_command(command.text)))
    described = "; ".join(
        f"{{{{ {name} }}}} = {ctx.captures[name]!r}, captured at "
        f"{ctx.captured_at.get(name, 'an earlier command')}"
        for name in culprits
    )
    return (
        f"once the captured value is typed in, the command is unfinished for bash (an open "
        f"quote, bracket or here-document), so bash would wait for more: {described}; the "
        "command was not run (capture with a narrower pattern, or quote the value)"
    )


def _attempt(
    ctx: RunContext, block: Block, command: Command, shell: Shell, typed: str, expected: list[str]
) -> tuple[CommandResult, str]:
    """One run of the command, and its whole normalised output (results keep a capped copy)."""
    key_bytes = KEY_BYTES[command.key] if command.key else None
    before_key = expected[: command.expected_before_key]
    try:
        ran = shell.run(
            typed,
            block.options.timeout,
            key=key_bytes,
            ready=lambda out: key_due(before_key, out, ctx.captures),
            opens=substitute(command.opens_shell, ctx.captures) if command.opens_shell else None,
            closes=command.closes_shell,
        )
    except SessionLost:
        lost = _command_result(command, typed, "", None, 0.0, error="the session was lost")
        return lost, ""
    output = normalise(ran.output)
    if ran.timed_out or (ran.status is None and not ran.nested):
        why = (
            f"timed out after {block.options.timeout:g} s" if ran.timed_out else "the shell exited"
        )
        if ran.note:
            why += f"; {ran.note}"
        tail = "\n".join(output.splitlines()[-15:]) or "(no output)"
        timed_out = _command_result(
            command, typed, output, None, ran.duration, error=f"{why}; last output:\n{tail}"
        )
        return timed_out, output
    if command.opens_shell is not None and not ran.nested:
        never_opened = _command_result(
            command,
            typed,
            output,
            ran.status,
            ran.duration,
            error=f"the nested shell's prompt {command.opens_shell!r} never appeared "
            f"(exit status {ran.status})",
        )
        return never_opened, output
    if block.options.unchecked:
        expected = ["..."]  # not checked: any output
    try:
        checked = match(expected, output, ctx.captures, order_any=block.options.order_any)
    except PatternError as exc:  # placeholders that clash once on one line (rare)
        bad = _command_result(
            command, typed, output, ran.status, ran.duration, error=f"bad expected line: {exc}"
        )
        return bad, output
    status = ran.status if not ran.nested else None
    error = None if checked.ok else "output differs:\n" + checked.diff
    if error is None and command.checks_status:
        want = command.status or 0
        if status != want:
            error = f"exit status {status}, expected {want}" + (
                "" if command.status is not None else f" (write [{status}] if that is expected)"
            )
    done = _command_result(
        command,
        typed,
        output,
        status,
        ran.duration,
        captures=checked.captures if error is None else {},
        elided=checked.elided,
        error=error,
    )
    return done, output


def _command_result(
    command: Command,
    typed: str,
    output: str,
    status: int | None,
    duration: float,
    *,
    error: str | None = None,
    captures: dict[str, str] | None = None,
    elided: tuple[tuple[int, int], ...] = (),
    attempts: int = 1,
) -> CommandResult:
    output, elided = cap_output(output, elided)
    error = cap_lines(error) if error is not None else None
    return CommandResult(
        line=command.loc.line,
        prompt=command.prompt,
        attempts=attempts,
        command=typed,
        output=output,
        status=status,
        duration=round(duration, 4),
        captures=captures or {},
        elided=elided,
        key=command.key,
        expected="\n".join(e.text for e in command.expected),
        error=error,
    )
