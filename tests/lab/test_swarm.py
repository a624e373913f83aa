"""A 4-node lab, as a chapter with `verify: {lab: {nodes: 4}}` gets it, driven only through
the commands readers type (docker-machine, docker over TLS, docker-machine ssh)."""

from __future__ import annotations

import os
import subprocess

import pexpect
import pytest

from runner.lab.netns import NetnsLab, NetnsProvider
from tests.lab.conftest import lab_resources, shell, wait_for

NODES = ("node-01", "node-02", "node-03", "node-04")


@pytest.fixture(scope="module")
def swarm(lab4: NetnsLab) -> NetnsLab:
    """node-01 leads; node-02 joins as manager, node-03 and node-04 as workers."""
    run = shell(lab4)
    run(
        "eval $(docker-machine env node-01) && "
        "docker swarm init --advertise-addr $(docker-machine ip node-01)"
    )
    for node, role in (("node-02", "manager"), ("node-03", "worker"), ("node-04", "worker")):
        out = run(
            f"eval $(docker-machine env node-01) && "
            f"TOKEN=$(docker swarm join-token -q {role}) && "
            f"eval $(docker-machine env {node}) && "
            f"docker swarm join --token $TOKEN $(docker-machine ip node-01):2377"
        ).stdout
        assert f"This node joined a swarm as a {role}." in out
    return lab4


def node_ls(lab: NetnsLab, via: str = "node-01") -> dict[str, str]:
    out = shell(lab)(
        f"eval $(docker-machine env {via}) && docker node ls --format "
        "'{{.Hostname}} {{.ManagerStatus}} {{.Status}}'"
    ).stdout
    return {line.split()[0]: " ".join(line.split()[1:]) for line in out.splitlines()}


def test_four_nodes_answer_over_tls(lab4: NetnsLab) -> None:
    run = shell(lab4)
    ls = run("docker-machine ls").stdout.splitlines()
    assert ls[0].split() == [
        "NAME",
        "ACTIVE",
        "DRIVER",
        "STATE",
        "URL",
        "SWARM",
        "DOCKER",
        "ERRORS",
    ]
    assert [row.split()[0] for row in ls[1:]] == list(NODES)
    for name, row in zip(NODES, ls[1:], strict=True):
        ip = run(f"docker-machine ip {name}").stdout.strip()
        assert row.split()[1:5] == ["-", "netns", "Running", f"tcp://{ip}:2376"]
        seen = run(
            f"eval $(docker-machine env {name}) && docker info --format "
            "'{{.Name}} {{.Images}}'"
        ).stdout.split()
        assert seen == [name, "2"]  # its own hostname; busybox and web loaded
    info = lab4.info()
    assert info.provider == "netns" and info.nodes == NODES
    assert info.engine_version and info.engine_version.startswith("20.10")
    assert lab4.problems() == []


def test_tls_is_required(lab4: NetnsLab) -> None:
    ip = shell(lab4)("docker-machine ip node-01").stdout.strip()
    plain = shell(lab4)(f"docker -H tcp://{ip}:2376 version", check=False)
    assert plain.returncode != 0


def test_swarm_manager_and_workers(swarm: NetnsLab) -> None:
    nodes = node_ls(swarm)
    assert nodes["node-01"].startswith("Leader")
    assert nodes["node-02"].startswith("Reachable")
    assert nodes["node-03"] == "Ready" and nodes["node-04"] == "Ready"


def test_join_token_rotation_rejects_old_token(swarm: NetnsLab) -> None:
    run = shell(swarm)
    old = run("eval $(docker-machine env node-01) && docker swarm join-token -q worker").stdout
    run("eval $(docker-machine env node-04) && docker swarm leave")
    run("eval $(docker-machine env node-01) && docker swarm join-token --rotate worker")
    new = run("eval $(docker-machine env node-01) && docker swarm join-token -q worker").stdout
    assert new.strip() != old.strip()
    refused = run(
        f"eval $(docker-machine env node-04) && docker swarm join --token {old.strip()} "
        "$(docker-machine ip node-01):2377",
        check=False,
    )
    assert refused.returncode != 0
    # What Docker says to an old token after a rotation (as the book's swarm chapter shows).
    assert "A valid join token is necessary to join this cluster" in refused.stderr
    run(
        f"eval $(docker-machine env node-04) && docker swarm join --token {new.strip()} "
        "$(docker-machine ip node-01):2377"
    )
    run(
        "eval $(docker-machine env node-01) && "
        "docker node rm $(docker node ls -q -f name=node-04 -f role=worker | head -n 1) "
        "2>/dev/null; true"
    )
    wait_for(lambda: node_ls(swarm).get("node-04") == "Ready", "node-04 back in the swarm")


def test_promote_and_demote(swarm: NetnsLab) -> None:
    run = shell(swarm)
    run("eval $(docker-machine env node-01) && docker node promote node-03")
    wait_for(lambda: node_ls(swarm)["node-03"].startswith("Reachable"), "node-03 a manager")
    run("eval $(docker-machine env node-01) && docker node demote node-03")
    wait_for(lambda: node_ls(swarm)["node-03"] == "Ready", "node-03 a worker again")


def test_service_with_three_replicas_of_local_image(swarm: NetnsLab) -> None:
    """Host-mode publishing (the routing mesh needs IPVS): one replica per node, each
    answering with its own container's hostname."""
    run = shell(swarm)
    run(
        "eval $(docker-machine env node-01) && docker service create --detach --name hello "
        "--replicas 3 --publish mode=host,target=80,published=8080 web"
    )

    def running() -> list[str]:
        out = run(
            "eval $(docker-machine env node-01) && docker service ps hello "
            "--filter desired-state=running --format '{{.Node}} {{.CurrentState}}'"
        ).stdout
        return [line.split()[0] for line in out.splitlines() if " Running " in f" {line} "]

    wait_for(lambda: len(running()) == 3, "3 replicas running")
    hosts = running()
    assert len(set(hosts)) == 3
    answers = set()
    for node in hosts:
        ip = run(f"docker-machine ip {node}").stdout.strip()
        answers.add(run(f"busybox wget -qO- http://{ip}:8080/").stdout.strip())
    ids = run(
        "for n in " + " ".join(hosts) + "; do eval $(docker-machine env $n); "
        "docker ps -q -f name=hello; done"
    ).stdout.split()
    assert len(answers) == 3 and answers == set(ids)  # hostnames are the container ids
    run("eval $(docker-machine env node-01) && docker service rm hello")


def test_overlay_network_spans_nodes(swarm: NetnsLab) -> None:
    if not swarm.capabilities()["overlay"].present:
        pytest.skip(swarm.capabilities()["overlay"].reason)
    run = shell(swarm)
    run("eval $(docker-machine env node-01) && docker network create -d overlay --attachable ovl")
    run(
        "eval $(docker-machine env node-01) && docker run -d --name pinged --network ovl busybox "
        "sleep 300"
    )
    out = run(
        "eval $(docker-machine env node-02) && docker run --rm --network ovl busybox "
        "ping -c 1 -W 5 pinged"
    ).stdout
    assert "1 packets received" in out
    run("eval $(docker-machine env node-01) && docker rm -f pinged && docker network rm ovl")


def test_ssh_shell_reads_its_engine_log(swarm: NetnsLab) -> None:
    env = {**os.environ, **swarm.session_env(), "DOCKER_HOST": "tcp://192.0.2.99:2376", "PS1": "$ "}
    child = pexpect.spawn("bash", ["--norc", "--noprofile"], env=env, encoding="utf-8", timeout=30)
    try:
        child.sendline("docker-machine ssh node-02")
        child.expect_exact("docker@node-02:~$ ")
        assert "Boot2Docker" not in child.before  # no banner
        child.sendline("stty -echo; PS1='[lab]> '")
        child.expect_exact("[lab]> ")
        child.expect_exact("[lab]> ")
        child.sendline(
            'echo "host=$(hostname) dh=[$DOCKER_HOST]"; docker info --format '
            "'{{.Name}} {{.Swarm.LocalNodeState}}'"
        )
        child.expect_exact("[lab]> ")
        assert "host=node-02 dh=[]" in child.before
        assert "node-02 active" in child.before
        child.sendline("tail -f /var/log/docker.log")
        child.expect(r"level=(debug|info)")
        child.sendcontrol("c")
        child.expect_exact("[lab]> ")
        child.sendline("exit")
        child.expect_exact("$ ")
        child.sendline("docker-machine ssh node-02 'grep -c \"API listen on\" /var/log/docker.log'")
        child.expect(r"\r\n(\d+)\r\n")
        assert int(child.match.group(1)) >= 1
    finally:
        child.close(force=True)


def test_teardown_leaves_nothing(provider: NetnsProvider) -> None:
    lab = provider.up(("a1",))
    lab_id = lab.state.id
    assert any("netns" in r for r in lab_resources(lab_id))
    lab.down()
    lab.down()  # idempotent
    assert lab_resources(lab_id) == []
    links = subprocess.run(["ip", "link"], capture_output=True, text=True).stdout
    assert f"bkl{lab_id}" not in links
