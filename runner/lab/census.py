"""Every lab resource present on the machine, found by name (not by trusting any state file),
and the removal of labs whose owner is gone.

Kinds: lab folder (with the VM disks in it), network namespace, link (bridge, veth), tap (a
VM's network card), iptables rule, cgroup, process, vm (a QEMU process), mount. The image
cache (/var/cache/book-lab) is a cache, not a lab resource.
"""

from __future__ import annotations

import contextlib
import shutil
from dataclasses import dataclass
from pathlib import Path

from runner.lab import cgroups, network
from runner.lab.state import (
    PREFIX,
    ROOT,
    LabPaths,
    global_lock,
    lab_ids,
    load_lab,
    owner_alive,
)


@dataclass(frozen=True)
class Resource:
    lab: str
    kind: str  # "dir", "netns", "link", "tap", "iptables", "cgroup", "process", "vm", "mount"
    name: str

    def __str__(self) -> str:
        return f"lab {self.lab}: {self.kind} {self.name}"


def _process_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "?"


def census(root: Path = ROOT) -> list[Resource]:
    found: list[Resource] = []
    for lab in lab_ids(root):
        found.append(Resource(lab, "dir", str(root / lab)))
    for lab, objects in network.lab_objects().items():
        for obj in objects:
            kind, _, name = obj.partition(" ")
            if kind == "link" and name.startswith(f"{PREFIX}{lab}t"):
                kind = "tap"
            found.append(Resource(lab, kind, name))
    for lab, folders in cgroups.lab_groups().items():
        for folder in folders:
            found.append(Resource(lab, "cgroup", folder))
        for pid in cgroups.pids(cgroups.group_path(lab)):
            name = _process_name(pid)
            kind = "vm" if name.startswith(PREFIX) else "process"  # QEMU names itself bkl<id>-<n>
            found.append(Resource(lab, kind, f"{pid} {name}"))
    try:
        mountinfo = Path("/proc/self/mountinfo").read_text()
    except OSError:
        mountinfo = ""
    for line in mountinfo.splitlines():
        point = line.split()[4]
        if point.startswith(str(root) + "/"):
            found.append(Resource(point[len(str(root)) + 1 :].split("/")[0], "mount", point))
    if root.is_dir() and not found:
        found.append(Resource("-", "dir", str(root)))
    return found


def lab_is_live(lab_id: str, root: Path = ROOT) -> bool:
    """Held by a running owner (a run, or `lab up` still making it), or made by hand and
    complete (only `lab down` ends those). A by-hand lab whose maker died before it was
    complete is stale."""
    paths = LabPaths.of(lab_id, root)
    if owner_alive(paths):
        return True
    state = load_lab(paths)
    return state is not None and state.manual and state.complete


def teardown(lab_id: str, root: Path = ROOT) -> None:
    """Remove everything named after `lab_id`, in an order that frees each thing's users
    first: processes, cgroups, network objects, then the folder."""
    group = cgroups.group_path(lab_id)
    cgroups.kill_all(group)
    cgroups.remove_tree(group)
    network.remove_lab_objects(lab_id)
    shutil.rmtree(root / lab_id, ignore_errors=True)


def tidy_root(root: Path = ROOT) -> None:
    """Drop the empty shared folders once no lab is left."""
    cgroups.remove_top_if_empty()
    with contextlib.suppress(OSError):
        root.rmdir()


def clean_stale(root: Path = ROOT) -> list[str]:
    """Tear down every lab whose owner died (and stray objects of labs with no folder)."""
    removed: list[str] = []
    with global_lock():
        labs = {r.lab for r in census(root) if r.lab != "-"}
        for lab in sorted(labs):
            if (root / lab).is_dir() and lab_is_live(lab, root):
                continue
            removed.extend(str(r) for r in census(root) if r.lab == lab)
            teardown(lab, root)
        tidy_root(root)
    return removed
