"""`verify: {starts-from: ...}`: a chapter starts from another's end state, which the runner
rebuilds first by replaying that chapter's state-changing commands (real bash, real lab)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from runner.cli import main
from runner.notation import NotationError, parse_chapter
from runner.notation.effects import effect
from runner.startpoint import load_setup, setup_blocks
from runner.store import ResultStore

CHAPTERS = Path(__file__).parent / "chapters" / "starts_from"
BOOK = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture
def book(tmp_path: Path) -> Path:
    (tmp_path / "mkdocs.yml").write_text("site_name: test\n")
    shutil.copytree(CHAPTERS, tmp_path / "docs")
    return tmp_path


def _verify(book: Path, name: str, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    code = main(["verify", str(book / "docs" / name), *extra])
    out = capsys.readouterr()
    return f"{code}\n{out.out}{out.err}"


def _record(book: Path, name: str):  # type: ignore[no-untyped-def]
    path = book / "docs" / name
    store = ResultStore.for_chapter(path)
    return store.load(store.key(path))


def test_the_set_up_replays_what_changes_state_and_nothing_else(
    book: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _verify(book, "next.md", capsys)
    assert out.startswith("0\n"), out
    run = _record(book, "next.md").passing
    assert run is not None and [b.status for b in run.blocks] == ["passed"]
    # base.md was not verified as a chapter of its own: only replayed
    assert _record(book, "base.md").passing is None


def test_starting_points_chain(book: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = _verify(book, "third.md", capsys)
    assert out.startswith("0\n"), out
    chapter = parse_chapter(book / "docs" / "third.md")
    setup = load_setup(chapter, parse_chapter)
    assert [p.chapter.path.name for p in setup.parts] == ["base.md", "next.md"]


def test_a_changed_starting_chapter_invalidates_the_cache(
    book: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _verify(book, "next.md", capsys).startswith("0\n")
    assert "cached" in _verify(book, "next.md", capsys)
    base = book / "docs" / "base.md"
    base.write_text(base.read_text().replace("echo un >", "true && echo un >"))
    again = _verify(book, "next.md", capsys)
    assert "cached" not in again and "passed" in again


def test_a_failing_set_up_blocks_the_chapter_and_says_where(
    book: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = book / "docs" / "base.md"
    base.write_text(
        base.read_text().replace(
            "$ export SALUT=bonjour", "$ export SALUT=bonjour\n$ cp absent.txt travail/"
        )
    )
    out = _verify(book, "next.md", capsys)
    assert out.startswith("1\n"), out
    latest = _record(book, "next.md").latest
    assert latest is not None and [b.status for b in latest.blocks] == ["blocked"]
    reason = latest.blocks[0].reason or ""
    assert "set-up (starts-from) failed at" in reason and "base.md:8" in reason


@pytest.mark.parametrize(
    ("front", "message"),
    [
        ("starts-from: absent.md", "no such chapter"),
        ("starts-from: loop.md", "loop"),
        ("starts-from: base.md\n  lab: {}", "together"),
        ("starts-from: 3", "names a chapter file"),
    ],
)
def test_bad_starting_points_are_notation_errors(
    book: Path, capsys: pytest.CaptureFixture[str], front: str, message: str
) -> None:
    (book / "docs" / "loop.md").write_text(
        f"---\nverify:\n  {front}\n---\n\n```console\n$ true\n```\n"
    )
    out = _verify(book, "loop.md", capsys)
    assert out.startswith("2\n") and message in out and "loop.md:3" in out, out


def test_a_hidden_block_may_not_change_state(tmp_path: Path) -> None:
    path = tmp_path / "c.md"
    path.write_text("# C\n\n```console hidden\n$ ls\n$ rm -f fichier\n```\n")
    with pytest.raises(NotationError) as caught:
        parse_chapter(path)
    assert f"{path}:5" in str(caught.value) and "hidden block may only check or wait" in str(
        caught.value
    )
    path.write_text('# C\n\n```console hidden until="5"\n$ docker node ls\n...\n```\n')
    assert parse_chapter(path).blocks[0].options.hidden  # a wait is fine


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("docker node ls", "looks"),
        (
            "docker service ps web --filter desired-state=running --format '{{.Node}}' | sort",
            "looks",
        ),
        ("docker swarm join-token manager", "looks"),
        ("docker swarm join-token --rotate worker", "changes"),
        ("eval $(docker-machine env node-01)", "changes"),
        ("docker-machine ssh node-04 docker swarm leave", "changes"),
        ("docker-machine ssh node-04 docker ps", "looks"),
        ("for n in a b; do curl -s http://$(docker-machine ip $n):8080/; done", "looks"),
        ("echo '<b>' ; ls", "looks"),
        ("echo x > f.txt", "changes"),
        ("docker swarm init > /dev/null", "changes"),
        ("TOKEN=$(docker swarm join-token -q worker)", "changes"),
        ("frobnicate --all", "unknown"),
    ],
)
def test_what_a_command_does(command: str, expected: str) -> None:
    assert effect(command) == expected


def test_the_book_part_1_replays_the_cluster_it_builds() -> None:
    blocks = setup_blocks(parse_chapter(BOOK / "swarm" / "partie-1.md"))
    typed = [c.text for b in blocks for c in b.commands]
    assert typed[:4] == [f"docker-machine create -d virtualbox node-0{n}" for n in range(1, 5)]
    assert "docker swarm join-token manager" in typed  # prints a token a kept command uses
    assert typed[-1] == "docker node demote node-02"
    assert not any(
        t.startswith(("docker node ls", "docker-machine ls", "tail", "hostname")) for t in typed
    )
    # the worker's refused rotation and node-04's refused join are not replayed
    assert typed.count("docker swarm join-token --rotate worker") == 1
    assert sum(t.startswith("docker swarm join --token {{ ") for t in typed) == 3


@pytest.mark.lab
def test_a_chapter_starts_from_a_lab_chapter(
    book: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _verify(book, "lab-next.md", capsys)
    assert out.startswith("0\n"), out
    run = _record(book, "lab-next.md").passing
    assert run is not None and run.lab.nodes == ("node-01",)  # the lab of lab-base.md
    assert [b.status for b in run.blocks] == ["passed"]
