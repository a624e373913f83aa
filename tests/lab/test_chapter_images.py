"""Chapters on a real lab (issue 11): images a chapter names in front matter, tagged on every
node (the lab's own and those the chapter creates); a failed hidden setup block blocks its
session instead of letting later blocks fail for misleading reasons; `-j 2` on two labs."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.cli import main
from runner.store import ResultStore


def _write(tmp_path: Path, name: str, text: str) -> Path:
    (tmp_path / "mkdocs.yml").write_text("site_name: t\n")
    (tmp_path / "docs").mkdir(exist_ok=True)
    path = tmp_path / "docs" / name
    path.write_text(text)
    return path


IMAGES = """---
verify:
  lab:
    nodes: [n1]
    images: {alpine: busybox, "nginx:1.11": web}
---

```console
$ eval $(docker-machine env n1)
$ docker run --rm alpine echo from-alpine
from-alpine
$ docker image ls --format '{{.Repository}}:{{.Tag}}' | sort
alpine:latest
busybox:latest
nginx:1.11
web:latest
$ docker-machine create -d virtualbox n2 > /dev/null
$ eval $(docker-machine env n2)
$ docker run --rm alpine echo on-a-new-node
on-a-new-node
```
"""


def test_images_named_in_front_matter_are_on_every_node(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, "images.md", IMAGES)
    code = main(["verify", str(path)])
    out = capsys.readouterr().out
    assert code == 0, out


def test_an_image_the_lab_lacks_is_refused_before_any_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(
        tmp_path,
        "bad.md",
        "---\nverify:\n  lab: {nodes: 1, images: {alpine: nosuchimage}}\n---\n"
        "```console\n$ echo never\nnever\n```\n",
    )
    code = main(["verify", str(path)])
    out = capsys.readouterr().out
    assert code == 2, out
    assert "nosuchimage" in out and "busybox" in out


def test_a_failed_hidden_setup_block_blocks_the_session_naming_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(
        tmp_path,
        "setup.md",
        "---\nverify:\n  lab: {nodes: 1}\n---\n"
        # A hidden check that fails (hidden blocks may only check or wait): node-09 is no node.
        "```console hidden\n$ docker-machine ip node-09\n```\n\n"
        "```console\n$ docker ps --format '{{.Names}}'\n```\n",
    )
    code = main(["verify", str(path)])
    out = capsys.readouterr().out
    assert code == 1
    store = ResultStore.for_chapter(path)
    run = store.load(store.key(path)).latest
    assert run is not None
    assert [b.status for b in run.blocks] == ["failed", "blocked"]
    assert "setup.md:6" in (run.blocks[1].reason or "")
    assert "Cannot connect" not in out


def test_two_lab_chapters_at_once_each_on_its_own_lab(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import os

    from runner.lab.state import ROOT, LabPaths, lab_ids, load_lab

    for n in (1, 2):
        _write(
            tmp_path,
            f"lab{n}.md",
            "---\nverify:\n  lab: {nodes: 1}\n---\n"
            "```console\n$ eval $(docker-machine env node-01)\n"
            f"$ docker run --rm --name only-{n} busybox echo chapter {n}\nchapter {n}\n"
            "$ docker ps -a --format '{{.Names}}' | wc -l\n0\n```\n",
        )
    code = main(["verify", str(tmp_path / "docs"), "-j", "2"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "2 chapters: 2 passed, 0 failed, 0 cached" in out
    for n in (1, 2):
        path = tmp_path / "docs" / f"lab{n}.md"
        store = ResultStore.for_chapter(path)
        run = store.load(store.key(path)).passing
        assert run is not None and run.lab.provider == "netns"
    # Both labs are gone: none left that this process owns (other people's labs may be there).
    ours = [
        lab_id
        for lab_id in lab_ids(ROOT)
        if (state := load_lab(LabPaths.of(lab_id, ROOT))) is not None
        and state.owner_pid == os.getpid()
    ]
    assert ours == []
