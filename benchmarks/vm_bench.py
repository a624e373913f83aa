"""The vm lab: 4 VMs with `docker info` answering on all, against one VM's boot measured in
the same run (goal: at most 2.5 times, the nodes booting in parallel); teardown of 4 VMs
(goal: at most 5 s); memory per node (QEMU's resident set with a running engine).

One round each: a VM boot under TCG costs tens of seconds. The machine's load average is
printed beside the figures, since other work on a shared machine slows TCG in proportion.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from runner.lab import census
from runner.lab.vm import image, machines
from runner.lab.vm.provider import VmLab, VmProvider, preflight

NODES = 4


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def _docker_info_everywhere(lab: VmLab) -> None:
    env = {**os.environ, **lab.session_env()}
    for node in lab.nodes():
        script = f"eval $(docker-machine env {node.name}) && docker info --format '{{{{.ID}}}}'"
        subprocess.run(["bash", "-c", script], env=env, check=True, capture_output=True)


def _rss_mb(lab: VmLab) -> list[float]:
    sizes = []
    for node in lab.nodes():
        pid = machines.qemu.pid(lab.paths.node_dir(node.name) / "qemu.pid")
        if pid is None:
            continue
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                sizes.append(int(line.split()[1]) / 1024)
    return sizes


def _up(provider: VmProvider, size: int) -> tuple[VmLab, float]:
    names = tuple(f"node-{i:02d}" for i in range(1, size + 1))
    t0 = time.perf_counter()
    lab = provider.up(names)
    assert isinstance(lab, VmLab)
    _docker_info_everywhere(lab)
    return lab, time.perf_counter() - t0


def run() -> None:
    preflight()
    print(f"load average at start: {_load()} on {os.cpu_count()} cores")
    t0 = time.perf_counter()
    img = image.ensure()
    print(f"image: {img.dir.name} ready in {time.perf_counter() - t0:.1f} s (0 when cached)")
    provider = VmProvider()
    warm = provider.up(())  # the KVM probe, remembered for this boot of the machine
    warm.down()
    accel = provider.accel
    print(f"accelerator: {accel.name if accel else '?'} ({accel.why if accel else ''})")

    one, base = _up(provider, 1)
    one.down()
    print(f"baseline: 1 VM up, docker info answering: {base:.1f} s")

    lab, up4 = _up(provider, NODES)
    rss = _rss_mb(lab)
    t1 = time.perf_counter()
    lab.down()
    down4 = time.perf_counter() - t1
    left = [r for r in census.census() if r.lab == lab.state.id]
    ratio = up4 / base
    print(f"{NODES} VMs up, docker info answering on all: {up4:.1f} s = {ratio:.2f}x baseline")
    print(f"teardown of {NODES} VMs: {down4:.2f} s; left behind: {len(left)}")
    print(
        f"memory per node (QEMU RSS, engine running): "
        f"{', '.join(f'{m:.0f}' for m in rss)} MB; guest RAM {machines.qemu.MEMORY_MB} MB each"
    )
    print(
        f"goal {NODES} VMs <= 2.5x one: {'met' if ratio <= 2.5 else 'MISSED'} ({ratio:.2f}x); "
        f"teardown <= 5 s: {'met' if down4 <= 5 else 'MISSED'} ({down4:.2f} s)"
    )
    print(f"load average at end: {_load()}")
