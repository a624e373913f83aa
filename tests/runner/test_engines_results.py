"""Results per Docker Engine generation: one record per chapter and engine, a failure on one
engine never touching another's, schema 1 results migrated, per-engine block variants.

Real CLI, real bash sessions, each engine's own `docker` client (from the lab's cache); the
chapters here need no lab."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runner import bookconfig
from runner.cli import main
from runner.model import Location
from runner.notation import NotationError, parse_chapter
from runner.publish.engines import coverage_problems, mask, variant_groups
from runner.publish.status import chapter_state
from runner.records import ChapterRecord, record_from_json
from runner.store import ResultStore

CHAPTER = """# Versions

```console
$ docker --version
Docker version {expected}[..]
```
"""


def _book(tmp_path: Path) -> Path:
    (tmp_path / "docs").mkdir()
    (tmp_path / "mkdocs.yml").write_text(
        'site_name: t\nplugins:\n  - verified:\n      engines: ["20.10", "26.1"]\n'
    )
    return tmp_path / "docs" / "a.md"


def _records(path: Path) -> dict[str, ChapterRecord]:
    store = ResultStore.for_chapter(path)
    return store.load_engines(store.key(path))


def test_each_engine_keeps_its_own_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chapter = _book(tmp_path)
    chapter.write_text(CHAPTER.format(expected=""))
    assert main(["verify", "--engine", "all", str(chapter)]) == 0
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.json"))
    assert files == ["verified/docs/a.md/20.10.json", "verified/docs/a.md/26.1.json"]
    records = _records(chapter)
    for engine, record in records.items():
        assert record.passing is not None and record.passing.lab.engine == engine
        output = record.passing.blocks[0].commands[0].output
        assert output.startswith(f"Docker version {engine}.")  # the engine's own client
        data = json.loads((tmp_path / f"verified/docs/a.md/{engine}.json").read_text())
        assert data["schema"] == 2 and data["engine"] == engine
    # Cached per engine: nothing runs again.
    assert main(["verify", "--engine", "20.10", "--engine", "26.1", str(chapter)]) == 0
    assert "cached" in capsys.readouterr().out


def test_a_failure_on_one_engine_leaves_the_others_intact(tmp_path: Path) -> None:
    chapter = _book(tmp_path)
    chapter.write_text(CHAPTER.format(expected=""))
    assert main(["verify", "--engine", "all", str(chapter)]) == 0
    before = (tmp_path / "verified/docs/a.md/20.10.json").read_bytes()
    passing_26 = _records(chapter)["26.1"].passing
    # Now the chapter expects 20.10's client: it fails on 26.1 only.
    chapter.write_text(CHAPTER.format(expected="20.10."))
    assert main(["verify", "--engine", "26.1", str(chapter)]) == 1
    assert (tmp_path / "verified/docs/a.md/20.10.json").read_bytes() == before
    record = _records(chapter)["26.1"]
    assert record.passing == passing_26  # the last passing run on 26.1 survives
    assert record.latest is not None and record.latest.status == "failed"
    # And a run on both: 20.10 passes and is replaced, 26.1 still fails, neither mixed up.
    assert main(["verify", "--engine", "all", str(chapter)]) == 1
    records = _records(chapter)
    assert records["20.10"].passing is not None and records["20.10"].latest is None
    assert records["26.1"].passing == passing_26


def test_schema_1_results_are_read_then_migrated(tmp_path: Path) -> None:
    chapter = _book(tmp_path)
    chapter.write_text(CHAPTER.format(expected=""))
    assert main(["verify", "--engine", "20.10", str(chapter)]) == 0
    new = tmp_path / "verified/docs/a.md/20.10.json"
    data = json.loads(new.read_text())
    # Made into what an older runner wrote: one file beside the chapter's folder, schema 1.
    data["schema"] = 1
    del data["engine"]
    data["passing"]["lab"].pop("engine")
    data["passing"]["lab"].pop("components")
    legacy = tmp_path / "verified/docs/a.md.json"
    legacy.write_text(json.dumps(data))
    new.unlink()
    new.parent.rmdir()
    store = ResultStore.for_chapter(chapter)
    # Read where it is: a run without a lab names no engine, so it is the primary's.
    old = store.load("docs/a.md", "20.10")
    assert old.passing is not None and old.engine is None
    assert store.load("docs/a.md", "26.1") == ChapterRecord()
    assert store.migrate() == ["docs/a.md.json -> docs/a.md/20.10.json"]
    assert not legacy.exists()
    assert record_from_json(new.read_text()).passing == old.passing


VARIANTS = """# Variants

```console engines="<26"
$ docker --version
Docker version 20.10[..]
```

```console engines=">=26"
$ docker --version
Docker version 26.1[..]
```
"""


def test_engine_variants_run_only_on_their_engines(tmp_path: Path) -> None:
    chapter = _book(tmp_path)
    chapter.write_text(VARIANTS)
    assert main(["verify", "--engine", "all", str(chapter)]) == 0
    records = _records(chapter)
    statuses = {
        engine: [b.status for b in record.passing.blocks]
        for engine, record in records.items()
        if record.passing is not None
    }
    assert statuses == {"20.10": ["passed", "skipped"], "26.1": ["skipped", "passed"]}
    # Pages say it in French: that block is the other engines' variant.
    on20 = chapter_state("docs/a.md", parse_chapter(chapter), records["20.10"])
    assert on20.blocks[1].reason == "variante de ce bloc pour les versions 26 et suivantes"


@pytest.mark.parametrize("spec", ["newest", ">=", "26.x", ">=26,,"])
def test_bad_engines_option_names_file_and_line(tmp_path: Path, spec: str) -> None:
    path = tmp_path / "a.md"
    path.write_text(f'# A\n\n```console engines="{spec}"\n$ true\n```\n')
    with pytest.raises(NotationError) as caught:
        parse_chapter(path)
    assert str(Location(path, 3)) in str(caught.value)
    assert "engines=" in str(caught.value)


def test_a_variant_group_must_give_each_engine_exactly_one(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_text(
        '# A\n\n```console engines="<26"\n$ true\n```\n\n'
        '```console engines=">=28"\n$ true\n```\n\n'
        "```console\n$ true\n```\n"
    )
    chapter = parse_chapter(path)
    groups = variant_groups(chapter)
    assert [[b.index for b in g] for g in groups] == [[0, 1], [2]]
    problems = coverage_problems(chapter, "docs/a.md", ("20.10", "26.1", "28.5"))
    assert problems == [
        "docs/a.md:3: the blocks with engines= here give Docker 26.1 no variant; "
        "each engine of the book needs exactly one"
    ]
    # A lone block for some engines is a step those engines only have: no problem.
    path.write_text('# A\n\n```console engines=">=26"\n$ true\n```\n')
    assert coverage_problems(parse_chapter(path), "docs/a.md", ("20.10", "26.1")) == []


@pytest.mark.parametrize("engines", [[], ["26"], ["latest"], [26.1], ["20.10", "20.10"], "20.10"])
def test_the_book_engine_list_is_checked(tmp_path: Path, engines: object) -> None:
    (tmp_path / "mkdocs.yml").write_text(
        f"site_name: t\nplugins:\n  - search\n  - verified:\n      engines: {json.dumps(engines)}\n"
    )
    with pytest.raises(bookconfig.BookConfigError) as caught:
        bookconfig.load(tmp_path)
    assert f"{tmp_path / 'mkdocs.yml'}:5" in str(caught.value)


def test_the_book_engine_list_is_read_from_mkdocs_yml(tmp_path: Path) -> None:
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: t\nmarkdown_extensions:\n  - pymdownx.emoji:\n"
        "      emoji_index: !!python/name:material.extensions.emoji.twemoji\n"
        'plugins:\n  - verified:\n      engines: ["26.1", "20.10"]\n'
    )
    assert bookconfig.load(tmp_path).engines == ("26.1", "20.10")
    assert bookconfig.load(tmp_path).primary == "26.1"
    assert bookconfig.load(None).engines == ("20.10",)  # outside a book


def test_run_to_run_noise_is_no_engine_difference() -> None:
    one = (
        'time="2026-11-29T21:37:18.046727688Z" msg="received heartbeat from worker '
        "{[swarm-manager] hs944ahze9n99cwgoowtiuz6d b7cvr42z7rnnt39o41vyd3qpi <nil> "
        '192.168.101.101:45590}, expect next heartbeat in 4.72545569s"\n'
        "vfwibokqenfg   web   replicated   4/4   web:latest\n"
        "web.1 node-03 Running 37 seconds ago\n"
        "export DOCKER_CERT_PATH=/run/book-lab/c8ad9f/machine/machines/node-01"
    )
    two = (
        'time="2026-11-29T21:41:20.930392783Z" msg="received heartbeat from worker '
        "{[swarm-manager] 9jnf5ejqpa4rnlpul9ajvdm45 hsm233a2eo64vupjp53sx5zib <nil> "
        '192.168.99.101:57798}, expect next heartbeat in 4.817737025s"\n'
        "9jq1f80tgozn   web   replicated   4/4   web:latest\n"
        "web.4 node-02 Running less than a second ago\n"
        "export DOCKER_CERT_PATH=/run/book-lab/8353d1/machine/machines/node-01"
    )
    assert mask(one) == mask(two)
    # What does change behaviour still shows: another word, a new line.
    assert mask("verify: Service converged") != mask("verify: Service 3s2apuyea7cn converged")
    assert mask(one) != mask(one + "\nWARNING: no swap limit support")


def test_an_unreadable_schema_1_file_is_set_aside_not_lost(tmp_path: Path) -> None:
    chapter = _book(tmp_path)
    chapter.write_text(CHAPTER.format(expected=""))
    legacy = tmp_path / "verified" / "docs" / "a.md.json"
    legacy.parent.mkdir(parents=True)
    legacy.write_text("{not json")
    assert main(["verify", str(chapter)]) == 0
    aside = list(legacy.parent.glob("a.md.json.unreadable-*"))
    assert len(aside) == 1 and aside[0].read_text() == "{not json"
    assert _records(chapter)["20.10"].passing is not None
