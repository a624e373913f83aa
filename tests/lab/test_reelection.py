"""`docker-machine stop` really stops an engine: the swarm loses its leader and elects one."""

from __future__ import annotations

from runner.lab.netns import NetnsProvider
from tests.lab.conftest import Run, shell, wait_for


def leader_seen_from(run: Run, node: str) -> str | None:
    out = run(
        f"eval $(docker-machine env {node}) && docker node ls --format "
        "'{{.Hostname}} {{.ManagerStatus}}'",
        check=False,
    ).stdout
    for line in out.splitlines():
        if line.endswith(" Leader"):
            return line.split()[0]
    return None


def test_stopping_the_leader_of_three_managers_elects_another(provider: NetnsProvider) -> None:
    with provider.up(("manager1", "manager2", "manager3")) as lab:
        run = shell(lab)
        run(
            "eval $(docker-machine env manager1) && docker swarm init --advertise-addr "
            "$(docker-machine ip manager1)"
        )
        for node in ("manager2", "manager3"):
            run(
                "TOKEN=$(eval $(docker-machine env manager1) && docker swarm join-token -q "
                f"manager) && docker-machine ssh {node} docker swarm join --token $TOKEN "
                "$(docker-machine ip manager1):2377"
            )
        assert leader_seen_from(run, "manager1") == "manager1"

        out = run("docker-machine stop manager1").stdout
        assert out.splitlines() == ['Stopping "manager1"...', 'Machine "manager1" was stopped.']
        assert run("docker-machine status manager1").stdout.strip() == "Stopped"
        assert (
            run(
                "eval $(docker-machine env manager2) 2>/dev/null; docker-machine ssh manager1 true",
                check=False,
            ).returncode
            == 1
        )
        wait_for(
            lambda: leader_seen_from(run, "manager2") in ("manager2", "manager3"),
            "a new leader elected",
        )
        assert lab.problems() == []  # stopped on purpose

        run("docker-machine start manager1")
        wait_for(
            lambda: (
                "manager1 Reachable"
                in run(
                    "eval $(docker-machine env manager2) && docker node ls --format "
                    "'{{.Hostname}} {{.ManagerStatus}}'"
                ).stdout
            ),
            "manager1 back as a manager",
        )
