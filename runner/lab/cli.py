"""`python -m runner lab up|down|status|census`: a lab by hand, and the machine's lab census.

    lab up [NODE...] [--nodes N]   a lab kept until `lab down`; prints the lines to eval
    lab down [LAB...] [--all]      stale labs (their maker died), and the labs named;
                                   --all: every lab, also those of runs still going
    lab status                     every lab, its nodes and their state
    lab census                     every lab resource on the machine; exit 0 only if none

Exit status 2 when the lab cannot be had here (not root, missing packages...).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys

from runner.lab import census as census_mod
from runner.lab import nodes
from runner.lab.base import LabError
from runner.lab.netns import NetnsProvider, attach
from runner.lab.state import (
    ROOT,
    LabPaths,
    global_lock,
    lab_ids,
    load_lab,
    load_nodes,
    owner_alive,
)
from runner.run.home import clean_stale_homes
from runner.run.tracking import clean_stale as clean_stale_sessions


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m runner lab",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="action", required=True)
    up = sub.add_parser("up", help="create a lab kept until `lab down`")
    up.add_argument("names", nargs="*", help="node names (default: node-01..node-N)")
    up.add_argument("--nodes", type=int, default=None, help="number of nodes node-01..")
    down = sub.add_parser("down", help="remove stale labs, and the labs named")
    down.add_argument("labs", nargs="*", help="lab ids to remove (stale labs always are)")
    down.add_argument("--all", action="store_true", help="every lab, even of running runs")
    sub.add_parser("status", help="list labs and their nodes")
    sub.add_parser("census", help="list every lab resource; exit 0 only when there is none")
    return p


def _up(names: list[str], count: int | None) -> int:
    wanted = tuple(names) or tuple(f"node-{i:02d}" for i in range(1, (count or 0) + 1))
    lab = NetnsProvider(manual=True).up(wanted)
    env = lab.session_env()
    print(
        f"# lab {lab.state.id} ({lab.state.subnet}) with {len(wanted)} node(s); "
        f"remove it with: python -m runner lab down {lab.state.id}"
    )
    for key, value in env.items():
        print(f"export {key}={shlex.quote(value)}")
    return 0


def _down(labs: list[str], everything: bool) -> int:
    removed = census_mod.clean_stale()
    for line in removed:
        print(f"removed (stale) {line}")
    for home in clean_stale_homes():
        print(f"removed (stale) session home {home}")
    for group in clean_stale_sessions():
        print(f"removed (stale) session cgroup {group}")
    # Without names, only stale labs go: a live lab may be another user's (made by hand).
    targets = lab_ids() if everything else labs
    status = 0
    for lab_id in targets:
        if not (ROOT / lab_id).is_dir():
            print(f"no lab {lab_id}", file=sys.stderr)
            status = 1
            continue
        attach(lab_id).down()
        print(f"removed lab {lab_id}")
    kept = [lab_id for lab_id in lab_ids() if lab_id not in targets]
    if kept and not labs:
        print(f"kept live lab(s) {', '.join(kept)}: name one to remove it (or use --all)")
    with global_lock():
        census_mod.tidy_root()
    return status


def _status() -> int:
    ids = lab_ids()
    if not ids:
        print("no lab")
    for lab_id in ids:
        paths = LabPaths.of(lab_id)
        state = load_lab(paths)
        if state is None:
            print(f"lab {lab_id}: unreadable (stale? `python -m runner lab down`)")
            continue
        owner = _owner(lab_id, state.manual, state.complete, state.owner_pid)
        print(f"lab {lab_id}  {state.subnet}  {owner}  MACHINE_STORAGE_PATH={paths.storage}")
        for node in load_nodes(paths):
            print(f"  {node.name:<16} {node.ip:<16} {nodes.state(paths, node)}")
    return 0


def _owner(lab_id: str, manual: bool, complete: bool, pid: int) -> str:
    if owner_alive(LabPaths.of(lab_id)):
        return f"being made by `lab up` {pid}" if manual and not complete else f"run {pid}"
    if manual and complete:
        return "by hand"
    return "stale (its maker died; the next start or `lab down` removes it)"


def _census() -> int:
    found = census_mod.census()
    for resource in found:
        print(resource)
    if not found:
        print("no lab resource on this machine")
    return 0 if not found else 1


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.action == "up":
            return _up(args.names, args.nodes)
        if args.action == "down":
            return _down(args.labs, args.all)
        status = _status() if args.action == "status" else _census()
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return status
    except BrokenPipeError:  # `lab status | head -1`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except LabError as exc:
        print(f"lab: {exc}", file=sys.stderr)
        return 2
    except PermissionError as exc:
        print(f"lab: {exc}: run as root", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
