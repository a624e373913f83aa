"""The lab's images, built here without any registry and loaded into every node.

Each folder of `runner/lab/images/` is one image: `image.json` (tags, base, cmd...) and an
optional `rootfs/` whose files are laid over the base. The base of all is Debian's
busybox-static. The images are written straight in `docker save` format (one layer per
folder, fixed timestamps, so image IDs are the same on every machine and every run), cached
under /var/cache/book-lab, and sent to each engine's `POST /images/load` when a node is made.
See runner/lab/README.md (Images) for authors.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import subprocess
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.lab.errors import LabFault

IMAGES_DIR = Path(__file__).parent / "images"
CACHE_DIR = Path("/var/cache/book-lab")
BUSYBOX = Path("/bin/busybox")
EPOCH = 1577836800  # 2020-01-01T00:00:00Z: fixed, so layers and IDs never change
CREATED = "2020-01-01T00:00:00Z"
ARCHIVE_KEPT_S = 24 * 3600.0  # an archive no lab used for a day is removed
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class ImageError(LabFault):
    pass


@dataclass(frozen=True)
class ImageDef:
    name: str  # folder name
    tags: tuple[str, ...]
    base: str | None
    config: dict[str, Any]
    rootfs: Path | None
    comment: str


def definitions(folder: Path = IMAGES_DIR) -> list[ImageDef]:
    defs = []
    for d in sorted(p for p in folder.iterdir() if (p / "image.json").is_file()):
        spec_file = d / "image.json"
        try:
            spec = json.loads(spec_file.read_text(encoding="utf-8"))
            config: dict[str, Any] = {
                "Env": [PATH_ENV, *spec.get("env", [])],
                "Cmd": spec.get("cmd"),
            }
            for key, field in (
                ("entrypoint", "Entrypoint"),
                ("workdir", "WorkingDir"),
                ("stop_signal", "StopSignal"),
                ("user", "User"),
            ):
                if key in spec:
                    config[field] = spec[key]
            if spec.get("expose"):
                config["ExposedPorts"] = {p: {} for p in spec["expose"]}
            defs.append(
                ImageDef(
                    name=d.name,
                    tags=tuple(spec["tags"]),
                    base=spec.get("base"),
                    config=config,
                    rootfs=(d / "rootfs") if (d / "rootfs").is_dir() else None,
                    comment=spec.get("comment", ""),
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ImageError(
                f"{spec_file}:1: bad image definition ({exc}); see runner/lab/README.md"
            ) from exc
    return defs


def _add(
    tar: tarfile.TarFile,
    name: str,
    kind: bytes,
    data: bytes = b"",
    mode: int = 0o755,
    link: str = "",
) -> None:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime, info.linkname = kind, mode, EPOCH, link
    info.uid = info.gid = 0
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)


def busybox_layer() -> bytes:
    if not BUSYBOX.is_file():
        raise ImageError(f"{BUSYBOX} is missing: run `apt-get install busybox-static`")
    applets = subprocess.run(
        [str(BUSYBOX), "--list"], capture_output=True, text=True, check=True
    ).stdout.split()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for d in (
            "bin",
            "dev",
            "etc",
            "home",
            "proc",
            "root",
            "sys",
            "tmp",
            "usr",
            "usr/bin",
            "usr/sbin",
            "sbin",
            "var",
            "var/www",
        ):
            _add(tar, d, tarfile.DIRTYPE, mode=0o1777 if d == "tmp" else 0o755)
        _add(tar, "bin/busybox", tarfile.REGTYPE, BUSYBOX.read_bytes())
        for applet in sorted(set(applets) - {"busybox"}):
            _add(tar, f"bin/{applet}", tarfile.SYMTYPE, mode=0o777, link="busybox")
        _add(
            tar,
            "etc/passwd",
            tarfile.REGTYPE,
            b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n",
            0o644,
        )
        _add(tar, "etc/group", tarfile.REGTYPE, b"root:x:0:\nnogroup:x:65534:\n", 0o644)
    return buf.getvalue()


def rootfs_layer(folder: Path) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for path in sorted(folder.rglob("*")):
            rel = path.relative_to(folder).as_posix()
            mode = path.stat().st_mode & 0o7777
            if path.is_symlink():
                _add(tar, rel, tarfile.SYMTYPE, mode=0o777, link=os.readlink(path))
            elif path.is_dir():
                _add(tar, rel, tarfile.DIRTYPE, mode=mode)
            else:
                _add(tar, rel, tarfile.REGTYPE, path.read_bytes(), mode)
    return buf.getvalue()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build_archive(defs: list[ImageDef]) -> bytes:
    """One `docker save` archive holding every image."""
    by_name = {d.name: d for d in defs}
    layers: dict[str, bytes] = {}  # sha -> layer tar
    chains: dict[str, list[str]] = {}

    def chain(d: ImageDef) -> list[str]:
        if d.name in chains:
            return chains[d.name]
        if d.base is None:
            below: list[str] = []
            own = busybox_layer()
        else:
            if d.base not in by_name:
                raise ImageError(
                    f"{IMAGES_DIR / d.name / 'image.json'}:1: unknown base "
                    f"{d.base!r}; bases are folders of {IMAGES_DIR}"
                )
            below = chain(by_name[d.base])
            own = rootfs_layer(d.rootfs) if d.rootfs else b""
        result = list(below)
        if own:
            layers[_sha(own)] = own
            result.append(_sha(own))
        chains[d.name] = result
        return result

    manifest = []
    files: dict[str, bytes] = {}
    for d in defs:
        ids = chain(d)
        config = {
            "architecture": "amd64",
            "os": "linux",
            "created": CREATED,
            "config": d.config,
            "comment": d.comment,
            "rootfs": {"type": "layers", "diff_ids": [f"sha256:{s}" for s in ids]},
            "history": [{"created": CREATED, "created_by": f"book lab image {d.name}"}],
        }
        blob = json.dumps(config, sort_keys=True).encode()
        files[f"{_sha(blob)}.json"] = blob
        manifest.append(
            {
                "Config": f"{_sha(blob)}.json",
                "RepoTags": list(d.tags),
                "Layers": [f"{s}/layer.tar" for s in ids],
            }
        )
    for sha, data in layers.items():
        files[f"{sha}/layer.tar"] = data
    files["manifest.json"] = json.dumps(manifest).encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name in sorted(files):
            if "/" in name:
                _add(tar, name.split("/")[0], tarfile.DIRTYPE)
            _add(tar, name, tarfile.REGTYPE, files[name], 0o644)
    return buf.getvalue()


def cache_key(defs: list[ImageDef]) -> str:
    h = hashlib.sha256()
    h.update(_sha(BUSYBOX.read_bytes()).encode() if BUSYBOX.is_file() else b"-")
    h.update(Path(__file__).read_bytes())
    for d in defs:
        h.update(json.dumps([d.name, d.tags, d.base, d.config, d.comment]).encode())
        if d.rootfs:
            h.update(rootfs_layer(d.rootfs))
    return h.hexdigest()[:16]


def archive(cache: Path = CACHE_DIR) -> Path:
    """The cached archive of every image, built when missing or out of date."""
    defs = definitions()
    target = cache / f"images-{cache_key(defs)}.tar"
    if target.is_file():
        with contextlib.suppress(OSError):
            os.utime(target)  # in use: kept by `_prune` in other checkouts
        return target
    cache.mkdir(parents=True, exist_ok=True)
    data = build_archive(defs)
    fd, tmp = tempfile.mkstemp(dir=cache, prefix=".images.", suffix=".tmp")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, target)
    _prune(cache, target)
    return target


def _prune(cache: Path, keep: Path, unused_for: float = ARCHIVE_KEPT_S) -> list[Path]:
    """Remove the archives of other image definitions no lab has used for a day. Another
    checkout of the book (other images) may be loading its own archive right now: removing
    every other archive at once would pull it from under that lab."""
    now = time.time()
    removed = []
    for old in cache.glob("images-*.tar"):
        with contextlib.suppress(OSError):
            if old != keep and now - old.stat().st_mtime > unused_for:
                old.unlink()
                removed.append(old)
    return removed
