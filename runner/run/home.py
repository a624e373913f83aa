"""The sessions' `$HOME`: a fresh folder per chapter run, removed after it whatever it holds.

Named `verify-home-<runner pid>-...` in the temporary folder, so that the next run (or `lab
down`) removes those a killed run left. Anything mounted inside (a chapter may `mount`) is
unmounted first: removing a folder under a mount point would fail, or worse, empty the
mounted filesystem.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from runner.lab.processes import pid_alive
from runner.run.tracking import end_marked

PREFIX = "verify-home-"
_OCTAL = re.compile(r"\\([0-7]{3})")


def make_home() -> Path:
    return Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))


def _mounts_under(folder: Path) -> list[str]:
    try:
        text = Path("/proc/self/mountinfo").read_text()
    except OSError:
        return []
    prefix = str(folder) + "/"
    points = []
    for line in text.splitlines():
        # The mount point is field 5, with spaces and such escaped as octal (\040).
        point = _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), line.split()[4])
        if point.startswith(prefix) or point == str(folder):
            points.append(point)
    return sorted(set(points), key=len, reverse=True)


def remove_home(folder: Path) -> list[str]:
    """Unmount what is mounted inside, then remove the folder. Returns what was unmounted."""
    unmounted = []
    for point in _mounts_under(folder):
        # Lazy: a process that still holds it cannot keep us from removing the folder.
        try:
            done = subprocess.run(["umount", "--lazy", point], capture_output=True, text=True)
        except OSError:
            break  # no umount command here: the folder stays, it is not emptied
        if done.returncode == 0:
            unmounted.append(point)
    if folder.is_dir() and not _mounts_under(folder):
        shutil.rmtree(folder, ignore_errors=True)
    return unmounted


def clean_stale_homes(tmp: Path | None = None) -> list[str]:
    """Remove the homes of runs whose process is gone."""
    base = Path(tmp or tempfile.gettempdir())
    removed = []
    for folder in sorted(base.glob(PREFIX + "*")):
        pid = folder.name[len(PREFIX) :].split("-", 1)[0]
        if not pid.isdigit() or not folder.is_dir() or pid_alive(int(pid)):
            continue
        try:
            if folder.stat().st_uid != os.geteuid() and os.geteuid() != 0:
                continue  # another user's: not ours to remove
        except OSError:
            continue
        end_marked(folder.name + "/")  # its sessions' processes (setsid, nohup...) first
        remove_home(folder)
        removed.append(str(folder))
    return removed
