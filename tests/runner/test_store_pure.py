"""The results store's schema 1 files (one `<key>.json` per chapter, before engines): read in
place, moved by `migrate`, set aside when unreadable. On tmp files, no run."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from runner.records import (
    ChapterRecord,
    ResultsError,
    generation_of,
    node_name_problem,
    record_from_json,
    record_to_json,
)
from runner.store import ResultStore, writable_problem
from tests.runner.test_store import LAB, run

KEY = "docs/a.md"


def store_in(tmp_path: Path, primary: str = "20.10") -> ResultStore:
    return ResultStore(folder=tmp_path / "verified", root=tmp_path, primary=primary)


def write_legacy(store: ResultStore, record: ChapterRecord, key: str = KEY) -> Path:
    path = store.legacy_file(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(record_to_json(record), encoding="utf-8")
    return path


def on(engine_version: str, status: str = "passed") -> ChapterRecord:
    one = replace(run(status=status), lab=replace(LAB, engine_version=engine_version))
    return ChapterRecord(passing=one) if status == "passed" else ChapterRecord(latest=one)


def test_a_schema_1_file_is_the_record_of_the_engine_its_runs_name(tmp_path: Path) -> None:
    store = store_in(tmp_path)
    record = on("26.1.5")
    write_legacy(store, record)
    assert store.load(KEY, "26.1") == record
    assert store.load(KEY, "20.10") == ChapterRecord()
    assert store.load(KEY) == ChapterRecord()  # the primary is 20.10
    assert store.load_engines(KEY) == {"26.1": record}
    # a file in the new place wins over the old one
    newer = on("26.1.9")
    store.file(KEY, "26.1").parent.mkdir(parents=True)
    store.file(KEY, "26.1").write_text(record_to_json(newer, "26.1"), encoding="utf-8")
    assert store.load(KEY, "26.1") == newer
    assert store.load_engines(KEY) == {"26.1": newer}


def test_a_record_naming_no_engine_is_the_primarys(tmp_path: Path) -> None:
    store = store_in(tmp_path, primary="26.1")
    record = ChapterRecord(passing=replace(run(), lab=replace(LAB, engine_version=None)))
    write_legacy(store, record)
    assert store.load(KEY) == record
    assert store.load_engines(KEY) == {"26.1": record}


def test_only_generation_files_are_engine_records(tmp_path: Path) -> None:
    store = store_in(tmp_path)
    store.save(run())
    folder = store.folder / KEY
    (folder / "notes.json").write_text("{", encoding="utf-8")
    (folder / "26.1.5.json").write_text("{", encoding="utf-8")
    assert list(store.load_engines(KEY)) == ["20.10"]
    assert list(store.all()) == [KEY]
    assert store.load_engines("docs/none.md") == {}


def test_a_save_on_the_same_engine_supersedes_the_schema_1_file(tmp_path: Path) -> None:
    store = store_in(tmp_path)
    legacy = write_legacy(store, on("26.1.5"))
    store.save(run())  # on 20.10: the old file is another engine's, kept
    assert legacy.exists()
    assert store.load_engines(KEY) == {"26.1": on("26.1.5"), "20.10": ChapterRecord(run())}
    newer = replace(run(), lab=replace(LAB, engine_version="26.1.7"))
    store.save(newer)
    assert not legacy.exists()
    assert store.load(KEY, "26.1") == ChapterRecord(passing=newer)


def test_migrate_moves_each_schema_1_file_into_place(tmp_path: Path) -> None:
    store = store_in(tmp_path)
    assert store.migrate() == []  # no results folder at all
    write_legacy(store, on("20.10.24"))
    write_legacy(store, on("26.1.5", status="failed"), "docs/swarm/b.md")
    assert store.migrate() == [
        "docs/a.md.json -> docs/a.md/20.10.json",
        "docs/swarm/b.md.json -> docs/swarm/b.md/26.1.json",
    ]
    assert not store.legacy_file(KEY).exists()
    assert not store.legacy_file("docs/swarm/b.md").exists()
    moved = store.file(KEY, "20.10").read_text(encoding="utf-8")
    assert moved == record_to_json(on("20.10.24"), "20.10")
    assert record_from_json(moved) == on("20.10.24")
    assert store.load("docs/swarm/b.md", "26.1") == on("26.1.5", status="failed")
    assert store.migrate() == []  # nothing left to move


def test_migrate_keeps_a_newer_file_already_in_place(tmp_path: Path) -> None:
    store = store_in(tmp_path)
    store.save(run())
    in_place = store.file(KEY).read_text(encoding="utf-8")
    legacy = write_legacy(store, on("20.10.1", status="failed"))
    assert store.migrate() == []
    assert not legacy.exists()
    assert store.file(KEY).read_text(encoding="utf-8") == in_place


def test_migrate_sets_an_unreadable_file_aside(tmp_path: Path) -> None:
    store = store_in(tmp_path)
    legacy = store.legacy_file(KEY)
    legacy.parent.mkdir(parents=True)
    legacy.write_text("{not json", encoding="utf-8")
    write_legacy(store, on("20.10.24"), "docs/b.md")
    moved = store.migrate()
    (aside,) = legacy.parent.glob("a.md.json.unreadable-*")
    assert aside.read_text(encoding="utf-8") == "{not json"
    assert not legacy.exists()
    assert len(moved) == 2 and moved[1] == "docs/b.md.json -> docs/b.md/20.10.json"
    assert moved[0].startswith(f"{legacy}: unreadable results (")
    assert moved[0].endswith(f"; moved aside to {aside}")


def test_set_aside_finds_the_schema_1_file(tmp_path: Path) -> None:
    store = store_in(tmp_path)
    legacy = store.legacy_file(KEY)
    legacy.parent.mkdir(parents=True)
    legacy.write_text("{", encoding="utf-8")
    aside = store.set_aside(KEY)
    assert aside.parent == legacy.parent
    assert aside.name.startswith("a.md.json.unreadable-2") and len(aside.name) == len(
        "a.md.json.unreadable-20261130T001500"
    )
    assert not legacy.exists() and aside.read_text(encoding="utf-8") == "{"


def test_an_unreadable_schema_1_file_stops_a_load(tmp_path: Path) -> None:
    store = store_in(tmp_path)
    legacy = store.legacy_file(KEY)
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes(b"\xff")
    with pytest.raises(ResultsError) as info:
        store.load(KEY)
    assert str(info.value).startswith(f"{legacy}: unreadable results (")
    assert str(info.value).endswith("delete the file and run the chapter again")


def test_a_store_for_a_chapter_keeps_its_primary_engine(tmp_path: Path) -> None:
    (tmp_path / "mkdocs.yml").write_text("site_name: x\n")
    store = ResultStore.for_chapter(tmp_path / "docs" / "a.md", primary="26.1")
    assert store.primary == "26.1" and store.file(KEY).name == "26.1.json"


# --- records: what a schema 1 file lacks, engine generations, node names ---------------------


def test_a_schema_1_lab_without_components_reads_as_none() -> None:
    data = json.loads(record_to_json(ChapterRecord(passing=run())))
    del data["passing"]["lab"]["components"]
    data["schema"] = 1
    read = record_from_json(json.dumps(data)).passing
    assert read is not None and read.lab.components == {}
    assert read == run()


@pytest.mark.parametrize(
    ("version", "generation"),
    [
        ("26.1.5+dfsg1-9+deb13u1", "26.1"),
        ("5:20.10.24~3-0~debian-bookworm", "20.10"),
        ("26.01", "26.1"),
        ("docker 26.1", None),
        ("abc", None),
        ("", None),
        (None, None),
    ],
)
def test_engine_generations(version: str | None, generation: str | None) -> None:
    assert generation_of(version) == generation


def test_node_names_are_host_names() -> None:
    longest = "a" * 31 + "." + "b" * 32
    assert node_name_problem(longest) is None and len(longest) == 64
    assert node_name_problem(longest + "b") == "at most 64 characters (this one has 65)"
    assert node_name_problem("") == "a node needs a name"
    label = (
        "letters, digits and '-' in parts separated by single dots; each part starts and ends "
        "with a letter or digit (a host name)"
    )
    for bad in ("a..b", "-a", "a-", "a_b", ".a"):
        assert node_name_problem(bad) == label, bad
    assert node_name_problem("node-01.lab") is None


# --- saves, set-asides and listings by engine --------------------------------------------


def test_a_failed_run_keeps_the_pass_of_its_own_engine(tmp_path: Path) -> None:
    store = store_in(tmp_path)  # primary 20.10
    on_26 = replace(run(), lab=replace(LAB, engine_version="26.1.5"))
    store.save(on_26)
    failed = replace(on_26, status="failed", started="2026-11-29T23:00:00")
    assert store.save(failed) == ChapterRecord(passing=on_26, latest=failed)
    assert store.load(KEY) == ChapterRecord()  # the primary engine's: untouched


def test_a_saved_file_names_its_engine(tmp_path: Path) -> None:
    store = store_in(tmp_path, primary="26.1")
    anonymous = replace(run(), lab=replace(LAB, engine_version=None))
    store.save(anonymous)
    assert json.loads(store.file(KEY).read_text(encoding="utf-8"))["engine"] == "26.1"
    write_legacy(store, ChapterRecord(passing=anonymous), "docs/b.md")
    assert store.migrate() == ["docs/b.md.json -> docs/b.md/26.1.json"]
    assert json.loads(store.file("docs/b.md").read_text(encoding="utf-8"))["engine"] == "26.1"


def test_set_aside_takes_the_engine_file_first(tmp_path: Path) -> None:
    store = store_in(tmp_path)
    path = store.file(KEY, "26.1")
    path.parent.mkdir(parents=True)
    path.write_text("{", encoding="utf-8")
    legacy = write_legacy(store, on("26.1.5"))
    aside = store.set_aside(KEY, "26.1")
    assert aside.parent == path.parent and aside.name.startswith("26.1.json.unreadable-")
    assert not path.exists() and legacy.exists()


def test_all_lists_schema_1_keys_too(tmp_path: Path) -> None:
    store = store_in(tmp_path)
    write_legacy(store, on("26.1.5"), "docs/old.md")
    store.save(run("docs/new.md"))
    assert store.all() == {
        "docs/new.md": {"20.10": ChapterRecord(run("docs/new.md"))},
        "docs/old.md": {"26.1": on("26.1.5")},
    }


def test_a_folder_no_one_can_write_in_is_named(tmp_path: Path) -> None:
    # /proc takes no new file, whoever asks (root included)
    problem = writable_problem([Path("/proc/verified")], None)
    assert problem is not None
    assert problem.startswith(
        "results cannot be written to /proc/verified: cannot write in /proc: "
    )
    assert problem.endswith(" (fix it, or --results DIR)") and "[Errno" not in problem
    assert writable_problem([tmp_path / "verified"], None) is None
