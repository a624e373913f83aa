"""Every process a session started ends with it, even one that left with `setsid` or `nohup`.

Two nets:
- a cgroup per session (root, and a cgroup hierarchy mounted): every descendant stays in it,
  whatever its process group or session (a `docker-machine ssh` shell moves to its node's
  cgroup and ends with the lab);
- otherwise, a marker variable in the session's environment (any user): descendants inherit
  it unless they clear their environment (`env -i`).

Cgroups are named `<runner pid>-<token>` under `booklab-sessions/`, and markers start with the
name of the run's home folder (`verify-home-<runner pid>-...`), so the next run ends what a
killed run left (its pid is gone), with or without root.
"""

from __future__ import annotations

import contextlib
import os
import signal
from dataclasses import dataclass
from pathlib import Path

from runner.lab import cgroups
from runner.lab.processes import pid_alive

TOP = "booklab-sessions"
MARKER = "VERIFY_SESSION"


@dataclass(frozen=True)
class Tracker:
    token: str  # "<home folder name>/<session token>": a dead run's are found by its home
    group: Path | None  # the cgroup's folder, when we could make one

    @classmethod
    def create(cls, token: str) -> Tracker:
        group: Path | None = None
        if os.geteuid() == 0 and cgroups.tracking_root() is not None:
            try:
                group = cgroups.ensure(f"/{TOP}/{os.getpid()}-{token.rsplit('/', 1)[-1]}")
            except OSError:
                group = None  # a read-only cgroupfs (some containers): the marker remains
        return cls(token, group)

    def env(self) -> dict[str, str]:
        return {MARKER: self.token}

    def join(self) -> None:
        """Called in the forked child, before exec: move this process into the group."""
        if self.group is not None:
            with contextlib.suppress(OSError):
                (self.group / "cgroup.procs").write_text(str(os.getpid()))

    def pids(self) -> set[int]:
        # The cgroup when there is one: scanning every process's environment costs a tenth of
        # a second on a busy machine, at every session's end.
        if self.group is not None:
            found = set(cgroups.pids(self._rel()))
        else:
            found = set(_marked(f"{MARKER}={self.token}\0".encode()))
        found.discard(os.getpid())
        return found

    def end_all(self) -> None:
        """SIGKILL every process of the session, until none is left; remove the group."""
        for _ in range(50):
            left = self.pids()
            if not left:
                break
            for pid in left:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
        if self.group is not None:
            cgroups.remove_tree(self._rel())

    def _rel(self) -> str:
        assert self.group is not None
        root = cgroups.tracking_root()
        assert root is not None
        return "/" + self.group.relative_to(root).as_posix()


def _marked(needle: bytes) -> list[int]:
    """Processes whose environment holds `needle` at the start of a variable."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = b"\0" + (entry / "environ").read_bytes() + b"\0"
        except OSError:
            continue
        if b"\0" + needle in environ:
            out.append(int(entry.name))
    return out


def end_marked(prefix: str) -> None:
    """SIGKILL what sessions whose marker starts with `prefix` left (a killed run's, found by
    its home folder's name: this works without root, for the caller's own processes)."""
    needle = f"{MARKER}={prefix}".encode()
    for _ in range(50):
        left = [pid for pid in _marked(needle) if pid != os.getpid()]
        if not left:
            return
        for pid in left:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)


def clean_stale() -> list[str]:
    """Remove session groups (and their processes) of runs that are gone."""
    removed: list[str] = []
    root = cgroups.tracking_root()
    if os.geteuid() != 0 or root is None or not (root / TOP).is_dir():
        return removed
    for folder in sorted((root / TOP).iterdir()):
        pid = folder.name.split("-", 1)[0]
        if not folder.is_dir() or not pid.isdigit() or pid_alive(int(pid)):
            continue
        rel = f"/{TOP}/{folder.name}"
        cgroups.kill_all(rel)
        cgroups.remove_tree(rel)
        removed.append(str(folder))
    with contextlib.suppress(OSError):
        (root / TOP).rmdir()
    return removed
