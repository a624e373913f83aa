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
        "```console hidden\n$ eval $(docker-machine env node-09)\n```\n\n"
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
