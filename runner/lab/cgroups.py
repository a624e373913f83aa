"""Process tracking through cgroups: every process of a node (dockerd, containerd, shims,
containers, `docker-machine ssh` shells) lives under `/booklab/<lab>/<node>/`, so a node is
stopped, killed or removed completely, whoever started what inside it.

Containers land there because each engine runs with `--cgroup-parent /booklab/<lab>/<node>`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

from runner.lab.state import CGROUP_TOP

CGROUP_FS = Path("/sys/fs/cgroup")


def tracking_root() -> Path | None:
    """The hierarchy used to find processes: cgroup v1 `pids` (or `memory`), else v2."""
    for name in ("pids", "memory", "cpu", "systemd"):
        candidate = CGROUP_FS / name
        if (candidate / "cgroup.procs").exists():
            return candidate
    if (CGROUP_FS / "cgroup.controllers").exists():
        return CGROUP_FS
    return None


def hierarchies() -> list[Path]:
    """Every mounted hierarchy (dockerd creates container cgroups in all of them)."""
    if (CGROUP_FS / "cgroup.controllers").exists():
        return [CGROUP_FS]
    out = []
    for entry in sorted(CGROUP_FS.iterdir()) if CGROUP_FS.is_dir() else []:
        if entry.is_dir() and not entry.is_symlink() and (entry / "cgroup.procs").exists():
            out.append(entry)
    return out


def group_path(*parts: str) -> str:
    """The cgroup path (as dockerd's --cgroup-parent takes it) of a lab, node or part."""
    return "/" + "/".join((CGROUP_TOP, *parts))


def ensure(rel: str) -> Path:
    root = tracking_root()
    if root is None:
        raise OSError("no cgroup hierarchy mounted under /sys/fs/cgroup")
    path = root / rel.lstrip("/")
    for _ in range(20):  # another lab's teardown may rmdir the empty top folder meanwhile
        try:
            path.mkdir(parents=True, exist_ok=True)
            break
        except FileNotFoundError:
            time.sleep(0.01)
    return path


def pids(rel: str) -> list[int]:
    """Every process in that cgroup and below."""
    root = tracking_root()
    if root is None:
        return []
    top = root / rel.lstrip("/")
    found: list[int] = []
    if not top.is_dir():
        return found
    for folder, _dirs, files in os.walk(top):
        if "cgroup.procs" in files:
            try:
                text = (Path(folder) / "cgroup.procs").read_text()
            except OSError:
                continue
            found.extend(int(x) for x in text.split())
    return found


def signal_all(rel: str, sig: int) -> int:
    sent = 0
    for pid in pids(rel):
        try:
            os.kill(pid, sig)
            sent += 1
        except ProcessLookupError:
            pass
    return sent


def kill_all(rel: str, timeout: float = 5.0) -> bool:
    """SIGKILL every process in the tree until none is left (forks racing the kill are caught
    by the next round). True when the tree is empty."""
    deadline = time.monotonic() + timeout
    while True:
        if signal_all(rel, signal.SIGKILL) == 0 and not pids(rel):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)


def remove_tree(rel: str) -> list[str]:
    """rmdir the cgroup folders of `rel` in every hierarchy, deepest first. Returns leftovers."""
    left = []
    for hierarchy in hierarchies():
        top = hierarchy / rel.lstrip("/")
        if not top.is_dir():
            continue
        for folder, _dirs, _files in sorted(os.walk(top, topdown=False), key=lambda w: -len(w[0])):
            for _ in range(50):
                try:
                    os.rmdir(folder)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.01)  # a process is still leaving
            else:
                left.append(folder)
    return left


def lab_groups() -> dict[str, list[str]]:
    """Lab id -> cgroup folders found for it, in every hierarchy (for the census)."""
    out: dict[str, list[str]] = {}
    for hierarchy in hierarchies():
        top = hierarchy / CGROUP_TOP
        if not top.is_dir():
            continue
        for lab in sorted(top.iterdir()):
            if lab.is_dir():
                out.setdefault(lab.name, []).append(str(lab))
    return out


def remove_top_if_empty() -> None:
    for hierarchy in hierarchies():
        with contextlib.suppress(OSError):
            os.rmdir(hierarchy / CGROUP_TOP)
