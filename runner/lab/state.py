"""Where a netns lab keeps its state, and how processes agree on it.

Every lab has a folder `/run/book-lab/<id>/` (the source of truth for the runner, the
`docker-machine` stand-in and `python -m runner lab`), holding `lab.json`, one `node.json` per
node, the TLS files and each node's engine data. Kernel objects are named after the id
(`bkl<id>...`), so a census can find them even when the folder is gone.

Liveness of the owner is an flock on `owner.lock` held for the lab's life: the kernel drops it
when the owner dies, even by SIGKILL, so the next start knows the lab is stale.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import socket
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from runner.lab.processes import pid_alive
from runner.store import atomic_write

ROOT = Path("/run/book-lab")
# Kernel object names: bridge bkl<id>, veth bkl<id>v<n>, netns bkl<id>-<n>, tap bkl<id>t<n>,
# QEMU process bkl<id>-<n>.
PREFIX = "bkl"
CGROUP_TOP = "booklab"  # cgroup folder, in every hierarchy


def new_lab_id() -> str:
    return secrets.token_hex(3)


@dataclass(frozen=True)
class LabState:
    id: str
    subnet: str  # e.g. "192.168.99.0/24"
    owner_pid: int
    manual: bool  # made by `python -m runner lab up`: nobody holds it, only `lab down` ends it
    created: float
    engine_version: str | None = None
    # The Docker Engine generation ("26.1") and the cached bundle its nodes run (engines.py):
    # the docker-machine stand-in starts its nodes' engines from there too.
    engine: str | None = None
    engine_dir: str | None = None
    # Set once every node is up: a lab whose owner died before that is half-made, hence stale,
    # even when made by hand.
    complete: bool = False
    provider: str = "netns"  # "netns" (engines in namespaces) or "vm" (QEMU machines)
    vm_image: str | None = None  # vm: the cached image folder the nodes boot
    accel: str | None = None  # vm: "kvm" or "tcg"

    @property
    def bridge(self) -> str:
        return f"{PREFIX}{self.id}"

    @property
    def gateway(self) -> str:
        return self.subnet.rsplit(".", 1)[0] + ".1"

    @property
    def prefixlen(self) -> int:
        return int(self.subnet.split("/")[1])


@dataclass(frozen=True)
class NodeState:
    name: str
    index: int
    ip: str
    driver: str  # the driver the author asked for (`-d virtualbox`); shown as "stands in for"
    desired: str = "running"  # "running" or "stopped": an engine gone while "running" is a problem
    labels: tuple[str, ...] = field(default_factory=tuple)

    def netns(self, lab_id: str) -> str:
        return f"{PREFIX}{lab_id}-{self.index}"

    def veth(self, lab_id: str) -> str:
        return f"{PREFIX}{lab_id}v{self.index}"


@dataclass(frozen=True)
class LabPaths:
    dir: Path

    @classmethod
    def of(cls, lab_id: str, root: Path = ROOT) -> LabPaths:
        return cls(root / lab_id)

    @property
    def lab_id(self) -> str:
        return self.dir.name

    @property
    def lab_json(self) -> Path:
        return self.dir / "lab.json"

    @property
    def lock(self) -> Path:
        return self.dir / "lock"

    @property
    def owner_lock(self) -> Path:
        return self.dir / "owner.lock"

    @property
    def bin(self) -> Path:
        return self.dir / "bin"

    @property
    def storage(self) -> Path:
        """docker-machine's MACHINE_STORAGE_PATH: certs/ and machines/<name>/."""
        return self.dir / "machine"

    @property
    def certs(self) -> Path:
        return self.storage / "certs"

    def machine_dir(self, name: str) -> Path:
        return self.storage / "machines" / name

    @property
    def image_names(self) -> Path:
        """{name the chapter uses: lab image}, tagged on every node (Lab.tag_images)."""
        return self.dir / "image-names.json"

    def node_dir(self, name: str) -> Path:
        return self.dir / "nodes" / name


def _write_state(path: Path, text: str) -> None:
    atomic_write(path, text, make_parents=False, durable=False)


def save_lab(paths: LabPaths, state: LabState) -> None:
    _write_state(paths.lab_json, json.dumps(asdict(state), indent=1) + "\n")


def load_lab(paths: LabPaths) -> LabState | None:
    try:
        data: dict[str, Any] = json.loads(paths.lab_json.read_text(encoding="utf-8"))
        # Keys a newer runner added are ignored: labs of several runner versions coexist on
        # one machine, and one that cannot read another's lab would take it for stale.
        known = {f.name for f in fields(LabState)}
        return LabState(**{k: v for k, v in data.items() if k in known})
    except (OSError, ValueError, TypeError):
        return None


def save_node(paths: LabPaths, node: NodeState) -> None:
    _write_state(paths.machine_dir(node.name) / "node.json", json.dumps(asdict(node)) + "\n")


def load_nodes(paths: LabPaths) -> list[NodeState]:
    """The lab's nodes, sorted by name the way docker-machine sorts (natural, case-blind)."""
    nodes = []
    for f in (paths.storage / "machines").glob("*/node.json"):
        try:
            data = json.loads(f.read_text(encoding="utf-8"))
            data["labels"] = tuple(data.get("labels", ()))
            nodes.append(NodeState(**data))
        except (OSError, ValueError, TypeError):
            continue
    return sorted(nodes, key=lambda n: natural_key(n.name))


def natural_key(name: str) -> list[Any]:
    out: list[Any] = []
    digits = ""
    for ch in name.lower() + "\0":
        if ch.isdigit():
            digits += ch
            continue
        if digits:
            out.append((0, int(digits)))
            digits = ""
        if ch != "\0":
            out.append((1, ch))
    return out


@contextlib.contextmanager
def flocked(path: Path, timeout: float = 30.0) -> Iterator[None]:
    """An exclusive flock on `path` (its folder must exist), waited for up to `timeout` s."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{path} is locked by another process") from None
                time.sleep(0.02)
        yield
    finally:
        os.close(fd)


def hold_owner_lock(paths: LabPaths) -> int:
    """Take the owner lock for this process's life; returns the fd (close it to release)."""
    fd = os.open(paths.owner_lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


def owner_alive(paths: LabPaths) -> bool:
    """True while some process holds the lab's owner lock."""
    try:
        fd = os.open(paths.owner_lock, os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    except PermissionError:
        # Another user's lab (the lock is theirs): only its maker's pid can tell. Never call
        # a lab stale on a guess.
        state = load_lab(paths)
        if state is None:
            return True
        return pid_alive(state.owner_pid)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


@contextlib.contextmanager
def global_lock(timeout: float = 60.0) -> Iterator[None]:
    """Serialises lab creation, subnet choice and stale cleaning between processes.

    An abstract unix socket name, not a file: it leaves nothing on disk and the kernel frees it
    when the holder dies, whatever the way."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                sock.bind("\0book-lab-global-lock")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError("another process holds the book lab's global lock") from None
                time.sleep(0.02)
        yield
    finally:
        sock.close()


def lab_ids(root: Path = ROOT) -> list[str]:
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
