"""The docker-machine stand-in in an empty lab (`verify: {lab: {}}`): the chapter creates its
nodes itself. Formats and messages are docker-machine 0.16's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.lab.netns import NetnsLab, NetnsProvider
from tests.lab.conftest import Run, lab_resources, shell


@pytest.fixture(scope="module")
def empty_lab(provider: NetnsProvider) -> Iterator[NetnsLab]:
    lab = provider.up(())
    try:
        yield lab
    finally:
        lab.down()
    assert lab_resources(lab.state.id) == []


@pytest.fixture(scope="module")
def run(empty_lab: NetnsLab) -> Run:
    return shell(empty_lab)


@pytest.fixture(scope="module")
def created(run: Run) -> str:
    return run(
        "docker-machine create -d virtualbox node-1 && "
        "docker-machine create --driver=generic --engine-label zone=a node-2"
    ).stdout


def test_empty_lab_lists_no_machine(empty_lab: NetnsLab) -> None:
    out = shell(empty_lab)("docker-machine ls").stdout
    assert out == "NAME   ACTIVE   DRIVER   STATE   URL   SWARM   DOCKER   ERRORS\n"


def test_create_says_what_stands_in(created: str, run: Run, empty_lab: NetnsLab) -> None:
    lines = created.splitlines()
    assert lines[0] == "Running pre-create checks..."
    assert '(node-1) Standing in for driver "virtualbox"' in created
    assert "Docker is up and running!" in lines
    assert lines[-1].endswith("run: docker-machine env node-2")
    assert empty_lab.info().stands_in_for == {"node-1": "virtualbox", "node-2": "generic"}
    inspect = json.loads(run("docker-machine inspect node-1").stdout)
    assert inspect["DriverName"] == "netns" and inspect["Driver"]["StandsInFor"] == "virtualbox"
    labels = run("eval $(docker-machine env node-2) && docker info --format '{{.Labels}}'").stdout
    assert "zone=a" in labels and "provider=netns" in labels


def test_ls_columns_format_quiet_filter(created: str, run: Run) -> None:
    rows = run("docker-machine ls").stdout.splitlines()
    ip1 = run("docker-machine ip node-1").stdout.strip()
    assert rows[0].startswith("NAME     ACTIVE   DRIVER   STATE     URL ")
    assert rows[1].split() == [
        "node-1",
        "-",
        "netns",
        "Running",
        f"tcp://{ip1}:2376",
        "v" + run("docker-machine version node-1").stdout.strip()[1:],
    ]
    assert run("docker-machine ls -q").stdout == "node-1\nnode-2\n"
    assert run("docker-machine ls --format '{{.Name}}: {{.DriverName}} {{.State}}'").stdout == (
        "node-1: netns Running\nnode-2: netns Running\n"
    )
    table = run("docker-machine ls --format 'table {{.Name}}\\t{{.URL}}'").stdout.splitlines()
    assert table[0].split() == ["NAME", "URL"]
    assert run("docker-machine ls --filter name=2 -q").stdout == "node-2\n"
    bad = run("docker-machine ls --filter color=red", check=False)
    assert (bad.returncode, bad.stderr) == (1, "Unsupported filter key 'color'\n")


def test_env_eval_active_and_unset(created: str, run: Run, empty_lab: NetnsLab) -> None:
    ip = run("docker-machine ip node-1").stdout.strip()
    env = run("docker-machine env node-1").stdout
    assert env == (
        'export DOCKER_TLS_VERIFY="1"\n'
        f'export DOCKER_HOST="tcp://{ip}:2376"\n'
        f'export DOCKER_CERT_PATH="{empty_lab.paths.machine_dir("node-1")}"\n'
        'export DOCKER_MACHINE_NAME="node-1"\n'
        "# Run this command to configure your shell: \n"
        "# eval $(docker-machine env node-1)\n"
    )
    both = run(
        "eval $(docker-machine env node-1) && docker-machine active && "
        "docker-machine ls --format '{{.Name}}{{.Active}}' && "
        "docker info --format '{{.Name}}'"
    ).stdout
    assert both == "node-1\nnode-1*\nnode-2-\nnode-1\n"
    unset = run("docker-machine env -u").stdout
    assert unset.splitlines()[:4] == [
        "unset DOCKER_TLS_VERIFY",
        "unset DOCKER_HOST",
        "unset DOCKER_CERT_PATH",
        "unset DOCKER_MACHINE_NAME",
    ]
    assert unset.splitlines()[-1] == "# eval $(docker-machine env -u)"
    none = run("docker-machine active", check=False)
    assert (none.returncode, none.stderr) == (1, "No active host found\n")


def test_url_status_config_inspect_format(created: str, run: Run, empty_lab: NetnsLab) -> None:
    ip = run("docker-machine ip node-2").stdout.strip()
    assert run("docker-machine url node-2").stdout == f"tcp://{ip}:2376\n"
    assert run("docker-machine status node-2").stdout == "Running\n"
    certs = empty_lab.paths.certs
    assert run("docker-machine config node-2").stdout.splitlines() == [
        "--tlsverify",
        f'--tlscacert="{certs}/ca.pem"',
        f'--tlscert="{certs}/cert.pem"',
        f'--tlskey="{certs}/key.pem"',
        f"-H=tcp://{ip}:2376",
    ]
    assert run("docker $(docker-machine config node-2) info --format '{{.Name}}'").stdout == (
        "node-2\n"
    )
    assert run("docker-machine inspect --format='{{.Driver.IPAddress}}' node-2").stdout == (
        ip + "\n"
    )


NO_DEFAULT = 'Error: No machine name(s) specified and no "default" machine exists\n'


def test_errors_are_docker_machines(created: str, run: Run) -> None:
    cases = {
        "docker-machine frobnicate": "docker-machine: 'frobnicate' is not a docker-machine "
        "command. See 'docker-machine --help'.\n",
        "docker-machine ip nope": 'Host does not exist: "nope"\n',
        "docker-machine create -d virtualbox node-1": 'Host already exists: "node-1"\n',
        "docker-machine env node-1 node-2": "Error: Expected one machine name as an argument\n",
        "docker-machine env --unset node-1": "Error: Expected no machine name when the -u flag "
        "is present\n",
        "docker-machine env": NO_DEFAULT,
        "docker-machine ssh": NO_DEFAULT,
        "docker-machine config": NO_DEFAULT,
    }
    for command, message in cases.items():
        proc = run(command, check=False)
        assert (proc.returncode, proc.stderr) == (1, message), command
    bad = run("docker-machine create -d virtualbox bad_name", check=False)
    assert bad.returncode == 1 and "Invalid hostname specified" in bad.stderr
    assert run("docker-machine ls -q").stdout == "node-1\nnode-2\n"


def test_no_traceback_for_bad_regexp_or_long_name(created: str, run: Run) -> None:
    bad = run("docker-machine ls --filter 'name=['", check=False)
    assert (bad.returncode, bad.stdout, bad.stderr) == (
        1,
        "",
        "error parsing regexp: missing closing ]: `[`\n",
    )
    long = "a" * 70
    proc = run(f"docker-machine create -d virtualbox {long}", check=False)
    assert (proc.returncode, proc.stdout) == (1, "")
    assert proc.stderr == (
        "Error creating machine: Invalid hostname specified. A book lab node is a Linux host: "
        "its name has at most 64 characters (this one has 70)\n"
    )
    assert "Traceback" not in proc.stderr + bad.stderr
    # The longest name a host can have makes a working node (certificate subject included).
    longest = "b" * 64
    run(f"docker-machine create -d virtualbox {longest} >/dev/null")
    try:
        ssh = run(f"eval $(docker-machine env {longest}) && docker info --format '{{{{.Name}}}}'")
        assert ssh.stdout == longest + "\n"
    finally:
        run(f"docker-machine rm -y {longest} >/dev/null")


def test_stop_start_kill_restart_really_act(created: str, run: Run, empty_lab: NetnsLab) -> None:
    assert run("docker-machine stop node-2").stdout == (
        'Stopping "node-2"...\nMachine "node-2" was stopped.\n'
    )
    down = run(
        "eval $(docker-machine env node-1) && "
        "docker -H tcp://$(docker-machine inspect -f '{{.Driver.IPAddress}}' node-2):2376 "
        "info",
        check=False,
    )
    assert down.returncode != 0
    assert run("docker-machine ls --filter state=Stopped -q").stdout == "node-2\n"
    again = run("docker-machine stop node-2", check=False)
    assert again.stderr == 'Machine "node-2" is already stopped.\n'
    suffix = "node-2 is not running. Please start it in order to use the connection settings\n"
    env = run("docker-machine env node-2", check=False)
    assert (env.returncode, env.stdout, env.stderr) == (
        1,
        "",
        "Error checking TLS connection: " + suffix,
    )
    config = run("docker-machine config node-2", check=False)
    assert (config.returncode, config.stdout, config.stderr) == (
        1,
        "",
        "Error running connection boilerplate: " + suffix,
    )
    ssh = run("docker-machine ssh node-2 true", check=False)
    assert ssh.stderr == 'Error: Cannot run SSH command: Host "node-2" is not running\n'
    started = run("docker-machine start node-2").stdout.splitlines()
    assert started[:2] == ['Starting "node-2"...', 'Machine "node-2" was started.']
    assert run("docker-machine ssh node-2 docker info --format '{{.Name}}'").stdout == "node-2\n"
    assert run("docker-machine kill node-2").stdout == (
        'Killing "node-2"...\nMachine "node-2" was killed.\n'
    )
    assert run("docker-machine status node-2").stdout == "Stopped\n"
    restarted = run("docker-machine restart node-2").stdout
    assert restarted.startswith('Restarting "node-2"...\n')
    assert run("docker-machine status node-2").stdout == "Running\n"
    assert empty_lab.problems() == []


def test_rm_asks_then_removes_everything(created: str, run: Run, empty_lab: NetnsLab) -> None:
    kept = subprocess.run(
        ["bash", "-c", "echo n | docker-machine rm node-2"],
        env={**empty_lab.session_env(), "HOME": "/root"},
        capture_output=True,
        text=True,
    )
    assert "Are you sure? (y/n): " in kept.stdout
    assert run("docker-machine ls -q").stdout == "node-1\nnode-2\n"
    out = run("docker-machine rm -y node-2").stdout
    assert out == (
        "About to remove node-2\nWARNING: This action will delete both local "
        "reference and remote instance.\nSuccessfully removed node-2\n"
    )
    assert run("docker-machine ls -q").stdout == "node-1\n"
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert f"bkl{empty_lab.state.id}-1" not in netns


def test_filters_or_create_and_ip_check_first(created: str, run: Run) -> None:
    # Values of one key are OR'd, different keys AND'd (docker-machine's filterHost).
    either = run("docker-machine ls -q --filter name=nope --filter name=node-1").stdout
    assert either == "node-1\n"
    mixed = "docker-machine ls -q --filter name=nope --filter name=node-1 --filter state=Nope"
    assert run(mixed).stdout == ""
    # The name is checked, and whether it exists, before "Running pre-create checks...".
    for name, message in {
        "''": "Error: No machine name specified\n",
        "node-1": 'Host already exists: "node-1"\n',
        "bad_name": "Error creating machine: Invalid hostname specified. "
        "Allowed hostname chars are: 0-9a-zA-Z . -\n",
    }.items():
        proc = run(f"docker-machine create -d virtualbox {name}", check=False)
        assert (proc.returncode, proc.stdout, proc.stderr) == (1, "", message)
    # Every machine is looked up before any address is printed.
    ip = run("docker-machine ip node-1 nope nope2", check=False)
    assert (ip.returncode, ip.stdout, ip.stderr) == (
        1,
        "",
        'Host does not exist: "nope"\nHost does not exist: "nope2"\n',
    )


CLOSED_STDOUT = """
import os, sys
sys.path.insert(0, {root!r})
from runner.lab.docker_machine.command import main
read, write = os.pipe()
os.close(read)  # the reader is gone, like `| head -1` after its line
os.dup2(write, 1)
sys.exit(main(["docker-machine", "ls"]))
"""


def test_closed_pipe_ends_quietly(created: str, empty_lab: NetnsLab) -> None:
    root = str(Path(__file__).resolve().parents[2])
    proc = subprocess.run(
        [sys.executable, "-c", CLOSED_STDOUT.format(root=root)],
        env={**os.environ, **empty_lab.session_env()},
        capture_output=True,
        text=True,
    )
    assert (proc.returncode, proc.stderr) == (141, "")


def test_rm_force_logs_errors_and_exits_0(created: str, run: Run) -> None:
    forced = run("docker-machine rm -f nope", check=False)
    assert (forced.returncode, forced.stdout, forced.stderr) == (
        0,
        "About to remove nope\nWARNING: This action will delete both local reference and "
        "remote instance.\n",
        'Error removing host "nope": Host does not exist: "nope"\nCan\'t remove "nope"\n',
    )
    plain = run("docker-machine rm -y nope", check=False)
    assert (plain.returncode, plain.stderr) == (
        1,
        'Error removing host "nope": Host does not exist: "nope"\n',
    )


def test_node_has_its_own_etc_files_and_log(created: str, run: Run) -> None:
    out = run(
        "docker-machine ssh node-1 'cat /etc/hostname; grep -c node-1 /etc/hosts; "
        "ls /var/log; echo $HOME; id -u'"
    ).stdout.split()
    assert out[:2] == ["node-1", "1"]
    assert "docker.log" in out and out[-2:] == ["/home/docker", "0"]


def test_scp_files_and_folders_both_ways(created: str, run: Run, tmp_path: object) -> None:
    run(
        f"cd {tmp_path} && mkdir -p stack/conf && echo 'version: \"3\"' > stack/compose.yml && "
        "echo x > stack/conf/a && docker-machine scp stack/compose.yml node-1: && "
        "docker-machine scp -r stack node-1:/tmp/ && docker-machine scp node-1:compose.yml back.yml"
        " && docker-machine scp -r node-1:/tmp/stack copy"
    )
    inside = run("docker-machine ssh node-1 'cat ~/compose.yml /tmp/stack/conf/a'").stdout
    assert inside == 'version: "3"\nx\n'
    assert run(f"cat {tmp_path}/back.yml {tmp_path}/copy/conf/a").stdout == 'version: "3"\nx\n'
    assert not os.path.exists("/tmp/stack/compose.yml")  # the node's /tmp is its own
    missing = run("docker-machine scp node-1:/nope here", check=False)
    assert missing.returncode == 1 and "/nope" in missing.stderr


def test_parallel_creates_get_distinct_nodes(created: str, run: Run) -> None:
    run(
        "docker-machine create -d virtualbox p1 >/dev/null & "
        "docker-machine create -d virtualbox p2 >/dev/null & wait"
    )
    rows = run("docker-machine ls --filter name=^p --format '{{.Name}} {{.State}} {{.URL}}'")
    lines = rows.stdout.splitlines()
    assert [line.split()[:2] for line in lines] == [["p1", "Running"], ["p2", "Running"]]
    assert len({line.split()[2] for line in lines}) == 2
    run("docker-machine rm -y p1 p2")
