"""The `vm` provider: each node is a QEMU virtual machine (Debian's cloud kernel, busybox init,
the book's engine), on a host-only bridge like VirtualBox's, behind the same `docker-machine`
command as the netns lab. Made for what the host kernel cannot give the netns lab (IPVS for
Swarm's routing mesh) and for what only a machine shows (its own kernel, a real power-off).

It shares the netns lab's state, locks, census and teardown (same folder layout, names, cgroup
tree): QEMU runs in the node's cgroup, the taps are named after the lab, the disks live in the
lab folder, so whatever removes a netns lab (its owner's `down()`, or the next start after a
SIGKILL) removes a VM lab too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from dataclasses import replace
from pathlib import Path

from runner.lab import engines
from runner.lab.base import Capability, NodeProblem
from runner.lab.errors import LabError, LabFault
from runner.lab.netns import NetnsLab, NetnsProvider
from runner.lab.netns import preflight as netns_preflight
from runner.lab.state import ROOT, LabPaths, LabState, NodeState, load_lab, load_nodes
from runner.lab.vm import image, machines, qemu
from runner.records import LabInfo

TOOLS = {
    "qemu-system-x86_64": "qemu-system-x86",
    "qemu-img": "qemu-utils",
    "ssh": "openssh-client",
    "scp": "openssh-client",
    "ssh-keygen": "openssh-client",
    "mkfs.ext4": "e2fsprogs",
    "dpkg-deb": "dpkg",
    "apt-get": "apt",
}
INSTALL = "apt-get install qemu-system-x86 qemu-utils openssh-client e2fsprogs"
GUEST_PROBE = (
    "modprobe ip_vs 2>/dev/null; modprobe vxlan 2>/dev/null; "
    "test -e /proc/net/ip_vs && echo ipvs; test -e /sys/module/vxlan && echo overlay; "
    "grep -q '\toverlay$' /proc/filesystems && echo overlayfs; uname -r"
)
CAPABILITIES = ("ipvs", "overlay", "overlayfs")
IMAGE_MODULES = {"ipvs": "ip_vs", "overlay": "vxlan", "overlayfs": "overlay"}


def preflight() -> None:
    """What the host needs besides the netns lab's tools; raises LabError, creates nothing."""
    netns_preflight()
    missing = sorted({pkg for tool, pkg in TOOLS.items() if shutil.which(tool) is None})
    if missing:
        raise LabError(
            f"the vm lab needs Debian packages: {' '.join(missing)}; run as root: "
            f"apt-get update && {INSTALL}"
        )
    if not Path("/dev/net/tun").exists():
        raise LabError("/dev/net/tun is missing: the vm lab needs TUN/TAP (modprobe tun)")


def available() -> bool:
    """Whether this machine could run VMs at all (for choosing a provider, not a promise)."""
    return os.geteuid() == 0 and all(shutil.which(t) for t in TOOLS)


class VmLab(NetnsLab):
    def _probe_capabilities(self) -> dict[str, Capability]:
        """Before any node runs: what the image's kernel has as modules. Replaced by a probe
        inside the first guest once it runs (`probe_guest`)."""
        have = machines.image_of(self.state).modules
        return {
            name: Capability(
                name,
                module in have,
                f"{module} is a module of the VM kernel"
                if module in have
                else f"the VM kernel has no {module} module",
            )
            for name, module in IMAGE_MODULES.items()
        }

    def probe_guest(self) -> None:
        found = load_nodes(self.paths)
        if not found:
            return
        node = found[0]
        proc = subprocess.run(
            [*machines.ssh_argv(self.paths, node, tty=False), GUEST_PROBE],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        seen = set(proc.stdout.split())
        kernel = proc.stdout.split()[-1] if proc.stdout.split() else "?"
        self._caps = {
            name: Capability(
                name,
                name in seen,
                f"probed inside VM {node.name} (kernel {kernel})"
                if name in seen
                else f"absent inside VM {node.name} (kernel {kernel}): {proc.stderr.strip()}",
            )
            for name in CAPABILITIES
        }

    def _tag_node(self, node: NodeState, names: dict[str, str]) -> None:
        machines.tag_images(self.paths, node, names)

    def info(self) -> LabInfo:
        if self._final_info is not None:
            return self._final_info
        found = load_nodes(self.paths)
        img = machines.image_of(self.state)
        return LabInfo(
            provider="vm",
            nodes=tuple(n.name for n in found),
            engine_version=self.state.engine_version,
            kernel=img.kernel_release,
            capabilities={k: c.present for k, c in self._caps.items()},
            stands_in_for={n.name: n.driver for n in found if n.driver != "qemu"},
        )

    def problems(self) -> list[NodeProblem]:
        out = []
        for node in load_nodes(self.paths):
            if node.desired != "running":
                continue
            if not machines.running(self.paths, node):
                message = f"VM {node.name} is gone (QEMU ended)"
            elif not machines.ping(self.paths, node):
                message = f"engine of {node.name} does not answer on {node.ip}:2376"
            else:
                continue
            out.append(NodeProblem(node.name, message, machines.log_tail(self.paths, node)))
        return out


class VmProvider(NetnsProvider):
    name = "vm"
    lab_class = VmLab

    def __init__(
        self,
        root: Path = ROOT,
        manual: bool = False,
        engine: str = engines.DEFAULT,
        cache: Path = image.VM_CACHE,
        kernel_meta: str = image.KERNEL_META,
        bundle: image.EngineBundle | None = None,
    ) -> None:
        super().__init__(root, manual, engine)  # the generation, from the lab's engine cache
        self.bundle = bundle  # given: these binaries instead of the generation's (tests)
        self.cache = cache
        self.kernel_meta = kernel_meta
        self._image: image.VmImage | None = None
        self._accel: qemu.Accel | None = None

    def _preflight(self) -> None:
        preflight()
        try:
            if self.bundle is not None:
                self._image = image.ensure(self.bundle, self.cache, self.kernel_meta)
            else:
                self._image = image.for_engine(self.engine, self.cache, self.kernel_meta)
        except LabFault as exc:
            raise LabError(f"the VM image cannot be made (nothing was left): {exc}") from exc
        self._accel = qemu.probe_accel(self._image, self.cache)

    def _configure(self, state: LabState) -> LabState:
        assert self._image is not None and self._accel is not None
        return replace(
            state,
            provider="vm",
            vm_image=str(self._image.dir),
            accel=self._accel.name,
            engine_version=self._image.engine_version,
        )

    @property
    def accel(self) -> qemu.Accel | None:
        """What the KVM probe found (after `up`), for the lab's report."""
        return self._accel

    driver = "qemu"

    def _prepare(self, paths: LabPaths) -> None:
        machines.make_ssh_key(paths)

    def _provision(self, paths: LabPaths, state: LabState, node: NodeState) -> None:
        machines.provision(paths, state, node)

    def _finish(
        self, paths: LabPaths, node: NodeState, archive: Path, abort: threading.Event
    ) -> None:
        machines.finish(paths, node, archive, abort)

    def _engine_version(self, lab: NetnsLab, made: list[NodeState]) -> str | None:
        if isinstance(lab, VmLab):
            lab.probe_guest()
        version = machines.engine_version(lab.paths, made[0]) if made else None
        return version or lab.state.engine_version


def attach(lab_id: str, root: Path = ROOT) -> VmLab:
    paths = LabPaths.of(lab_id, root)
    state = load_lab(paths)
    if state is None:
        raise LabError(f"no lab {lab_id} under {root}")
    return VmLab(paths, state, None)


__all__ = ["VmLab", "VmProvider", "attach", "available"]
