"""The docker-machine commands that only look: ls, ip, url, status, env, config, inspect,
active, version. Output is docker-machine 0.16's, byte for byte where it is documented."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

from runner.lab import nodes
from runner.lab.docker_machine import gotemplate
from runner.lab.docker_machine.context import (
    VERSION,
    CommandFailed,
    Context,
    each,
    out,
    running,
    split_flags,
)
from runner.lab.state import NodeState, load_nodes

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


def ls_item(ctx: Context, node: NodeState, docker_host: str) -> dict[str, Any]:
    st = ctx.state(node)
    url = ctx.url(node) if st == "Running" else ""
    version = "Unknown"
    error = ""
    if st == "Running":
        v = ctx.engine_version(node)
        version = f"v{v}" if v else "Unknown"
    elif st == "Error":
        error = ctx.node_error(node)
    active = st == "Running" and url == docker_host
    return {
        "Name": node.name,
        "Active": "*" if active else "-",
        "ActiveHost": active,
        "ActiveSwarm": False,
        "DriverName": ctx.driver_name,
        "State": st,
        "URL": url,
        "SwarmOptions": None,
        "Swarm": "",
        "EngineOptions": None,
        "Error": error,
        "DockerVersion": version,
        "ResponseTime": "0s",
    }


FILTER_KEYS = ("swarm", "driver", "state", "name", "label")


def cmd_ls(ctx: Context, args: list[str]) -> None:
    flags, _rest = split_flags(args, {"filter", "format", "f", "timeout", "t"})
    wanted: dict[str, list[str]] = {}
    for f in flags.get("filter", []):
        key, eq, value = f.partition("=")
        if not eq:
            raise CommandFailed("Unsupported filter syntax.")
        key = key.lower()
        if key not in FILTER_KEYS:
            raise CommandFailed(f"Unsupported filter key '{key}'")
        wanted.setdefault(key, []).append(value)
    all_nodes = [n for n in load_nodes(ctx.paths) if _matches(ctx, n, wanted)]
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
        raise CommandFailed(str(exc)) from None
    sys.stdout.write(gotemplate.tabwrite(text) if table else text)


def _matches(ctx: Context, node: NodeState, wanted: dict[str, list[str]]) -> bool:
    """docker-machine's filterHost: values of one key are OR'd, keys AND'd."""
    found = True
    for key in FILTER_KEYS:
        values = wanted.get(key)
        # Every key is evaluated (as filterHost does), so a bad name regexp always fails.
        if values and not any(_filter(ctx, node, key, v) for v in values):
            found = False
    return found


def _filter(ctx: Context, node: NodeState, key: str, value: str) -> bool:
    if key == "name":
        try:
            return re.search(value, node.name) is not None
        except re.error as exc:
            raise CommandFailed(go_regexp_error(value, exc)) from None
    if key == "driver":
        return value.lower() == ctx.driver_name
    if key == "state":
        return value.lower() == ctx.state(node).lower()
    if key == "label":
        return value in node.labels
    return False  # swarm: no node here is a (legacy) swarm master


def go_regexp_error(pattern: str, exc: re.error) -> str:
    """Go's regexp.Compile message for the errors Python's re also finds."""
    pos = exc.pos or 0
    msg = exc.msg
    if msg.startswith("unterminated character set"):
        code, expr = "missing closing ]", pattern[pos:]
    elif msg.startswith("missing ), unterminated subpattern"):
        code, expr = "missing closing )", pattern
    elif msg.startswith("unbalanced parenthesis"):
        code, expr = "unexpected )", pattern
    elif msg.startswith("nothing to repeat"):
        code, expr = "missing argument to repetition operator", pattern[pos : pos + 1]
    elif msg.startswith("multiple repeat"):
        code, expr = "invalid nested repetition operator", pattern[pos - 1 : pos + 1]
    elif msg.startswith("bad escape (end of pattern)"):
        code, expr = "trailing backslash at end of expression", ""
    elif msg.startswith("bad escape"):
        code, expr = "invalid escape sequence", pattern[pos : pos + 2]
    elif msg.startswith("bad character range"):
        code, expr = "invalid character class range", msg.rsplit(" ", 1)[-1]
    else:
        code, expr = msg, pattern
    return f"error parsing regexp: {code}: `{expr}`"


def cmd_ip(ctx: Context, args: list[str]) -> None:
    def act(node: NodeState) -> None:
        if ctx.state(node) != "Running":
            raise CommandFailed("Error getting IP address: Host is not running")
        out(node.ip)

    each(ctx, args, act)


def cmd_url(ctx: Context, args: list[str]) -> None:
    if len(args) > 1:
        raise CommandFailed("Error: Expected one machine name as an argument")
    out(ctx.url(running(ctx, ctx.default_name(args)[0])))


def cmd_status(ctx: Context, args: list[str]) -> None:
    if len(args) > 1:
        raise CommandFailed("Error: Expected one machine name as an argument")
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


def not_running(node: NodeState) -> str:
    """docker-machine's connection check on a machine that is not running."""
    return f"{node.name} is not running. Please start it in order to use the connection settings"


def cmd_env(ctx: Context, args: list[str]) -> None:
    flags, rest = split_flags(args, {"shell"})
    unset = "unset" in flags or "u" in flags
    shell = (flags.get("shell") or [""])[-1] or Path(os.environ.get("SHELL", "bash")).name
    if shell not in ENV_SHELLS:
        shell = "bash"
    pre, delim, suf, upre, udelim, usuf = ENV_SHELLS[shell]
    names = ["DOCKER_TLS_VERIFY", "DOCKER_HOST", "DOCKER_CERT_PATH", "DOCKER_MACHINE_NAME"]
    if unset:
        if rest:
            raise CommandFailed("Error: Expected no machine name when the -u flag is present")
        body = "".join(f"{upre}{n}{udelim}{usuf}" for n in names)
        sys.stdout.write(body + usage_hint(shell, ctx.typed))
        return
    if len(rest) > 1:
        raise CommandFailed("Error: Expected one machine name as an argument")
    node = ctx.node(ctx.default_name(rest)[0])
    if ctx.state(node) != "Running":
        raise CommandFailed(f"Error checking TLS connection: {not_running(node)}")
    values = ["1", ctx.url(node), str(ctx.paths.machine_dir(node.name)), node.name]
    body = "".join(f"{pre}{n}{delim}{v}{suf}" for n, v in zip(names, values, strict=True))
    sys.stdout.write(body + usage_hint(shell, ctx.typed))


def cmd_config(ctx: Context, args: list[str]) -> None:
    _flags, rest = split_flags(args, set())
    node = ctx.node(ctx.default_name(rest)[0])  # docker-machine ignores further names
    if ctx.state(node) != "Running":
        raise CommandFailed(f"Error running connection boilerplate: {not_running(node)}")
    certs = ctx.paths.certs
    out(
        f'--tlsverify\n--tlscacert="{certs / "ca.pem"}"\n--tlscert="{certs / "cert.pem"}"\n'
        f'--tlskey="{certs / "key.pem"}"\n-H={ctx.url(node)}'
    )


def inspect_data(ctx: Context, node: NodeState) -> dict[str, Any]:
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
            **(
                {"SSHKeyPath": str(ctx.paths.dir / "ssh" / "id_ed25519")}
                if ctx.vm
                else {"Namespace": node.netns(ctx.lab.id)}
            ),
            "StandsInFor": node.driver,
        },
        "DriverName": ctx.driver_name,
        "HostOptions": {
            "Driver": "",
            "Memory": 0,
            "Disk": 0,
            "EngineOptions": {
                "Labels": list(node.labels),
                "StorageDriver": "overlay2" if ctx.vm else nodes.storage_driver(),
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


def cmd_inspect(ctx: Context, args: list[str]) -> None:
    flags, rest = split_flags(args, {"format", "f"})
    names = ctx.default_name(rest)
    if len(names) != 1:
        raise CommandFailed("Error: Expected one machine name as an argument")
    data = inspect_data(ctx, ctx.node(names[0]))
    fmt = (flags.get("format") or flags.get("f") or [""])[-1]
    if not fmt:
        out(json.dumps(data, indent=4))
        return
    try:
        out(gotemplate.render(fmt, data))
    except gotemplate.TemplateError as exc:
        raise CommandFailed(f"Template parsing error: {exc}") from None


def cmd_active(ctx: Context, args: list[str]) -> None:
    if args and not args[0].startswith("-"):
        raise CommandFailed("Error: Too many arguments given")
    docker_host = os.environ.get("DOCKER_HOST", "")
    for node in load_nodes(ctx.paths):
        if ctx.state(node) == "Running" and ctx.url(node) == docker_host:
            out(node.name)
            return
    raise CommandFailed("No active host found")


def cmd_version(ctx: Context, args: list[str]) -> None:
    if not args:
        out(VERSION)
        return
    node = running(ctx, args[0])
    v = ctx.engine_version(node)
    out(f"v{v}" if v else "Unknown")
