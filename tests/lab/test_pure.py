"""The parts that need no engine: Go template and tabwriter, natural sort, images, capabilities."""

from __future__ import annotations

import json
import os
import re
import tarfile
import time
from io import BytesIO
from pathlib import Path

import pytest

from runner.lab import capabilities, images
from runner.lab.docker_machine import gotemplate
from runner.lab.docker_machine.queries import go_regexp_error
from runner.lab.state import natural_key


def test_tabwriter_matches_docker_machine_documentation() -> None:
    # `docker-machine ls` as printed in docker-machine's reference page.
    text = (
        "NAME\tACTIVE\tDRIVER\tSTATE\tURL\tSWARM\tDOCKER\tERRORS\n"
        "default\t-\tvirtualbox\tRunning\ttcp://192.168.99.100:2376\t\tv1.9.1\t\n"
    )
    lines = gotemplate.tabwrite(text).splitlines()
    assert lines[0] == (
        "NAME      ACTIVE   DRIVER       STATE     URL                         "
        "SWARM   DOCKER   ERRORS"
    )
    assert lines[1].rstrip() == (
        "default   -        virtualbox   Running   tcp://192.168.99.100:2376           v1.9.1"
    )


def test_template_fields_functions_and_errors() -> None:
    data = {"Name": "n1", "Driver": {"IPAddress": "10.0.0.1", "Port": 22}, "On": True}
    assert gotemplate.render("{{.Name}} {{ .Driver.IPAddress }} {{.On}}", data) == (
        "n1 10.0.0.1 true"
    )
    assert gotemplate.render("{{json .Driver}}", data) == '{"IPAddress":"10.0.0.1","Port":22}'
    for bad, message in (
        ("{{.Nope}}", "can't evaluate field Nope"),
        ("{{frob .Name}}", 'function "frob" not defined'),
    ):
        try:
            gotemplate.render(bad, data)
        except gotemplate.TemplateError as exc:
            assert message in str(exc)
        else:
            raise AssertionError(f"{bad} rendered")


def test_natural_sort_like_docker_machine() -> None:
    names = ["node-10", "Node-2", "node-1", "manager"]
    assert sorted(names, key=natural_key) == ["manager", "node-1", "Node-2", "node-10"]


def test_image_archive_is_reproducible_and_complete() -> None:
    defs = images.definitions()
    first, second = images.build_archive(defs), images.build_archive(defs)
    assert first == second  # same image IDs on every machine and run
    with tarfile.open(fileobj=BytesIO(first)) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        tags = [t for m in manifest for t in m["RepoTags"]]
        assert tags == ["busybox:latest", "web:latest"]
        web = next(m for m in manifest if "web:latest" in m["RepoTags"])
        base = next(m for m in manifest if "busybox:latest" in m["RepoTags"])
        assert web["Layers"][: len(base["Layers"])] == base["Layers"]  # shares busybox's layer
        member = tar.extractfile(web["Layers"][-1])
        with tarfile.open(fileobj=member) as layer:
            cgi = layer.getmember("var/www/cgi-bin/index.cgi")
        assert cgi.mode & 0o111


def test_capabilities_say_why() -> None:
    caps = capabilities.probe()
    assert {"ipvs", "overlay", "overlayfs"} <= set(caps)
    for cap in caps.values():
        assert cap.reason
    if not caps["ipvs"].present:
        assert "mode=host" in caps["ipvs"].reason and "routing mesh" in caps["ipvs"].reason


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("[", "missing closing ]: `[`"),
        ("a[bc", "missing closing ]: `[bc`"),
        ("(a", "missing closing ): `(a`"),
        ("a)", "unexpected ): `a)`"),
        ("*", "missing argument to repetition operator: `*`"),
        ("a**", "invalid nested repetition operator: `**`"),
        ("a\\", "trailing backslash at end of expression: ``"),
        ("\\q", "invalid escape sequence: `\\q`"),
        ("[z-a]", "invalid character class range: `z-a`"),
    ],
)
def test_name_filter_regexp_errors_read_like_go(pattern: str, message: str) -> None:
    with pytest.raises(re.error) as caught:
        re.compile(pattern)
    assert go_regexp_error(pattern, caught.value) == f"error parsing regexp: {message}"


def test_an_archive_another_checkout_uses_is_not_removed(tmp_path: Path) -> None:
    """Two checkouts with other images share the cache: a new archive removes only those no
    lab has used for a day, never one that another lab may be loading now."""
    target = images.archive(tmp_path)
    recent = tmp_path / "images-0000000000000001.tar"  # another checkout's, used just now
    stale = tmp_path / "images-0000000000000002.tar"  # nobody's for two days
    for other in (recent, stale):
        other.write_bytes(b"x")
    os.utime(stale, (time.time() - 2 * 86400,) * 2)
    assert images._prune(tmp_path, target) == [stale]
    assert target.is_file() and recent.is_file() and not stale.exists()
    os.utime(target, (time.time() - 2 * 86400,) * 2)
    assert images.archive(tmp_path) == target  # found, and marked as used again
    assert time.time() - target.stat().st_mtime < 86400
