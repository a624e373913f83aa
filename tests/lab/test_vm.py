"""The `vm` provider on real QEMU virtual machines (marked `vm`: slow under TCG).

One 3-node lab is shared by the tests that only use it in ways a reader would (a swarm, its
routing mesh, ssh, a worker stopped and started); the provider-selection test runs a chapter
on its own lab, and the fault tests make labs that must fail and leave nothing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from runner.lab import census, choose_provider, offers
from runner.lab.base import LabError
from runner.lab.vm import image, machines
from runner.lab.vm.provider import VmLab, VmProvider
from runner.records import LabInfo
from runner.store import ResultStore
from tests.lab.conftest import VM_MARKS, Run, lab_resources, shell, wait_for

pytestmark = VM_MARKS
ROOT = Path(__file__).resolve().parents[2]
BOUND = 900.0  # bounds a hang only: under TCG on a loaded machine a swarm converges slowly


@pytest.fixture(scope="module")
def vm3() -> Iterator[VmLab]:
    lab = VmProvider().up(("node-01", "node-02", "node-03"))
    assert isinstance(lab, VmLab)
    try:
        yield lab
    finally:
        lab.down()
        assert lab_resources(lab.state.id) == []


@pytest.fixture(scope="module")
def swarm(vm3: VmLab) -> Run:
    """node-01 manager, node-02 and node-03 workers, joined with the commands of the book."""
    run = shell(vm3)
    run(
        "eval $(docker-machine env node-01) && "
        "docker swarm init --advertise-addr $(docker-machine ip node-01)",
        timeout=BOUND,
    )
    token = run(
        "eval $(docker-machine env node-01) && docker swarm join-token -q worker"
    ).stdout.strip()
    for node in ("node-02", "node-03"):
        run(
            f"eval $(docker-machine env {node}) && "
            f"docker swarm join --token {token} $(docker-machine ip node-01):2377",
            timeout=BOUND,
        )
    return run


def labs_now() -> set[str]:
    """Labs with a VM or a tap on this machine (other helpers' netns labs come and go)."""
    return {r.lab for r in census.census() if r.kind in ("vm", "tap")}


def ready_nodes(run: Run) -> set[str]:
    out = run(
        "eval $(docker-machine env node-01) && docker node ls --format '{{.Hostname}} {{.Status}}'",
        check=False,
    ).stdout
    return {line.split()[0] for line in out.splitlines() if line.endswith(" Ready")}


def test_docker_machine_ls_shows_qemu_vms_and_the_guest_kernel(vm3: VmLab) -> None:
    run = shell(vm3)
    ls = run("docker-machine ls").stdout.splitlines()
    assert ls[0].split()[:4] == ["NAME", "ACTIVE", "DRIVER", "STATE"]
    assert [line.split()[2:4] for line in ls[1:]] == [["qemu", "Running"]] * 3
    kernel = run("docker-machine ssh node-02 uname -r").stdout.strip()
    assert kernel == vm3.info().kernel
    assert kernel.endswith("-cloud-amd64") and kernel != os.uname().release
    env = run("docker-machine env node-02").stdout
    assert f'DOCKER_HOST="tcp://{run("docker-machine ip node-02").stdout.strip()}:2376"' in env
    info = run(
        "eval $(docker-machine env node-02) && docker info --format '{{.KernelVersion}}'"
    ).stdout.strip()
    assert info == kernel
    images = run("eval $(docker-machine env node-03) && docker images --format '{{.Repository}}'")
    assert {"busybox", "web"} <= set(images.stdout.split())
    assert vm3.capabilities()["ipvs"].present
    assert "inside VM" in vm3.capabilities()["ipvs"].reason
    assert vm3.info().provider == "vm"


def test_ssh_is_a_real_shell_with_the_docker_prompt_and_no_banner(vm3: VmLab) -> None:
    env = {**os.environ, **vm3.session_env(), "TERM": "dumb"}
    child = pexpect.spawn(
        "docker-machine", ["ssh", "node-01"], env=env, encoding="utf-8", timeout=BOUND
    )
    try:
        child.expect_exact("docker@node-01:~$ ")
        assert child.before.strip() == ""  # no banner, no host-key warning
        child.sendline("uname -r; cat /proc/net/ip_vs | head -1")
        child.expect_exact("docker@node-01:~$ ")
        assert vm3.info().kernel in child.before
        assert "IP Virtual Server" in child.before
        child.sendline("exit")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)


def test_routing_mesh_answers_on_every_node_even_without_a_replica(swarm: Run) -> None:
    run = swarm
    wait_for(lambda: ready_nodes(run) == {"node-01", "node-02", "node-03"}, "all Ready", BOUND)
    run(
        "eval $(docker-machine env node-01) && docker service create --detach --name mesh "
        "--replicas 1 --constraint node.hostname==node-02 --publish published=8080,target=80 web",
        timeout=BOUND,
    )
    answers: dict[str, str] = {}

    def answered() -> bool:
        for node in ("node-01", "node-02", "node-03"):
            got = run(
                f"curl -s -m 5 http://$(docker-machine ip {node}):8080/", check=False
            ).stdout.strip()
            if not re.fullmatch(r"[0-9a-f]{12}", got):
                return False
            answers[node] = got
        return True

    wait_for(answered, "answering on port 8080 of every node", BOUND)
    # One replica, on node-02: node-01 and node-03 forward to it through IPVS.
    assert len(set(answers.values())) == 1
    run("eval $(docker-machine env node-01) && docker service rm mesh")


def test_a_stopped_worker_keeps_its_disk_and_rejoins_ready(swarm: Run) -> None:
    run = swarm
    run("docker-machine ssh node-03 'echo kept > /home/docker/state'")
    stop = run("docker-machine stop node-03", timeout=BOUND)
    assert 'Machine "node-03" was stopped.' in stop.stdout
    assert run("docker-machine status node-03").stdout.strip() == "Stopped"
    wait_for(lambda: "node-03" not in ready_nodes(run), "node-03 down in the swarm", BOUND)
    run("docker-machine start node-03", timeout=BOUND)
    wait_for(lambda: "node-03" in ready_nodes(run), "node-03 Ready again", BOUND)
    assert run("docker-machine ssh node-03 cat /home/docker/state").stdout == "kept\n"
    images = run("eval $(docker-machine env node-03) && docker images --format '{{.Repository}}'")
    assert "web" in images.stdout.split()  # loaded at first boot, still on its disk


def test_kill_is_a_hard_power_off_and_start_boots_again(vm3: VmLab, swarm: Run) -> None:
    run = swarm
    node = next(n for n in vm3.nodes() if n.name == "node-02")
    run("docker-machine kill node-02")
    assert not machines.running(vm3.paths, node)
    assert run("docker-machine ls --filter name=node-02 --format '{{.State}}'").stdout == (
        "Stopped\n"
    )
    run("docker-machine start node-02", timeout=BOUND)
    wait_for(lambda: "node-02" in ready_nodes(run), "node-02 Ready again", BOUND)


def test_provider_selection_by_requires(tmp_path: Path) -> None:
    """A chapter whose block requires ipvs runs on the vm lab when the host kernel has none."""
    assert choose_provider(set()) == "netns"
    if offers("netns").get("ipvs"):
        pytest.skip("this host's kernel has IPVS: the netns lab is chosen (nothing to show)")
    assert choose_provider({"ipvs"}) == "vm"
    chapter = tmp_path / "mesh.md"
    chapter.write_text(
        textwrap.dedent("""\
        ---
        verify:
          lab: {nodes: [node-01]}
        ---
        # Mesh

        ```console requires="ipvs"
        $ docker-machine ssh node-01 head -1 /proc/net/ip_vs
        IP Virtual Server version 1.2.1 (size=4096)
        ```
        """)
    )
    results = tmp_path / "results"
    proc = subprocess.run(
        [sys.executable, "-m", "runner", "verify", str(chapter), "--results", str(results)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "lab (vm, chosen for ipvs)" in proc.stdout
    store = ResultStore.for_chapter(chapter, results)
    record = store.load(store.key(chapter))
    assert record.passing is not None
    lab: LabInfo = record.passing.lab
    assert lab.provider == "vm" and lab.capabilities["ipvs"]


def test_a_missing_kernel_package_fails_before_anything_is_made(tmp_path: Path) -> None:
    before = labs_now()
    provider = VmProvider(cache=tmp_path / "cache", kernel_meta="linux-image-no-such-flavour")
    with pytest.raises(LabError, match=r"no kernel package.*apt-get update"):
        provider.up(("node-01",))
    assert labs_now() <= before
    assert not list((tmp_path / "cache").glob("image-*"))


def test_a_full_cache_disk_fails_with_what_to_do(tmp_path: Path) -> None:
    before = labs_now()
    small = tmp_path / "small"
    small.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(small)], check=True)
    try:
        with pytest.raises(LabError, match=r"full|free space"):
            VmProvider(cache=small).up(("node-01",))
        assert not list(small.glob("image-*")) and not list(small.glob(".build-*"))
        assert labs_now() <= before
    finally:
        subprocess.run(["umount", str(small)], check=True)


def test_an_engine_that_dies_at_boot_fails_the_lab_and_leaves_nothing(tmp_path: Path) -> None:
    engine = image.engine_of()
    folder = tmp_path / "engine"
    folder.mkdir()
    for name, path in engine.binaries:
        os.symlink(path, folder / name)
    (folder / "dockerd").unlink()
    (folder / "dockerd").write_text("#!/bin/sh\necho 'broken engine for a test' >&2\nexit 3\n")
    (folder / "dockerd").chmod(0o755)
    cache = tmp_path / "cache"
    shutil.copytree(image.VM_CACHE / "debs", cache / "debs")  # offline, and no second download
    before = labs_now()
    provider = VmProvider(bundle=image.EngineBundle.from_dir(folder, "broken"), cache=cache)
    with pytest.raises(LabError, match=r"engine exited[\s\S]*status 3"):
        provider.up(("node-01",))
    assert labs_now() <= before  # no VM, tap, disk or rule of that lab is left
    # Nor the KVM probe's guest (this cache is new, so the probe ran): a live process whose
    # command line names this cache would be one left behind.
    left = subprocess.run(["pgrep", "-f", str(cache)], capture_output=True, text=True).stdout
    alive = [pid for pid in left.split() if not _zombie(int(pid))]
    assert alive == [], f"processes of this test's cache left: {alive}"


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True  # gone meanwhile


HOLDER = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {root!r})
    from runner.lab.vm.provider import VmProvider
    VmProvider().up(("k1",))
    time.sleep(600)
""")


def test_a_sigkilled_runner_leaves_vms_that_the_next_start_removes() -> None:
    """Killed while its VM boots: QEMU, tap, disk and rule stay until the next start."""

    def with_vm() -> set[str]:
        return {r.lab for r in census.census() if r.kind == "vm"}

    before = with_vm()
    proc = subprocess.Popen([sys.executable, "-c", HOLDER.format(root=str(ROOT))])
    try:
        wait_for(lambda: bool(with_vm() - before), "a VM of the holder running", BOUND)
    finally:
        proc.kill()
        proc.wait()
    (lab_id,) = with_vm() - before
    kinds = {r.kind for r in census.census() if r.lab == lab_id}
    assert {"vm", "tap", "dir"} <= kinds
    VmProvider().clean_stale()  # what the next run, test or `lab up` does first
    assert lab_resources(lab_id) == []
