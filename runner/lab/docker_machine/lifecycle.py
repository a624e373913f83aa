"""The docker-machine commands that act on nodes: create, stop, kill, start, restart, rm, ssh,
scp. They really start, stop or kill engines."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from runner.lab import cgroups, engine, images, nodes
from runner.lab.docker_machine.context import PROG, CommandFailed, Context, each, out, split_flags
from runner.lab.engine import CLEAN_PATH
from runner.lab.errors import LabFault
from runner.lab.state import NodeState, load_nodes


def cmd_create(ctx: Context, args: list[str]) -> None:
    flags, rest = split_flags(
        args,
        {
            "d",
            "driver",
            "engine-label",
            "engine-opt",
            "engine-env",
            "engine-insecure-registry",
            "engine-registry-mirror",
            "engine-storage-driver",
            "swarm-discovery",
            "swarm-host",
            "swarm-addr",
        },
    )
    if not rest or not rest[-1]:
        raise CommandFailed("Error: No machine name specified")
    name = rest[-1]  # driver flags with values (--virtualbox-memory 2048) come before it
    default = os.environ.get("MACHINE_DRIVER", "virtualbox")  # as docker-machine reads it
    driver = (flags.get("driver") or flags.get("d") or [default])[-1]
    labels = tuple(flags.get("engine-label", []))
    # docker-machine checks the name, then whether it exists, before any "pre-create" line.
    problem = nodes.name_problem(name)
    if problem is not None:
        raise CommandFailed(f"Error creating machine: {problem}")
    if any(n.name == name for n in load_nodes(ctx.paths)):
        raise CommandFailed(f'Host already exists: "{name}"')
    out("Running pre-create checks...")
    with ctx.locked():
        try:
            node = nodes.reserve(ctx.paths, ctx.lab, name, driver, labels)
        except nodes.NodeError as exc:
            raise CommandFailed(str(exc)) from None
        out("Creating machine...")
        out(
            f'({name}) Standing in for driver "{driver}": a QEMU virtual machine on this '
            "machine (qemu)"
            if ctx.vm
            else f'({name}) Standing in for driver "{driver}": a Docker engine in its own '
            "network namespace on this machine (netns), not a VM"
        )
        try:
            ctx.ops.provision(ctx.paths, ctx.lab, node)
            out("Waiting for machine to be running, this may take a few minutes...")
            ctx.ops.finish(ctx.paths, node, images.archive())
        except BaseException:
            ctx.ops.remove(ctx.paths, ctx.lab, node)
            raise
    out("Checking connection to Docker...")
    out("Docker is up and running!")
    out(
        "To see how to connect your Docker Client to the Docker Engine running on this "
        f"machine, run: {PROG} env {name}"
    )


def _halt(ctx: Context, args: list[str], doing: str, done: str, how: str) -> None:
    def act(node: NodeState) -> None:
        out(f'{doing} "{node.name}"...')
        if ctx.state(node) == "Stopped":
            raise CommandFailed(f'Machine "{node.name}" is already stopped.')
        with ctx.locked():
            getattr(ctx.ops, how)(ctx.paths, ctx.lab, node)
        out(f'Machine "{node.name}" was {done}.')

    each(ctx, args, act)


def cmd_stop(ctx: Context, args: list[str]) -> None:
    _halt(ctx, args, "Stopping", "stopped", "stop")  # containers stopped; a VM powers off


def cmd_kill(ctx: Context, args: list[str]) -> None:
    _halt(ctx, args, "Killing", "killed", "kill")  # SIGKILL to every process of the node


def _start(ctx: Context, node: NodeState) -> None:
    out(f'Starting "{node.name}"...')
    if ctx.state(node) == "Running":
        raise CommandFailed(f'Machine "{node.name}" is already running.')
    with ctx.locked():
        try:
            ctx.ops.start(ctx.paths, ctx.lab, node)
        except LabFault as exc:
            raise CommandFailed(str(exc)) from None
    out(f'Machine "{node.name}" was started.')


def cmd_start(ctx: Context, args: list[str]) -> None:
    each(ctx, args, lambda node: _start(ctx, node))
    out(
        "Started machines may have new IP addresses. You may need to re-run the "
        f"`{PROG} env` command."
    )


def cmd_restart(ctx: Context, args: list[str]) -> None:
    def act(node: NodeState) -> None:
        out(f'Restarting "{node.name}"...')
        with ctx.locked():
            if ctx.state(node) == "Running":
                node = ctx.ops.stop(ctx.paths, ctx.lab, node)
            try:
                ctx.ops.start(ctx.paths, ctx.lab, node)
            except LabFault as exc:
                raise CommandFailed(str(exc)) from None

    each(ctx, args, act)
    out(
        "Restarted machines may have new IP addresses. You may need to re-run the "
        f"`{PROG} env` command."
    )


def cmd_rm(ctx: Context, args: list[str]) -> None:
    flags, rest = split_flags(args, set())
    if not rest:
        raise CommandFailed("Error: Expected to get one or more machine names as arguments")
    out(f"About to remove {', '.join(rest)}")
    out("WARNING: This action will delete both local reference and remote instance.")
    if "y" not in flags and "f" not in flags and "force" not in flags:
        sys.stdout.write("Are you sure? (y/n): ")
        sys.stdout.flush()
        answer = sys.stdin.readline()
        if not answer.strip().lower().startswith("y"):
            return
    force = "f" in flags or "force" in flags
    errors = []
    for name in rest:
        try:
            node = nodes.find(ctx.paths, name)
        except nodes.NodeError as exc:
            # docker-machine -f logs both failures (remote, then local) and carries on.
            errors.append(f'Error removing host "{name}": {exc}')
            if force:
                errors.append(f'Can\'t remove "{name}"')
                sys.stdout.flush()
                sys.stderr.write("".join(f"{e}\n" for e in errors[-2:]))
            continue
        with ctx.locked():
            ctx.ops.remove(ctx.paths, ctx.lab, node)
        out(f"Successfully removed {name}")
    if errors and not force:
        raise CommandFailed("\n".join(errors))


NODE_BIN = "/run/book-lab-bin"  # inside the node: its own /run
SUDO = """#!/bin/sh
# sudo stand-in (last on PATH, used only when the machine has no sudo): the shell of
# `docker-machine ssh` already runs as root, so run the command as it is.
while [ $# -gt 0 ]; do
    case "$1" in -u|-g) shift 2 ;; --) shift; break ;; -*) shift ;; *) break ;; esac
done
[ $# -eq 0 ] || exec "$@"
"""


def _install_sudo(node_dir: Path) -> None:
    target = node_dir / "run" / NODE_BIN.rsplit("/", 1)[1] / "sudo"
    if not target.exists():
        target.parent.mkdir(exist_ok=True)
        target.write_text(SUDO)
        target.chmod(0o755)


def _ssh_vm(ctx: Context, node: NodeState, command: list[str]) -> None:
    """Real SSH into the VM with the lab's key: no banner, no host-key question."""
    from runner.lab.vm import machines

    if not machines.running(ctx.paths, node):
        raise CommandFailed(f'Error: Cannot run SSH command: Host "{node.name}" is not running')
    argv = machines.ssh_argv(ctx.paths, node, tty=not command and sys.stdin.isatty())
    if command:
        argv += ["--", " ".join(command)]
    sys.stdout.flush()
    os.execvp(argv[0], argv)


def cmd_ssh(ctx: Context, args: list[str]) -> None:
    node = ctx.node(ctx.default_name(args[:1])[0])
    if ctx.vm:
        _ssh_vm(ctx, node, args[1:])
    pid = engine.pid(ctx.paths.node_dir(node.name))
    if pid is None:
        raise CommandFailed(f'Error: Cannot run SSH command: Host "{node.name}" is not running')
    # The shell belongs to the node: stopping or removing the node ends it too.
    procs = cgroups.ensure(nodes.shell_group(ctx.lab.id, node)) / "cgroup.procs"
    procs.write_text(str(os.getpid()))
    _install_sudo(ctx.paths.node_dir(node.name))
    client = nodes.engine_client(ctx.lab)  # `docker` inside the node: its engine's client
    env = {
        "PATH": (f"{client}:" if client is not None else "") + CLEAN_PATH + ":" + NODE_BIN,
        "HOME": "/home/docker",
        "USER": "docker",
        "LOGNAME": "docker",
        "SHELL": "/bin/bash",
        "PS1": "docker@\\h:\\w$ ",
    }
    for keep in ("TERM", "LANG", "LC_ALL", "COLUMNS", "LINES", "TZ"):
        if keep in os.environ:
            env[keep] = os.environ[keep]
    # `cd` once inside the node's mount namespace, where /home/docker exists.
    enter = [
        "nsenter",
        "-t",
        str(pid),
        "--net",
        "--uts",
        "--mount",
        "/bin/sh",
        "-c",
        'cd "$HOME" 2>/dev/null; exec "$0" "$@"',
        "/bin/bash",
        "--noprofile",
        "--norc",
    ]
    command = args[1:]
    argv = [*enter, "-c", " ".join(command)] if command else [*enter, "-i"]
    sys.stdout.flush()
    os.execvpe(argv[0], argv, env)


def _scp_vm(ctx: Context, args: list[str]) -> None:
    """Real scp to and from the VMs (`node:path`, relative paths from /home/docker)."""
    from runner.lab.vm import machines

    by_name = {n.name: n for n in load_nodes(ctx.paths)}
    argv = machines.scp_argv(ctx.paths)
    argv += ["-r"] if any(a in ("-r", "--recursive") for a in args) else []
    for arg in (a for a in args if not a.startswith("-")):
        name, colon, path = arg.partition(":")
        if colon and name in by_name:
            if not machines.running(ctx.paths, by_name[name]):
                raise CommandFailed(f'Error: Cannot run SCP command: Host "{name}" is not running')
            arg = f"docker@{by_name[name].ip}:{path or '.'}"
        argv.append(arg)
    sys.stdout.flush()
    os.execvp(argv[0], argv)


def cmd_scp(ctx: Context, args: list[str]) -> None:
    from runner.lab.docker_machine import scp

    if ctx.vm:
        _scp_vm(ctx, args)
    names = {n.name for n in load_nodes(ctx.paths)}

    def pid_of(name: str) -> int:
        pid = engine.pid(ctx.paths.node_dir(name))
        if pid is None:
            raise CommandFailed(f'Error: Cannot run SCP command: Host "{name}" is not running')
        return pid

    try:
        scp.scp(args, names.__contains__, pid_of)
    except scp.ScpError as exc:
        raise CommandFailed(str(exc)) from None


def cmd_unsupported(ctx: Context, args: list[str]) -> None:
    raise CommandFailed(
        f"Error: `{PROG} {ctx.typed[1]}` is not supported by the book lab, whose machines are "
        "Docker engines in network namespaces (no VM to upgrade, provision or re-certify)"
    )
