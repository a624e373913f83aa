"""The vm lab's image and per-node initramfs, without booting anything."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest

from runner import bookconfig
from runner.lab import engines
from runner.lab.images import BUSYBOX
from runner.lab.vm import image, qemu

ROOT = Path(__file__).resolve().parents[2]


def test_the_image_key_covers_the_engine_version_and_its_binaries(tmp_path: Path) -> None:
    engine = image.engine_of()
    debs = [Path("linux-image-6.1.0-1-cloud-amd64_6.1.1-1_amd64.deb")]
    key = image.cache_key(engine, debs)
    assert key == image.cache_key(engine, debs)  # stable: a second lab reuses the image
    other = image.EngineBundle("99.0.0", engine.binaries)
    assert image.cache_key(other, debs) != key
    newer_kernel = [Path("linux-image-6.1.0-2-cloud-amd64_6.1.2-1_amd64.deb")]
    assert image.cache_key(engine, newer_kernel) != key
    folder = tmp_path / "engine"
    folder.mkdir()
    for name, path in engine.binaries:
        (folder / name).symlink_to(path)
    moved = image.EngineBundle.from_dir(folder, engine.version)
    assert image.cache_key(moved, debs) != key  # other files: another image


def test_a_node_initramfs_is_a_cpio_archive_with_the_node_settings(tmp_path: Path) -> None:
    img = image.ensure()  # cached after the first build
    files = {
        "node.env": qemu.node_env("node-07", "192.168.99.106", 24, ["--label=a b", "--debug"]),
        "tls/ca.pem": b"CA",
        "authorized_keys": b"ssh-ed25519 AAAA test\n",
    }
    out = tmp_path / "initrd"
    qemu.write_initrd(img, out, files)
    listing = subprocess.run(
        [str(BUSYBOX), "cpio", "-t"], stdin=out.open("rb"), capture_output=True, text=True
    )
    names = set(listing.stdout.split())
    assert {"init", "bin/busybox", "dev/console", "booklab/node.env", "booklab/tls/ca.pem"} <= names
    assert {f"modules/{m}" for m in (img.initrd_modules / "order").read_text().split()} <= names
    extract = tmp_path / "x"
    extract.mkdir()
    subprocess.run(
        [str(BUSYBOX), "cpio", "-i", "-d"], stdin=out.open("rb"), cwd=extract, check=True
    )
    env = (extract / "booklab/node.env").read_text()
    # The guest's rcS sources it and evals DOCKERD_ARGS: quoting must survive both.
    got = subprocess.run(
        ["sh", "-c", f'. {shlex.quote(str(extract / "booklab/node.env"))}; '
         'eval "set -- $DOCKERD_ARGS"; printf "%s|" "$NODE_NAME" "$@"'],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert got == "node-07|--label=a b|--debug|", env


def test_a_relinked_binary_brings_the_interpreter_it_names_into_the_image() -> None:
    """Trixie's runc needs a newer glibc than Debian 12's: the engine cache relinks it against
    the suite's own loader, which the guest must hold at the same path, or every container
    fails with `fork/exec /usr/bin/runc: no such file or directory`."""
    relinked = [
        (bundle, name)
        for bundle in (engines.bundle(g) for g in bookconfig.load(ROOT).engines)
        for name in bundle.relinked
    ]
    if not relinked:
        pytest.skip("no engine generation of the book needs relinking on this host's glibc")
    for bundle, name in relinked:
        binary = bundle.bin / name
        interpreter = _interpreter(binary)
        assert interpreter.is_relative_to(bundle.bin.parent), interpreter
        assert interpreter in image._libraries(binary, bundle.bin.parent / "libroot")


def _interpreter(binary: Path) -> Path:
    out = subprocess.run(["patchelf", "--print-interpreter", str(binary)], capture_output=True)
    return Path(out.stdout.decode().strip())
