"""`docker-machine scp [-r] SRC DST` for netns nodes: `node:path` is read or written inside the
node's mount namespace (relative paths from /home/docker, as over SSH). Files travel through a
pipe; folders (`-r`) as a tar stream. Quiet, like scp without a terminal.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

HOME = "/home/docker"
PUT_FILE = 'cd "$0"; d="$1"; if [ -d "$d" ]; then d="$d/$2"; fi; cat > "$d"'
PUT_DIR = (
    'cd "$0"; if [ -d "$1" ]; then tar -xf - -C "$1"; '
    'else mkdir -p "$1" && tar -xf - -C "$1" --strip-components=1; fi'
)
GET_FILE = 'cd "$0"; if [ -d "$1" ]; then echo "$1: not a regular file" >&2; exit 1; fi; cat "$1"'
GET_DIR = 'cd "$0"; tar -C "$(dirname "$1")" -cf - "$(basename "$1")"'


class ScpError(Exception):
    pass


def _in_node(
    pid: int, script: str, args: list[str], stdin: int | None, stdout: int | None
) -> subprocess.CompletedProcess[bytes]:
    cmd = ["nsenter", "-t", str(pid), "--mount", "--uts", "--net", "sh", "-c", script, HOME, *args]
    return subprocess.run(cmd, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE)


def _check(proc: subprocess.CompletedProcess[bytes], what: str) -> None:
    if proc.returncode != 0:
        raise ScpError(f"{what}: {proc.stderr.decode(errors='replace').strip()}")


def _put(pid: int, local: Path, remote: str, recursive: bool) -> None:
    if local.is_dir():
        if not recursive:
            raise ScpError(f"{local}: not a regular file (use -r)")
        tar = subprocess.Popen(
            ["tar", "-C", str(local.parent), "-cf", "-", local.name], stdout=subprocess.PIPE
        )
        assert tar.stdout is not None
        proc = _in_node(pid, PUT_DIR, [remote], tar.stdout.fileno(), None)
        tar.stdout.close()
        tar.wait()
    else:
        with local.open("rb") as fh:
            proc = _in_node(pid, PUT_FILE, [remote, local.name], fh.fileno(), None)
    _check(proc, f"copying {local} to the node")


def _get(pid: int, remote: str, local: Path, recursive: bool) -> None:
    if recursive:
        with tempfile.TemporaryDirectory() as tmp:
            tar = subprocess.Popen(["tar", "-xf", "-", "-C", tmp], stdin=subprocess.PIPE)
            assert tar.stdin is not None
            proc = _in_node(pid, GET_DIR, [remote], None, tar.stdin.fileno())
            tar.stdin.close()
            tar.wait()
            _check(proc, f"copying {remote} from the node")
            (got,) = Path(tmp).iterdir()
            target = local / got.name if local.is_dir() else local
            shutil.copytree(got, target, symlinks=True, dirs_exist_ok=True)
        return
    target = local / Path(remote).name if local.is_dir() else local
    with open(target, "wb") as fh:
        proc = _in_node(pid, GET_FILE, [remote], None, fh.fileno())
    if proc.returncode != 0:
        os.unlink(target)
    _check(proc, f"copying {remote} from the node")


def scp(args: list[str], is_node: Callable[[str], bool], pid_of: Callable[[str], int]) -> None:
    recursive = any(a in ("-r", "--recursive") for a in args)
    paths = [a for a in args if not a.startswith("-")]
    if len(paths) != 2:
        raise ScpError("Error: Expected 2 arguments: [machine:][path] [machine:][path]")

    def split(arg: str) -> tuple[str | None, str]:
        name, colon, path = arg.partition(":")
        if colon and is_node(name):
            return name, path or "."
        return None, arg

    (src_node, src), (dst_node, dst) = split(paths[0]), split(paths[1])
    if src_node is None and dst_node is None:
        raise ScpError("Error: at least one of the paths must be on a machine (name:path)")
    if src_node is not None and dst_node is not None:
        with tempfile.TemporaryDirectory() as tmp:
            _get(pid_of(src_node), src, Path(tmp), recursive)
            (got,) = Path(tmp).iterdir()
            _put(pid_of(dst_node), got, dst, recursive)
        return
    if dst_node is not None:
        _put(pid_of(dst_node), Path(src), dst, recursive)
    else:
        assert src_node is not None
        _get(pid_of(src_node), src, Path(dst), recursive)
