"""What the site says about each block and chapter: verified, stale, failed, blocked (not run,
its session lost earlier), skipped, unverified.

Pure: from a parsed chapter, its stored record and the chapter's current source, decide which
run's transcript (if any) a block may show. Output that no run produced is never shown as real.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from runner.model import Block, Chapter
from runner.publish import french
from runner.publish.setup import SetupView
from runner.records import BlockResult, ChapterRecord, ChapterRun, block_hash, chapter_hash

BlockKind = Literal["verified", "stale", "failed", "blocked", "skipped", "unverified"]
ChapterKind = Literal["verified", "stale", "failed", "unverified", "none"]


@dataclass(frozen=True)
class BlockState:
    block: Block
    kind: BlockKind
    shown: BlockResult | None  # a passing result whose transcript may be shown, else None
    run: ChapterRun | None  # the run `shown` comes from
    failure: BlockResult | None = None  # this block's result in the latest, failed run
    failed_run: ChapterRun | None = None
    reason: str | None = None  # skip reason or failure summary, for readers
    detail: str | None = None  # the runner's own words (English), when `reason` rewords them


@dataclass(frozen=True)
class ChapterState:
    key: str  # the chapter's key in the result store
    chapter: Chapter
    record: ChapterRecord
    kind: ChapterKind
    blocks: tuple[BlockState, ...]
    setup: SetupView | None = None  # « Mise en place »: where the chapter starts from

    @property
    def passing(self) -> ChapterRun | None:
        return self.record.passing

    @property
    def warning(self) -> str | None:
        """Why a strict build must fail on this chapter, or None."""
        if self.kind == "unverified":
            return (
                f"{self.key}: chapter has no passing verification results; "
                f"run `python -m runner verify {self.key}` and commit the results"
            )
        if self.kind == "stale":
            return (
                f"{self.key}: chapter changed since its last passing run "
                f"({self.passing.started if self.passing else '?'}); "
                f"run `python -m runner verify {self.key}` and commit the results"
            )
        return None

    @property
    def visible(self) -> tuple[BlockState, ...]:
        """The blocks readers see: hidden ones vanish from pages and handouts."""
        return tuple(b for b in self.blocks if not b.block.options.hidden)

    @property
    def total(self) -> int:
        return len(self.visible)

    def count(self, kind: BlockKind) -> int:
        """Visible blocks of this kind: the tallies match what a page shows."""
        return sum(1 for b in self.visible if b.kind == kind)


def _find(run: ChapterRun | None, block: Block, same_source: bool) -> BlockResult | None:
    """The result of `block` in `run`: by index when the chapter is unchanged, else by hash."""
    if run is None:
        return None
    if same_source:
        for result in run.blocks:
            if result.index == block.index:
                return result
        return None
    wanted = block_hash(block)
    matches = [r for r in run.blocks if r.source_hash == wanted]
    if len(matches) > 1:
        matches = [r for r in matches if r.index == block.index]
    return matches[0] if len(matches) == 1 else None


def block_state(block: Block, record: ChapterRecord, current: str) -> BlockState:
    passing, latest = record.passing, record.latest
    shown = _find(passing, block, passing is not None and passing.source_hash == current)
    if shown is not None and shown.status != "passed":
        skipped = shown.reason if shown.status == "skipped" else None
        shown = None
    else:
        skipped = None
    failure = _find(latest, block, latest is not None and latest.source_hash == current)
    run = passing if shown is not None else None
    if block.options.skip is not None:
        return BlockState(block, "skipped", None, None, reason=block.options.skip)
    if failure is not None and failure.status == "blocked":
        reason = french.blocked_fr(block.options.session)
        return BlockState(block, "blocked", shown, run, failure, latest, reason, failure.reason)
    if failure is not None and failure.status == "failed":
        return BlockState(
            block, "failed", shown, run, failure, latest, failure.reason or failure.status
        )
    if shown is not None and passing is not None:
        kind: BlockKind = "verified" if passing.source_hash == current else "stale"
        return BlockState(block, kind, shown, run)
    if skipped is None and failure is not None and failure.status == "skipped":
        skipped = failure.reason or ""
    if skipped is not None:
        if block.options.requires:  # the lab lacked a capability: say which, in French
            reason = french.requires_fr(block.options.requires, skipped)
            return BlockState(block, "skipped", None, None, reason=reason, detail=skipped or None)
        return BlockState(block, "skipped", None, None, reason=skipped)
    if passing is not None and passing.source_hash != current:
        return BlockState(block, "stale", None, None)
    return BlockState(block, "unverified", None, None)


def chapter_state(key: str, chapter: Chapter, record: ChapterRecord) -> ChapterState:
    current = chapter_hash(chapter)
    blocks = tuple(block_state(b, record, current) for b in chapter.blocks)
    kind: ChapterKind
    if not any(b.verified for b in chapter.blocks):
        kind = "none"
    elif record.passing is None:
        kind = "unverified"
    elif record.passing.source_hash != current:
        kind = "stale"
    elif any(b.kind in ("failed", "blocked") for b in blocks):
        kind = "failed"
    else:
        kind = "verified"
    return ChapterState(key, chapter, record, kind, blocks)
