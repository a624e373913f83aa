"""Run records (pure) and the results store (one JSON file per chapter, written atomically)."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import replace
from pathlib import Path

import pytest

from runner.model import Block, BlockOptions, Chapter, Location
from runner.records import (
    SCHEMA,
    BlockResult,
    ChapterRecord,
    ChapterRun,
    CommandResult,
    LabInfo,
    ResultsError,
    block_hash,
    chapter_hash,
    merge_spans,
    record_from_json,
    record_to_json,
    source_hash,
)
from runner.store import ResultStore, atomic_write, find_project_root

COMMAND = CommandResult(
    line=4,
    prompt="$",
    command="docker ps | grep été",
    output="3f2a  web\n…",
    status=0,
    duration=0.25,
    attempts=3,
    captures={"cid": "3f2a"},
    elided=((1, 2), (4, 7)),
    key="^C",
    expected="{{ cid }}  web\n...",
    error=None,
)
BLOCK = BlockResult(
    index=0,
    line=3,
    status="passed",
    session="main",
    hidden=True,
    reason="why",
    duration=1.5,
    until=20.0,
    source_hash="abc",
    commands=(COMMAND, replace(COMMAND, line=9, attempts=1, elided=())),
)
LAB = LabInfo(
    provider="netns",
    nodes=("node-01", "node-02"),
    engine_version="20.10.24",
    kernel="6.1",
    capabilities={"ipvs": True, "overlay": False},
    stands_in_for={"node-01": "virtualbox"},
)


def run(
    key: str = "docs/a.md", status: str = "passed", started: str = "2026-11-29T21:00:00"
) -> ChapterRun:
    return ChapterRun(
        chapter=key,
        title="Première étape",
        source_hash="h",
        runner_version="1",
        lab_key="none",
        lab=LAB,
        started=started,
        duration=2.0,
        status=status,  # type: ignore[arg-type]
        blocks=(BLOCK, replace(BLOCK, index=1, status="skipped", commands=())),
    )


# --- records ----------------------------------------------------------------------------


def test_merge_spans() -> None:
    assert merge_spans([]) == ()
    assert merge_spans([(4, 6), (0, 2)]) == ((0, 2), (4, 6))  # sorted
    assert merge_spans([(0, 2), (2, 5)]) == ((0, 5),)  # adjacent: one fold
    assert merge_spans([(0, 4), (1, 2)]) == ((0, 4),)  # contained
    assert merge_spans([(0, 3), (2, 6), (9, 10)]) == ((0, 6), (9, 10))
    assert merge_spans([(3, 3), (5, 4), (1, 2)]) == ((1, 2),)  # empty spans dropped
    assert merge_spans([(0, 2), (3, 4)]) == ((0, 2), (3, 4))  # a gap keeps them apart


def test_hashes_are_sha256_of_the_text_as_written() -> None:
    assert source_hash("é\n") == hashlib.sha256("é\n".encode()).hexdigest()
    here = Location(Path("c.md"), 1)
    block = Block(0, here, 3, "$ ls\n", "console", BlockOptions(), ())
    chapter = Chapter(Path("c.md"), "# T\n```console\n$ ls\n```\n", None, None, None, (block,))
    assert chapter_hash(chapter) == source_hash(chapter.source)
    assert block_hash(block) == source_hash("$ ls\n")
    assert block_hash(block) != chapter_hash(chapter)


def test_attempts_and_counts() -> None:
    assert BLOCK.attempts == 3
    assert replace(BLOCK, commands=()).attempts == 0
    assert run().count("passed") == 1 and run().count("skipped") == 1
    assert run().count("failed") == 0


def test_json_round_trip_keeps_everything() -> None:
    record = ChapterRecord(passing=run(), latest=run(status="failed"))
    assert record_from_json(record_to_json(record)) == record
    assert record_from_json(record_to_json(ChapterRecord())) == ChapterRecord()
    only = ChapterRecord(passing=run())
    assert record_from_json(record_to_json(only)) == only


def test_json_form() -> None:
    text = record_to_json(ChapterRecord(passing=run()))
    assert text.endswith("}\n") and not text.endswith("\n\n")
    data = json.loads(text)
    assert data["schema"] == SCHEMA == 2 and data["latest"] is None
    assert "été" in text and "\\u00e9" not in text  # readable in a diff
    # sorted keys, indent 1; the engine the record is for first
    assert text.startswith('{\n "engine": "20.10",\n "latest": null,\n "passing": {\n')
    assert data["passing"]["blocks"][0]["commands"][0]["elided"] == [[1, 2], [4, 7]]


def test_a_record_without_optional_lists_reads() -> None:
    data = json.loads(record_to_json(ChapterRecord(passing=run())))
    passing = data["passing"]
    del passing["blocks"][0]["commands"][0]["elided"]
    del passing["blocks"][1]["commands"]
    del passing["lab"]["nodes"]
    read = record_from_json(json.dumps(data)).passing
    assert read is not None
    assert read.blocks[0].commands[0].elided == () and read.blocks[1].commands == ()
    assert read.lab.nodes == ()
    del passing["blocks"]
    assert record_from_json(json.dumps(data)).passing == replace(read, blocks=())


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('{"schema": 3, "passing": null}', "schema 3, expected one of (1, 2)"),
        ('{"passing": null}', "schema None, expected one of (1, 2)"),
        ("{not json", "Expecting property name"),
        ('{"schema": 1, "passing": {"chapter": "x"}}', "'lab'"),
        ('{"schema": 1, "passing": {"lab": {"provider": "x"}, "colour": 1}}', "colour"),
        ("[]", "a JSON list, not an object"),
    ],
)
def test_unreadable_results_say_where_and_what_to_do(text: str, says: str) -> None:
    with pytest.raises(ResultsError) as error:
        record_from_json(text, "verified/docs/a.md.json")
    message = str(error.value)
    assert message.startswith("verified/docs/a.md.json: unreadable results (")
    assert says in message
    assert message.endswith("); delete the file and run the chapter again")


def test_unreadable_results_without_an_origin() -> None:
    with pytest.raises(ResultsError, match=r"^<results>: unreadable results \(schema 0"):
        record_from_json('{"schema": 0}')


# --- the store --------------------------------------------------------------------------


def test_project_root_is_the_nearest_folder_with_mkdocs_yml(tmp_path: Path) -> None:
    (tmp_path / "mkdocs.yml").write_text("site_name: x\n")
    inner = tmp_path / "docs" / "part"
    inner.mkdir(parents=True)
    assert find_project_root(inner) == tmp_path.resolve()
    assert find_project_root(tmp_path) == tmp_path.resolve()
    (inner / "mkdocs.yml").mkdir()  # a folder of that name is no config
    assert find_project_root(inner) == tmp_path.resolve()
    (tmp_path / "docs" / "mkdocs.yml").write_text("site_name: y\n")
    assert find_project_root(inner) == (tmp_path / "docs").resolve()


def test_no_project_root(tmp_path: Path) -> None:
    if find_project_root(tmp_path) is not None:
        pytest.skip("a mkdocs.yml stands above the temporary folder")
    chapter = tmp_path / "c.md"
    store = ResultStore.for_chapter(chapter)
    assert store.root == Path.cwd().resolve()
    assert store.folder == (Path.cwd() / "verified").resolve()


def test_store_location_and_keys(tmp_path: Path) -> None:
    (tmp_path / "mkdocs.yml").write_text("site_name: x\n")
    chapter = tmp_path / "docs" / "swarm" / "partie-1.md"
    store = ResultStore.for_chapter(chapter)
    assert store.root == tmp_path.resolve()
    assert store.folder == (tmp_path / "verified").resolve()
    assert store.key(chapter) == "docs/swarm/partie-1.md"
    # One file per chapter and engine (the primary's by default); schema 1 had one per chapter.
    assert store.file("docs/a.md") == store.folder / "docs" / "a.md" / "20.10.json"
    assert store.file("docs/a.md", "26.1") == store.folder / "docs" / "a.md" / "26.1.json"
    assert store.legacy_file("docs/a.md") == store.folder / "docs" / "a.md.json"
    outside = Path("/elsewhere/c.md")
    assert store.key(outside) == "elsewhere/c.md"
    other = ResultStore.for_chapter(chapter, tmp_path / "out" / ".." / "res")
    assert other.folder == (tmp_path / "res").resolve() and other.root == store.root


def test_a_failed_run_never_replaces_the_last_pass(tmp_path: Path) -> None:
    store = ResultStore(folder=tmp_path / "verified", root=tmp_path)
    assert store.load("docs/a.md") == ChapterRecord()
    failed = run(status="failed")
    assert store.save(failed) == ChapterRecord(passing=None, latest=failed)
    passed = run(started="2026-11-29T22:00:00")
    assert store.save(passed) == ChapterRecord(passing=passed, latest=None)
    again = run(status="failed", started="2026-11-29T23:00:00")
    assert store.save(again) == ChapterRecord(passing=passed, latest=again)
    assert store.load("docs/a.md") == ChapterRecord(passing=passed, latest=again)
    text = store.file("docs/a.md").read_text(encoding="utf-8")
    assert text == record_to_json(ChapterRecord(passing=passed, latest=again))


def test_all_records_by_key(tmp_path: Path) -> None:
    store = ResultStore(folder=tmp_path / "verified", root=tmp_path)
    assert store.all() == {}
    store.save(run("docs/b.md"))
    store.save(run("docs/swarm/a.md"))
    found = store.all()
    assert list(found) == ["docs/b.md", "docs/swarm/a.md"]
    assert list(found["docs/swarm/a.md"]) == ["20.10"]  # by key, then engine
    assert found["docs/swarm/a.md"]["20.10"].passing == run("docs/swarm/a.md")


def test_atomic_write(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "r.json"
    atomic_write(target, "é\n")
    assert target.read_bytes() == "é\n".encode()
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
    atomic_write(target, "two\n", durable=False)
    assert target.read_text(encoding="utf-8") == "two\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["r.json"]  # no temporary left


def test_atomic_write_without_parents(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        atomic_write(tmp_path / "gone" / "r.json", "x", make_parents=False)
    assert not (tmp_path / "gone").exists()
    atomic_write(tmp_path / "r.json", "x", make_parents=False)
    assert (tmp_path / "r.json").read_text() == "x"


def test_a_failed_write_keeps_the_old_file_and_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "r.json"
    atomic_write(target, "old\n")
    with pytest.raises(UnicodeEncodeError):
        atomic_write(target, "half \udcff")  # cannot be encoded: fails mid-write
    assert target.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_empty_spans_anywhere_are_dropped() -> None:
    assert merge_spans([(0, 0), (1, 2)]) == ((1, 2),)
    assert merge_spans([(2, 1), (3, 5), (4, 4)]) == ((3, 5),)


def test_a_key_outside_the_root_keeps_every_name() -> None:
    store = ResultStore(folder=Path("/p/verified"), root=Path("/p"))
    assert store.key(Path("/Xdir/c.md")) == "Xdir/c.md"


def test_corrupt_results_name_their_file(tmp_path: Path) -> None:
    store = ResultStore(folder=tmp_path / "verified", root=tmp_path)
    store.file("docs/a.md").parent.mkdir(parents=True)
    store.file("docs/a.md").write_text("{", encoding="utf-8")
    where = f"^{store.file('docs/a.md')}: unreadable results"
    with pytest.raises(ResultsError, match=where):
        store.load("docs/a.md")
    with pytest.raises(ResultsError, match=where):
        store.all()


def test_the_temporary_file_is_a_hidden_sibling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Beside its target, so that the rename is atomic (same file system); hidden, so that no
    # reader of the folder takes it for a result.
    moves: list[tuple[str, str]] = []
    real = os.replace

    def spy(src: str, dst: str) -> None:
        moves.append((str(src), str(dst)))
        real(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    target = tmp_path / "r.json"
    atomic_write(target, "x")
    ((src, dst),) = moves
    assert Path(dst) == target and Path(src).parent == tmp_path
    assert Path(src).name.startswith(".r.json.") and src.endswith(".tmp")


def test_what_keeps_results_from_being_written(tmp_path: Path) -> None:
    from runner.store import writable_problem

    folder = tmp_path / "verified" / "deep"
    assert writable_problem([folder], None) is None and not folder.exists()  # nothing made
    afile = tmp_path / "file"
    afile.write_text("x")
    assert writable_problem([afile], None) == (
        f"the results folder {afile} is a file; give a folder (--results)"
    )
    assert writable_problem([afile / "below"], None) == (
        f"results cannot be written to {afile / 'below'}: {afile} is not a folder "
        "(fix it, or --results DIR)"
    )
    assert writable_problem([folder], None, results=afile) == (
        f"--results {afile}: is a file; give a folder"
    )
    junit_dir = writable_problem([folder], tmp_path)
    assert junit_dir == f"--junit {tmp_path}: is a folder; give a file name"
    assert writable_problem([folder], afile / "j.xml") == (
        f"--junit {afile / 'j.xml'}: {afile} is not a folder"
    )
    assert writable_problem([folder], tmp_path / "out" / "j.xml") is None
    assert [p.name for p in tmp_path.iterdir()] == ["file"]  # probes leave nothing


def test_unreadable_results_are_set_aside_never_deleted(tmp_path: Path) -> None:
    store = ResultStore(folder=tmp_path / "verified", root=tmp_path)
    path = store.file("docs/a.md")
    path.parent.mkdir(parents=True)
    path.write_text("{", encoding="utf-8")
    aside = store.set_aside("docs/a.md")
    assert not path.exists() and aside.read_text(encoding="utf-8") == "{"
    assert aside.parent == path.parent and aside.name.startswith(path.name + ".unreadable-2")
    assert store.load("docs/a.md") == ChapterRecord()
