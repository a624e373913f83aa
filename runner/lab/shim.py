"""`docker-machine` for the netns lab: the commands readers type, on real engines.

It finds its lab through MACHINE_STORAGE_PATH (docker-machine's own variable, set by
`Lab.session_env()`), whose parent folder is the lab's. Output formats, messages and exit
statuses follow docker-machine 0.16; the DRIVER column says what really runs a node (`netns`),
and `create` says which driver it stands in for. Imports stay light: it runs per command.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from runner.lab import cgroups, engine, gotemplate, images, nodes
from runner.lab.state import LabPaths, LabState, NodeState, flocked, load_lab, load_nodes

PROG = "docker-machine"
VERSION = "docker-machine version 0.16.2 (book lab stand-in: engines in network namespaces)"
LS_DEFAULT = (
    "table {{ .Name }}\t{{ .Active }}\t{{ .DriverName}}\t{{ .State }}\t{{ .URL }}\t"
    "{{ .Swarm }}\t{{ .DockerVersion }}\t{{ .Error}}"
)
LS_HEADERS = {
    "Name": "NAME",
    "Active": "ACTIVE",
    "ActiveHost": "ACTIVE_HOST",
    "ActiveSwarm": "ACTIVE_SWARM",
    "DriverName": "DRIVER",
    "State": "STATE",
    "URL": "URL",
    "SwarmOptions": "SWARM_OPTIONS",
    "Swarm": "SWARM",
    "EngineOptions": "ENGINE_OPTIONS",
    "Error": "ERRORS",
    "DockerVersion": "DOCKER",
    "ResponseTime": "RESPONSE",
}
CLEAN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class Fail(Exception):
    """Printed to stderr; exit status 1 (docker-machine's for every error)."""


def out(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


class Ctx:
    def __init__(self, storage: Path, typed: list[str]) -> None:
        self.paths = LabPaths(storage.parent)
        state = load_lab(self.paths)
        if state is None:
            raise Fail(
                f"Error: no book lab at {storage.parent}: this docker-machine runs only "
                "inside a lab session (python -m runner lab up)"
            )
        self.lab: LabState = state
        self.typed = typed  # the command line as typed, for env's usage hint

    def node(self, name: str) -> NodeState:
        try:
            return nodes.find(self.paths, name)
        except nodes.NodeError as exc:
            raise Fail(str(exc)) from None

    def state(self, node: NodeState) -> str:
        return nodes.state(self.paths, node)

    def url(self, node: NodeState) -> str:
        return f"tcp://{node.ip}:2376"

    def locked(self) -> Any:
        if not self.paths.lab_json.exists():
            raise Fail("Error: the lab is being removed")
        return flocked(self.paths.lock, timeout=120.0)

    def default_name(self, args: list[str]) -> list[str]:
        if args:
            return args
        if any(n.name == "default" for n in load_nodes(self.paths)):
            return ["default"]
        raise Fail('Error: No machine name(s) specified and no "default" machine exists')


# --- commands -----------------------------------------------------------------------------


def split_flags(args: list[str], with_value: set[str]) -> tuple[dict[str, list[str]], list[str]]:
    flags: dict[str, list[str]] = {}
    rest: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            rest.extend(args[i + 1 :])
            break
        if a.startswith("-") and len(a) > 1:
            key, eq, value = a.lstrip("-").partition("=")
            if key in with_value and not eq:
                if i + 1 >= len(args):
                    raise Fail(f"flag needs an argument: {a}")
                value = args[i + 1]
                i += 1
            flags.setdefault(key, []).append(value if (eq or key in with_value) else "true")
        else:
            rest.append(a)
        i += 1
    return flags, rest


def cmd_create(ctx: Ctx, args: list[str]) -> None:
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
    if not rest:
        raise Fail("Error: No machine name specified")
    name = rest[-1]  # driver flags with values (--virtualbox-memory 2048) come before it
    default = os.environ.get("MACHINE_DRIVER", "virtualbox")  # as docker-machine reads it
    driver = (flags.get("driver") or flags.get("d") or [default])[-1]
    labels = tuple(flags.get("engine-label", []))
    out("Running pre-create checks...")
    with ctx.locked():
        try:
            node = nodes.reserve(ctx.paths, ctx.lab, name, driver, labels)
        except nodes.NodeError as exc:
            raise Fail(str(exc)) from None
        out("Creating machine...")
        out(
            f'({name}) Standing in for driver "{driver}": a Docker engine in its own network '
            "namespace on this machine (netns), not a VM"
        )
        try:
            nodes.provision(ctx.paths, ctx.lab, node)
            out("Waiting for machine to be running, this may take a few minutes...")
            nodes.finish(ctx.paths, node, images.archive())
        except BaseException:
            nodes.remove(ctx.paths, ctx.lab, node)
            raise
    out("Checking connection to Docker...")
    out("Docker is up and running!")
    out(
        "To see how to connect your Docker Client to the Docker Engine running on this "
        f"machine, run: {PROG} env {name}"
    )


def ls_item(ctx: Ctx, node: NodeState, docker_host: str) -> dict[str, Any]:
    st = ctx.state(node)
    url = ctx.url(node) if st == "Running" else ""
    version = "Unknown"
    error = ""
    if st == "Running":
        v = engine.version(ctx.paths.node_dir(node.name))
        version = f"v{v}" if v else "Unknown"
    elif st == "Error":
        status = engine.exit_status(ctx.paths.node_dir(node.name))
        error = (
            f"engine exited (status {status})" if status is not None else "engine is gone (killed)"
        )
    active = st == "Running" and url == docker_host
    return {
        "Name": node.name,
        "Active": "*" if active else "-",
        "ActiveHost": active,
        "ActiveSwarm": False,
        "DriverName": "netns",
        "State": st,
        "URL": url,
        "SwarmOptions": None,
        "Swarm": "",
        "EngineOptions": None,
        "Error": error,
        "DockerVersion": version,
        "ResponseTime": "0s",
    }


def cmd_ls(ctx: Ctx, args: list[str]) -> None:
    flags, _rest = split_flags(args, {"filter", "format", "f", "timeout", "t"})
    all_nodes = load_nodes(ctx.paths)
    for f in flags.get("filter", []):
        key, eq, value = f.partition("=")
        if not eq:
            raise Fail("Unsupported filter syntax.")
        key = key.lower()
        if key not in ("name", "driver", "state", "swarm", "label"):
            raise Fail(f"Unsupported filter key '{key}'")
        all_nodes = [n for n in all_nodes if _filter(ctx, n, key, value)]
    if "quiet" in flags or "q" in flags:
        for n in all_nodes:
            out(n.name)
        return
    fmt = (flags.get("format") or flags.get("f") or [""])[-1] or LS_DEFAULT
    table = fmt.startswith("table")
    if table:
        fmt = fmt[len("table") :]
    fmt = fmt.strip(" ").replace("\\t", "\t").replace("\\n", "\n") + "\n"
    docker_host = os.environ.get("DOCKER_HOST", "")
    try:
        text = gotemplate.render(fmt, LS_HEADERS) if table else ""
        for n in all_nodes:
            text += gotemplate.render(fmt, ls_item(ctx, n, docker_host))
    except gotemplate.TemplateError as exc:
        raise Fail(str(exc)) from None
    sys.stdout.write(gotemplate.tabwrite(text) if table else text)


def _filter(ctx: Ctx, node: NodeState, key: str, value: str) -> bool:
    import re

    if key == "name":
        return re.search(value, node.name) is not None
    if key == "driver":
        return value.lower() == "netns"
    if key == "state":
        return value.lower() == ctx.state(node).lower()
    if key == "label":
        return value in node.labels
    return False


def running(ctx: Ctx, name: str) -> NodeState:
    node = ctx.node(name)
    if ctx.state(node) != "Running":
        raise Fail("Host is not running")
    return node


def cmd_ip(ctx: Ctx, args: list[str]) -> None:
    for name in ctx.default_name(args):
        node = ctx.node(name)
        if ctx.state(node) != "Running":
            raise Fail("Error getting IP address: Host is not running")
        out(node.ip)


def cmd_url(ctx: Ctx, args: list[str]) -> None:
    if len(args) > 1:
        raise Fail("Error: Expected one machine name as an argument")
    out(ctx.url(running(ctx, ctx.default_name(args)[0])))


def cmd_status(ctx: Ctx, args: list[str]) -> None:
    if len(args) > 1:
        raise Fail("Error: Expected one machine name as an argument")
    out(ctx.state(ctx.node(ctx.default_name(args)[0])))


ENV_SHELLS = {  # prefix, delimiter, suffix, (unset prefix, unset delimiter, unset suffix)
    "bash": ("export ", '="', '"\n', "unset ", "", "\n"),
    "fish": ("set -x ", ' "', '";\n', "set -e ", "", ";\n"),
    "powershell": ("$Env:", ' = "', '"\n', "Remove-Item Env:\\\\", "", "\n"),
    "cmd": ("SET ", "=", "\n", "SET ", "=", "\n"),
    "tcsh": ("setenv ", ' "', '";\n', "unsetenv ", "", ";\n"),
    "emacs": ('(setenv "', '" "', '")\n', '(setenv "', '" nil', ")\n"),
}


def usage_hint(shell: str, typed: list[str]) -> str:
    line = " ".join(typed)
    comment = "#"
    if shell == "fish":
        cmd = f"eval ({line})"
    elif shell == "powershell":
        cmd = f"& {line} | Invoke-Expression"
    elif shell == "cmd":
        cmd, comment = f"\t@FOR /f \"tokens=*\" %i IN ('{line}') DO @%i", "REM"
    elif shell == "emacs":
        cmd, comment = (
            f'(with-temp-buffer (shell-command "{line}" (current-buffer)) (eval-buffer))',
            ";;",
        )
    elif shell == "tcsh":
        cmd, comment = f"eval `{line}`", ":"
    else:
        cmd = f"eval $({line})"
    return f"{comment} Run this command to configure your shell: \n{comment} {cmd}\n"


def cmd_env(ctx: Ctx, args: list[str]) -> None:
    flags, rest = split_flags(args, {"shell"})
    unset = "unset" in flags or "u" in flags
    shell = (flags.get("shell") or [""])[-1] or Path(os.environ.get("SHELL", "bash")).name
    if shell not in ENV_SHELLS:
        shell = "bash"
    pre, delim, suf, upre, udelim, usuf = ENV_SHELLS[shell]
    names = ["DOCKER_TLS_VERIFY", "DOCKER_HOST", "DOCKER_CERT_PATH", "DOCKER_MACHINE_NAME"]
    if unset:
        if rest:
            raise Fail(
                "Error: Expected either one machine name, or -u flag to unset the "
                "variables in the arguments"
            )
        body = "".join(f"{upre}{n}{udelim}{usuf}" for n in names)
        sys.stdout.write(body + usage_hint(shell, ctx.typed))
        return
    if len(rest) != 1:
        raise Fail("Error: Expected one machine name as an argument")
    node = ctx.node(rest[0])
    if ctx.state(node) != "Running":
        raise Fail("Error checking TLS connection: Error getting driver URL: Host is not running")
    values = ["1", ctx.url(node), str(ctx.paths.machine_dir(node.name)), node.name]
    body = "".join(f"{pre}{n}{delim}{v}{suf}" for n, v in zip(names, values, strict=True))
    sys.stdout.write(body + usage_hint(shell, ctx.typed))


def cmd_config(ctx: Ctx, args: list[str]) -> None:
    _flags, rest = split_flags(args, set())
    if len(rest) != 1:
        raise Fail("Error: Expected one machine name as an argument")
    node = ctx.node(rest[0])
    if ctx.state(node) != "Running":
        raise Fail("Error checking TLS connection: Error getting driver URL: Host is not running")
    certs = ctx.paths.certs
    out(
        f'--tlsverify\n--tlscacert="{certs / "ca.pem"}"\n--tlscert="{certs / "cert.pem"}"\n'
        f'--tlskey="{certs / "key.pem"}"\n-H={ctx.url(node)}'
    )


def inspect_data(ctx: Ctx, node: NodeState) -> dict[str, Any]:
    certs, mdir = ctx.paths.certs, ctx.paths.machine_dir(node.name)
    return {
        "ConfigVersion": 3,
        "Driver": {
            "IPAddress": node.ip,
            "MachineName": node.name,
            "SSHUser": "docker",
            "SSHPort": 22,
            "SSHKeyPath": "",
            "StorePath": str(ctx.paths.storage),
            "SwarmMaster": False,
            "SwarmHost": "",
            "SwarmDiscovery": "",
            "Namespace": node.netns(ctx.lab.id),
            "StandsInFor": node.driver,
        },
        "DriverName": "netns",
        "HostOptions": {
            "Driver": "",
            "Memory": 0,
            "Disk": 0,
            "EngineOptions": {
                "Labels": list(node.labels),
                "StorageDriver": nodes.storage_driver(),
                "TlsVerify": True,
                "InstallURL": "",
            },
            "SwarmOptions": {"IsSwarm": False, "Master": False},
            "AuthOptions": {
                "CertDir": str(certs),
                "CaCertPath": str(certs / "ca.pem"),
                "CaPrivateKeyPath": str(certs / "ca-key.pem"),
                "ServerCertPath": str(mdir / "server.pem"),
                "ClientKeyPath": str(certs / "key.pem"),
                "ClientCertPath": str(certs / "cert.pem"),
                "StorePath": str(mdir),
            },
        },
        "Name": node.name,
    }


def cmd_inspect(ctx: Ctx, args: list[str]) -> None:
    flags, rest = split_flags(args, {"format", "f"})
    names = ctx.default_name(rest)
    if len(names) != 1:
        raise Fail("Error: Expected one machine name as an argument")
    data = inspect_data(ctx, ctx.node(names[0]))
    fmt = (flags.get("format") or flags.get("f") or [""])[-1]
    if not fmt:
        out(json.dumps(data, indent=4))
        return
    try:
        out(gotemplate.render(fmt, data))
    except gotemplate.TemplateError as exc:
        raise Fail(f"Template parsing error: {exc}") from None


def cmd_active(ctx: Ctx, args: list[str]) -> None:
    if args and not args[0].startswith("-"):
        raise Fail("Error: Too many arguments given")
    docker_host = os.environ.get("DOCKER_HOST", "")
    for node in load_nodes(ctx.paths):
        if ctx.state(node) == "Running" and ctx.url(node) == docker_host:
            out(node.name)
            return
    raise Fail("No active host found")


def _each(ctx: Ctx, args: list[str], action: Callable[[NodeState], None]) -> None:
    targets = [ctx.node(name) for name in ctx.default_name([a for a in args if a[:1] != "-"])]
    errors = []
    for node in targets:
        try:
            action(node)
        except Fail as exc:
            errors.append(str(exc))
    if errors:
        raise Fail("\n".join(errors))


def cmd_stop(ctx: Ctx, args: list[str]) -> None:
    def act(node: NodeState) -> None:
        out(f'Stopping "{node.name}"...')
        if ctx.state(node) == "Stopped":
            raise Fail(f'Machine "{node.name}" is already stopped.')
        with ctx.locked():
            nodes.stop(ctx.paths, ctx.lab, node)
        out(f'Machine "{node.name}" was stopped.')

    _each(ctx, args, act)


def cmd_kill(ctx: Ctx, args: list[str]) -> None:
    def act(node: NodeState) -> None:
        out(f'Killing "{node.name}"...')
        if ctx.state(node) == "Stopped":
            raise Fail(f'Machine "{node.name}" is already stopped.')
        with ctx.locked():
            nodes.kill(ctx.paths, ctx.lab, node)
        out(f'Machine "{node.name}" was killed.')

    _each(ctx, args, act)


def _start(ctx: Ctx, node: NodeState) -> None:
    out(f'Starting "{node.name}"...')
    if ctx.state(node) == "Running":
        raise Fail(f'Machine "{node.name}" is already running.')
    with ctx.locked():
        try:
            nodes.start(ctx.paths, ctx.lab, node)
        except engine.EngineError as exc:
            raise Fail(str(exc)) from None
    out(f'Machine "{node.name}" was started.')


def cmd_start(ctx: Ctx, args: list[str]) -> None:
    _each(ctx, args, lambda node: _start(ctx, node))
    out(
        "Started machines may have new IP addresses. You may need to re-run the "
        f"`{PROG} env` command."
    )


def cmd_restart(ctx: Ctx, args: list[str]) -> None:
    def act(node: NodeState) -> None:
        out(f'Restarting "{node.name}"...')
        with ctx.locked():
            if ctx.state(node) == "Running":
                node = nodes.stop(ctx.paths, ctx.lab, node)
            try:
                nodes.start(ctx.paths, ctx.lab, node)
            except engine.EngineError as exc:
                raise Fail(str(exc)) from None

    _each(ctx, args, act)
    out(
        "Restarted machines may have new IP addresses. You may need to re-run the "
        f"`{PROG} env` command."
    )


def cmd_rm(ctx: Ctx, args: list[str]) -> None:
    flags, rest = split_flags(args, set())
    if not rest:
        raise Fail("Error: Expected to get one or more machine names as arguments")
    out(f"About to remove {', '.join(rest)}")
    out("WARNING: This action will delete both local reference and remote instance.")
    if "y" not in flags and "f" not in flags and "force" not in flags:
        sys.stdout.write("Are you sure? (y/n): ")
        sys.stdout.flush()
        answer = sys.stdin.readline()
        if not answer.strip().lower().startswith("y"):
            return
    errors = []
    for name in rest:
        try:
            node = nodes.find(ctx.paths, name)
        except nodes.NodeError as exc:
            errors.append(f'Error removing host "{name}": {exc}')
            continue
        with ctx.locked():
            nodes.remove(ctx.paths, ctx.lab, node)
        out(f"Successfully removed {name}")
    if errors:
        raise Fail("\n".join(errors))


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


def cmd_ssh(ctx: Ctx, args: list[str]) -> None:
    if not args:
        raise Fail("Error: Expected one machine name as an argument")
    node = ctx.node(args[0])
    pid = engine.pid(ctx.paths.node_dir(node.name))
    if pid is None:
        raise Fail(f'Error: Cannot run SSH command: Host "{node.name}" is not running')
    # The shell belongs to the node: stopping or removing the node ends it too.
    procs = cgroups.ensure(nodes.shell_group(ctx.lab.id, node)) / "cgroup.procs"
    procs.write_text(str(os.getpid()))
    _install_sudo(ctx.paths.node_dir(node.name))
    env = {
        "PATH": CLEAN_PATH + ":" + NODE_BIN,
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


def cmd_scp(ctx: Ctx, args: list[str]) -> None:
    from runner.lab import scp

    names = {n.name for n in load_nodes(ctx.paths)}

    def pid_of(name: str) -> int:
        pid = engine.pid(ctx.paths.node_dir(name))
        if pid is None:
            raise Fail(f'Error: Cannot run SCP command: Host "{name}" is not running')
        return pid

    try:
        scp.scp(args, names.__contains__, pid_of)
    except scp.ScpError as exc:
        raise Fail(str(exc)) from None


def cmd_version(ctx: Ctx, args: list[str]) -> None:
    if not args:
        out(VERSION)
        return
    node = running(ctx, args[0])
    v = engine.version(ctx.paths.node_dir(node.name))
    out(f"v{v}" if v else "Unknown")


def cmd_unsupported(ctx: Ctx, args: list[str]) -> None:
    raise Fail(
        f"Error: `{PROG} {ctx.typed[1]}` is not supported by the book lab, whose machines are "
        "Docker engines in network namespaces (no VM to upgrade, provision or re-certify)"
    )


COMMANDS: dict[str, Callable[[Ctx, list[str]], None]] = {
    "active": cmd_active,
    "config": cmd_config,
    "create": cmd_create,
    "env": cmd_env,
    "inspect": cmd_inspect,
    "ip": cmd_ip,
    "kill": cmd_kill,
    "ls": cmd_ls,
    "mount": cmd_unsupported,
    "provision": cmd_unsupported,
    "regenerate-certs": cmd_unsupported,
    "upgrade": cmd_unsupported,
    "restart": cmd_restart,
    "rm": cmd_rm,
    "scp": cmd_scp,
    "ssh": cmd_ssh,
    "start": cmd_start,
    "status": cmd_status,
    "stop": cmd_stop,
    "url": cmd_url,
    "version": cmd_version,
}
HELP = (
    f"""Usage: {PROG} [OPTIONS] COMMAND [arg...]

Create and manage machines running Docker.
(Book lab stand-in: every machine is a Docker engine in a network namespace of this host.)

Commands:
"""
    + "".join(f"  {name}\n" for name in COMMANDS)
    + f"""
Run '{PROG} COMMAND --help' for more information on a command.
"""
)


def main(argv: list[str]) -> int:
    args = argv[1:]
    storage = os.environ.get("MACHINE_STORAGE_PATH", "")
    while args and args[0].startswith("-"):
        flag = args.pop(0)
        if flag in ("-v", "--version"):
            out(VERSION)
            return 0
        if flag in ("-h", "--help"):
            sys.stdout.write(HELP)
            return 0
        if flag in ("-s", "--storage-path") and args:
            storage = args.pop(0)
        elif flag.startswith("--storage-path="):
            storage = flag.split("=", 1)[1]
    if not args or args[0] == "help":
        sys.stdout.write(HELP)
        return 0
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        sys.stderr.write(f"{PROG}: '{name}' is not a {PROG} command. See '{PROG} --help'.\n")
        return 1
    if not storage:
        sys.stderr.write(
            "Error: MACHINE_STORAGE_PATH is not set: this docker-machine runs only "
            "inside a book lab session (python -m runner lab up)\n"
        )
        return 1
    if any(a in ("-h", "--help") for a in rest) and name != "ssh":
        out(
            f"Usage: {PROG} {name} [OPTIONS] [arg...]\n\nSee docker-machine's documentation; "
            "this book lab stand-in accepts the same options."
        )
        return 0
    try:
        ctx = Ctx(Path(storage), [PROG, *args])
        COMMANDS[name](ctx, rest)
    except Fail as exc:
        sys.stdout.flush()
        sys.stderr.write(f"{exc}\n")
        return 1
    except (nodes.NodeError, engine.EngineError, OSError) as exc:
        sys.stdout.flush()
        sys.stderr.write(f"Error: {exc}\n")
        return 1
    return 0
