"""Docker Engine generations on the netns lab: each one really runs a 2-node swarm, from the
lab's cache and never from the host's docker.io, with the matching client in sessions."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from runner.lab import cgroups, engines, nodes
from runner.lab.netns import NetnsProvider
from runner.lab.state import load_nodes
from runner.records import generation_of
from tests.lab.conftest import lab_resources, shell, wait_for

GENERATIONS = ("20.10", "26.1", "28.5")


def _exe(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return None


@pytest.mark.parametrize("generation", GENERATIONS)
def test_two_node_swarm_on_each_engine(generation: str) -> None:
    bundle = engines.bundle(generation)
    lab = NetnsProvider(engine=generation).up(("node-01", "node-02"))
    try:
        run = shell(lab)
        # The session's client is the engine's own, and so is `docker` inside a node.
        client = run("command -v docker; docker --version").stdout.splitlines()
        assert client[0] == str(bundle.client / "docker")
        assert client[1].startswith(f"Docker version {generation}.")
        inside = run("docker-machine ssh node-01 docker --version").stdout
        assert inside.startswith(f"Docker version {generation}.")
        run(
            "eval $(docker-machine env node-01) && "
            "docker swarm init --advertise-addr $(docker-machine ip node-01)"
        )
        joined = run(
            "eval $(docker-machine env node-01) && TOKEN=$(docker swarm join-token -q worker) && "
            "eval $(docker-machine env node-02) && "
            "docker swarm join --token $TOKEN $(docker-machine ip node-01):2377"
        ).stdout
        assert "This node joined a swarm as a worker." in joined
        listed = run(
            "eval $(docker-machine env node-01) && "
            "docker node ls --format '{{.Hostname}} {{.Status}} {{.EngineVersion}}'"
        ).stdout.split("\n")
        rows = sorted(line.split() for line in listed if line)
        assert [r[:2] for r in rows] == [["node-01", "Ready"], ["node-02", "Ready"]]
        assert all(generation_of(r[2]) == generation for r in rows)
        run(
            "eval $(docker-machine env node-01) && "
            "docker service create --detach --name web --replicas 2 web >/dev/null"
        )

        def running() -> bool:
            out = run(
                "eval $(docker-machine env node-01) && docker service ps web "
                "--filter desired-state=running --format '{{.CurrentState}}'"
            ).stdout.split("\n")
            states = [line for line in out if line]
            return len(states) == 2 and all(s.startswith("Running") for s in states)

        wait_for(running, "2 tasks of web running")
        # Every engine process of the lab (dockerd, containerd, shims) runs from the cache.
        exes = set()
        for node in load_nodes(lab.paths):
            for pid in cgroups.pids(nodes.engine_group(lab.state.id, node)):
                exe = _exe(pid)
                if exe is not None and Path(exe).name != "dash" and Path(exe).name != "sh":
                    exes.add(exe)
        names = {Path(e).name for e in exes}
        assert {"dockerd", "containerd", "containerd-shim-runc-v2"} <= names, exes
        for exe in exes:
            if Path(exe).name in ("dockerd", "containerd", "containerd-shim-runc-v2"):
                assert exe.startswith(str(bundle.root) + "/"), exe
        info = lab.info()
        assert info.engine == generation
        assert generation_of(info.engine_version) == generation
        assert info.components["suite"] == bundle.suite
    finally:
        lab.down()
    assert lab_resources(lab.state.id) == []


def test_relinked_binaries_use_the_bundles_own_loader() -> None:
    """Where a suite's runc needs a newer glibc than the host's, the bundle carries that
    suite's libc and the relinked binary names it; nothing points at a temporary folder."""
    for generation in GENERATIONS:
        bundle = engines.bundle(generation)
        for name in bundle.relinked:
            target = (bundle.bin / name).resolve()
            interp = subprocess.run(
                ["patchelf", "--print-interpreter", str(target)], capture_output=True, text=True
            ).stdout.strip()
            assert interp.startswith(str(bundle.dir / "libroot") + "/"), interp
            assert ".fetch-" not in bundle.relinked[name]
            ldd = subprocess.run(["ldd", str(target)], capture_output=True, text=True).stdout
            assert "not found" not in ldd


def test_lab_up_by_hand_takes_an_engine(capsys: pytest.CaptureFixture[str]) -> None:
    from runner.lab import cli

    assert cli.main(["up", "--nodes", "1", "--engine", "26.1"]) == 0
    printed = capsys.readouterr().out
    lab_id = printed.split()[2]
    try:
        assert "Docker Engine 26.1." in printed
        assert f"{engines.bundle('26.1').client}:" in printed  # the client, first on PATH
        assert cli.main(["status"]) == 0
        assert "Docker 26.1." in capsys.readouterr().out
    finally:
        assert cli.main(["down", lab_id]) == 0
    assert lab_resources(lab_id) == []
    assert cli.main(["up", "--engine", "26"]) == 2
    assert "MAJOR.MINOR" in capsys.readouterr().err
