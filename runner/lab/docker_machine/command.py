"""`docker-machine` for the netns lab: the commands readers type, on real engines.

It finds its lab through MACHINE_STORAGE_PATH (docker-machine's own variable, set by
`Lab.session_env()`), whose parent folder is the lab's. Output formats, messages and exit
statuses follow docker-machine 0.16; the DRIVER column says what really runs a node (`netns`),
and `create` says which driver it stands in for. Imports stay light: it runs per command.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from runner.lab.docker_machine.context import PROG, VERSION, CommandFailed, Context, out
from runner.lab.docker_machine.lifecycle import (
    cmd_create,
    cmd_kill,
    cmd_restart,
    cmd_rm,
    cmd_scp,
    cmd_ssh,
    cmd_start,
    cmd_stop,
    cmd_unsupported,
)
from runner.lab.docker_machine.queries import (
    cmd_active,
    cmd_config,
    cmd_env,
    cmd_inspect,
    cmd_ip,
    cmd_ls,
    cmd_status,
    cmd_url,
    cmd_version,
)
from runner.lab.errors import LabFault

COMMANDS: dict[str, Callable[[Context, list[str]], None]] = {
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


def quiet_broken_pipe() -> int:
    """`docker-machine ls | head -1`: the reader left; end quietly, as SIGPIPE ends the Go
    binary (the shell sees 128 + SIGPIPE)."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 141


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
        ctx = Context(Path(storage), [PROG, *args])
        COMMANDS[name](ctx, rest)
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
    except BrokenPipeError:
        return quiet_broken_pipe()
    except CommandFailed as exc:
        sys.stdout.flush()
        sys.stderr.write(f"{exc}\n")
        return 1
    except (LabFault, subprocess.CalledProcessError, OSError) as exc:
        sys.stdout.flush()
        sys.stderr.write(f"Error: {exc}\n")
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a reader sees a message, never a traceback
        sys.stdout.flush()
        sys.stderr.write(
            f"Error: {exc} (unexpected {type(exc).__name__} in the book lab's docker-machine, "
            "runner/lab/docker_machine/: please report it with the command line)\n"
        )
        return 1
    return 0
