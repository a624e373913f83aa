"""The `machine` provider: the real docker-machine binary (VirtualBox, generic SSH, a cloud
driver) creates the nodes; the lab only drives it. Each lab gets its own
MACHINE_STORAGE_PATH, so a reader's own machines are never touched.

    BOOK_LAB_MACHINE_DRIVER   driver for `create -d` (default: virtualbox)
    BOOK_LAB_MACHINE_ARGS     extra `create` flags, shell-quoted (e.g. generic SSH settings)
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from runner.lab.base import Capability, LabError, NodeProblem
from runner.lab.processes import pid_alive
from runner.records import LabInfo

STORAGE_PREFIX = "book-lab-machine-"


class MachineLab:
    def __init__(self, storage: Path, driver: str) -> None:
        self.storage = storage
        self.driver = driver
        self._downed = False

    def _dm(self, *args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "MACHINE_STORAGE_PATH": str(self.storage)}
        proc = subprocess.run(["docker-machine", *args], env=env, capture_output=True, text=True)
        if check and proc.returncode != 0:
            raise LabError(f"docker-machine {' '.join(args)} failed: {proc.stderr.strip()}")
        return proc

    def nodes(self) -> list[str]:
        return self._dm("ls", "-q").stdout.split()

    def session_env(self) -> dict[str, str]:
        return {"MACHINE_STORAGE_PATH": str(self.storage)}

    def capabilities(self) -> dict[str, Capability]:
        nodes = self.nodes()
        if not nodes:
            return {
                name: Capability(name, True, "not probed: the lab has no machine yet")
                for name in ("ipvs", "overlay")
            }
        probes = {
            "ipvs": "test -e /proc/net/ip_vs || modprobe -n ip_vs",
            "overlay": "test -e /sys/module/vxlan || modprobe -n vxlan",
        }
        caps = {}
        for name, probe in probes.items():
            ok = self._dm("ssh", nodes[0], f"sudo sh -c '{probe}'").returncode == 0
            caps[name] = Capability(
                name, ok, f"probed on {nodes[0]}: `{probe}` {'succeeded' if ok else 'failed'}"
            )
        return caps

    def info(self) -> LabInfo:
        nodes = self.nodes()
        version = self._dm("version", nodes[0]).stdout.strip().lstrip("v") if nodes else None
        return LabInfo(
            provider="machine",
            nodes=tuple(nodes),
            engine_version=version or None,
            kernel="",
            capabilities={k: c.present for k, c in self.capabilities().items()},
            stands_in_for={},
        )

    def tag_images(self, names: Mapping[str, str]) -> None:
        """Tags on the machines that exist now (nodes a chapter creates later are not tagged:
        docker-machine has no hook for that)."""
        for node in self.nodes():
            for target, source in names.items():
                self._dm("ssh", node, f"docker tag {source} {target}", check=True)

    def problems(self) -> list[NodeProblem]:
        out = []
        for node in self.nodes():
            state = self._dm("status", node).stdout.strip()
            if state != "Running":
                tail = self._dm("ssh", node, "tail -n 20 /var/log/docker.log").stdout
                out.append(NodeProblem(node, f"machine {node} is {state or 'unknown'}", tail))
        return out

    def down(self) -> None:
        if self._downed:
            return
        self._downed = True
        nodes = self.nodes()
        if nodes:
            self._dm("rm", "-f", "-y", *nodes)
        shutil.rmtree(self.storage, ignore_errors=True)


class MachineProvider:
    name = "machine"

    def __init__(self) -> None:
        self.driver = os.environ.get("BOOK_LAB_MACHINE_DRIVER", "virtualbox")
        self.args = shlex.split(os.environ.get("BOOK_LAB_MACHINE_ARGS", ""))

    def up(self, nodes: tuple[str, ...]) -> MachineLab:
        if shutil.which("docker-machine") is None:
            raise LabError(
                "docker-machine is not installed: the `machine` lab needs it (and "
                "a driver such as VirtualBox); or use the default `netns` lab"
            )
        self.clean_stale()
        storage = Path(tempfile.mkdtemp(prefix=STORAGE_PREFIX))
        (storage / "owner.pid").write_text(str(os.getpid()))
        lab = MachineLab(storage, self.driver)
        try:
            for node in nodes:  # one at a time: VirtualBox dislikes parallel creation
                lab._dm("create", "-d", self.driver, *self.args, node, check=True)
        except BaseException:
            lab.down()
            raise
        return lab

    def clean_stale(self) -> list[str]:
        removed: list[str] = []
        for storage in Path(tempfile.gettempdir()).glob(STORAGE_PREFIX + "*"):
            try:
                pid = int((storage / "owner.pid").read_text())
            except (OSError, ValueError):
                pid = 0
            if pid and pid_alive(pid):
                continue
            lab = MachineLab(storage, "")
            removed.extend(f"machine {n} ({storage})" for n in lab.nodes())
            lab.down()
        return removed
