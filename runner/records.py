"""Records of verification runs, kept apart from the parsed chapter (pure: no I/O).

What a run produced, block by block and command by command; the lab it ran on; the rules for
the hashes that tell whether a record still matches its chapter; and the JSON form in which
`runner.store` keeps them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from runner.model import Block, Chapter

SCHEMA = 1

BlockStatus = Literal["passed", "failed", "skipped", "blocked"]
RunStatus = Literal["passed", "failed"]


@dataclass(frozen=True)
class CommandResult:
    line: int  # the command's line in the chapter
    prompt: str  # "$" or the nested prompt as written
    command: str  # as typed, after `{{ name }}` substitution
    output: str  # the actual output, normalised (runner.normalise)
    status: int | None  # exit status; None when not read (key-ended, opened a nested shell)
    duration: float  # seconds, of the matching (or last) attempt
    attempts: int = 1
    captures: dict[str, str] = field(default_factory=dict)  # values captured by this command
    # Spans [start, end) of output lines that the author's `...` stood for, so a page can fold them.
    elided: tuple[tuple[int, int], ...] = ()
    key: str | None = None  # "^C"/"^D" sent while it ran
    expected: str = ""  # the expected lines as written
    error: str | None = None  # why it failed: a diff, a timeout, a status mismatch


@dataclass(frozen=True)
class BlockResult:
    index: int  # ordinal among the chapter's console blocks
    line: int  # the fence line
    status: BlockStatus
    session: str
    hidden: bool = False
    reason: str | None = None  # skip reason, blocking cause, or failure summary
    duration: float = 0.0
    until: float | None = None
    source_hash: str = ""
    commands: tuple[CommandResult, ...] = ()

    @property
    def attempts(self) -> int:
        return max((c.attempts for c in self.commands), default=0)


@dataclass(frozen=True)
class LabInfo:
    provider: str  # "netns", "machine", or "none"
    nodes: tuple[str, ...] = ()
    engine_version: str | None = None
    kernel: str = ""
    capabilities: dict[str, bool] = field(default_factory=dict)
    stands_in_for: dict[str, str] = field(default_factory=dict)  # node -> driver asked for
    # What the sessions ran, for readers to compare with their own machine (runner.run.host).
    client_version: str | None = None  # `docker --version`
    machine_version: str | None = None  # `docker-machine --version`
    host_os: str = ""  # the verifying machine's PRETTY_NAME


@dataclass(frozen=True)
class ChapterRun:
    chapter: str  # the chapter's key: its path relative to the project root, POSIX form
    title: str | None
    source_hash: str
    runner_version: str
    lab_key: str
    lab: LabInfo
    started: str  # ISO 8601, UTC
    duration: float
    status: RunStatus
    blocks: tuple[BlockResult, ...] = ()

    def count(self, status: BlockStatus) -> int:
        return sum(1 for b in self.blocks if b.status == status)


@dataclass(frozen=True)
class ChapterRecord:
    passing: ChapterRun | None = None
    latest: ChapterRun | None = None  # only kept when it did not pass


HOST_NAME_MAX = 64  # Linux: a node's UTS host name is its name
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?")  # a host name: 64


def node_name_problem(name: str) -> str | None:
    """Why `name` cannot name a lab node (a Linux host name), or None. The one rule, for the
    front matter (checked before any run) and for the lab's `docker-machine create`."""
    if not name:
        return "a node needs a name"
    if len(name) > HOST_NAME_MAX:
        return f"at most {HOST_NAME_MAX} characters (this one has {len(name)})"
    for label in name.split("."):
        if not _LABEL.fullmatch(label):
            return (
                "letters, digits and '-' in parts separated by single dots; each part starts "
                "and ends with a letter or digit (a host name)"
            )
    return None


def merge_spans(spans: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Adjacent or overlapping elided spans as one: one author's `...` is one fold."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


def source_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chapter_hash(chapter: Chapter) -> str:
    """The hash recorded for a chapter: its whole source as written."""
    return source_hash(chapter.source)


def block_hash(block: Block) -> str:
    """The hash recorded for one block: its content as written."""
    return source_hash(block.source)


# --- JSON ---------------------------------------------------------------------------------


def _command_from(d: dict[str, Any]) -> CommandResult:
    d = dict(d)
    d["elided"] = tuple(tuple(span) for span in d.get("elided", ()))
    return CommandResult(**d)


def _block_from(d: dict[str, Any]) -> BlockResult:
    d = dict(d)
    d["commands"] = tuple(_command_from(c) for c in d.get("commands", ()))
    return BlockResult(**d)


def _run_from(d: dict[str, Any]) -> ChapterRun:
    d = dict(d)
    lab = dict(d["lab"])
    lab["nodes"] = tuple(lab.get("nodes", ()))
    d["lab"] = LabInfo(**lab)
    d["blocks"] = tuple(_block_from(b) for b in d.get("blocks", ()))
    return ChapterRun(**d)


def record_to_json(record: ChapterRecord) -> str:
    data = {
        "schema": SCHEMA,
        "passing": asdict(record.passing) if record.passing else None,
        "latest": asdict(record.latest) if record.latest else None,
    }
    return json.dumps(data, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def record_from_json(text: str, origin: str = "<results>") -> ChapterRecord:
    try:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError(f"a JSON {type(data).__name__}, not an object")
        if data.get("schema") != SCHEMA:
            raise ValueError(f"schema {data.get('schema')!r}, expected {SCHEMA}")
        return ChapterRecord(
            passing=_run_from(data["passing"]) if data.get("passing") else None,
            latest=_run_from(data["latest"]) if data.get("latest") else None,
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:  # JSON of another shape
        raise ResultsError(
            f"{origin}: unreadable results ({exc}); delete the file and run the chapter again"
        ) from exc


class ResultsError(Exception):
    pass
