"""The lab's network: one bridge per lab on the host, one network namespace per node joined
to it by a veth pair, and one iptables ACCEPT rule so bridged node-to-node traffic survives a
FORWARD policy of DROP (set as soon as any dockerd runs on the host) under bridge netfilter.

Addresses come from a /24 that no route of the machine uses and no other lab holds, starting
with docker-machine's VirtualBox network (192.168.99.0/24): nodes get .100, .101... as there.
"""

from __future__ import annotations

import ipaddress
import json
import subprocess
from collections.abc import Iterable

from runner.lab.errors import LabFault
from runner.lab.state import PREFIX

CANDIDATES = [f"192.168.{n}.0/24" for n in range(99, 255)] + [
    f"172.{a}.{b}.0/24" for a in range(28, 32) for b in range(0, 256, 1)
]
FIRST_HOST = 100


class NetError(LabFault):
    pass


def run(args: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(args, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise NetError(f"{' '.join(args)}: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc


def used_networks() -> list[ipaddress.IPv4Network]:
    """Networks of every IPv4 route (all tables) and every address on the machine."""
    nets: list[ipaddress.IPv4Network] = []
    out = run(["ip", "-j", "-4", "route", "show", "table", "all"], check=False).stdout
    for route in json.loads(out or "[]"):
        dst = route.get("dst", "")
        if dst in ("", "default") or ":" in dst:
            continue
        try:
            nets.append(ipaddress.IPv4Network(dst if "/" in dst else dst + "/32", strict=False))
        except ValueError:
            continue
    out = run(["ip", "-j", "-4", "addr"], check=False).stdout
    for link in json.loads(out or "[]"):
        for a in link.get("addr_info", []):
            nets.append(ipaddress.IPv4Network(f"{a['local']}/{a['prefixlen']}", strict=False))
    return nets


def choose_subnet(taken_by_labs: Iterable[str]) -> str:
    """First candidate /24 overlapping no route, no address and no other lab."""
    used = used_networks()
    taken = {ipaddress.IPv4Network(s) for s in taken_by_labs}
    for cand in CANDIDATES:
        net = ipaddress.IPv4Network(cand)
        if net in taken or any(net.overlaps(u) for u in used):
            continue
        return cand
    raise NetError("no free /24 left for a lab (192.168.99-254.0/24 and 172.28-31.x.0/24)")


def node_ip(subnet: str, index: int) -> str:
    return str(ipaddress.IPv4Network(subnet).network_address + FIRST_HOST + index)


def rule_args(bridge: str) -> list[str]:
    return [
        "FORWARD",
        "-i",
        bridge,
        "-o",
        bridge,
        "-j",
        "ACCEPT",
        "-m",
        "comment",
        "--comment",
        f"book lab {bridge}",
    ]


def create_bridge(bridge: str, gateway: str, prefixlen: int) -> None:
    run(["ip", "link", "add", bridge, "type", "bridge"])
    run(["ip", "addr", "add", f"{gateway}/{prefixlen}", "dev", bridge])
    run(["ip", "link", "set", bridge, "up"])
    run(["iptables", "-w", "-I", *rule_args(bridge)])


def remove_bridge(bridge: str) -> None:
    while run(["iptables", "-w", "-D", *rule_args(bridge)], check=False).returncode == 0:
        pass
    run(["ip", "link", "del", bridge], check=False)


def create_node_net(
    lab_id: str, bridge: str, netns: str, veth: str, ip: str, prefixlen: int, gateway: str
) -> None:
    run(["ip", "netns", "add", netns])
    run(["ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", netns])
    run(["ip", "link", "set", veth, "master", bridge, "up"])
    run(["ip", "-n", netns, "addr", "add", f"{ip}/{prefixlen}", "dev", "eth0"])
    run(["ip", "-n", netns, "link", "set", "eth0", "up"])
    run(["ip", "-n", netns, "link", "set", "lo", "up"])
    # No way out of the lab subnet: an engine's registry or DNS lookups fail at once
    # ("network is unreachable") instead of timing out, and nothing leaves the machine.
    run(["ip", "-n", netns, "route", "add", "unreachable", "default"])


def remove_node_net(netns: str, veth: str) -> None:
    run(["ip", "link", "del", veth], check=False)
    run(["ip", "netns", "del", netns], check=False)


def lab_objects() -> dict[str, list[str]]:
    """Lab id -> kernel network objects found for it (links, netns, iptables rules)."""
    out: dict[str, list[str]] = {}
    links = json.loads(run(["ip", "-j", "link"], check=False).stdout or "[]")
    for link in links:
        name = link.get("ifname", "")
        if name.startswith(PREFIX):
            lab = name[len(PREFIX) : len(PREFIX) + 6]
            out.setdefault(lab, []).append(f"link {name}")
    for line in run(["ip", "netns", "list"], check=False).stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        if name.startswith(PREFIX):
            out.setdefault(name[len(PREFIX) : len(PREFIX) + 6], []).append(f"netns {name}")
    for line in run(["iptables", "-w", "-S", "FORWARD"], check=False).stdout.splitlines():
        if "book lab " + PREFIX in line:
            lab = line.split("book lab " + PREFIX)[1][:6]
            out.setdefault(lab, []).append(f"iptables {line}")
    return out


def remove_lab_objects(lab_id: str) -> None:
    """Remove every network object named after `lab_id` (used for stale labs)."""
    for entry in lab_objects().get(lab_id, []):
        kind, _, name = entry.partition(" ")
        if kind == "netns":
            run(["ip", "netns", "del", name], check=False)
        elif kind == "link" and name != f"{PREFIX}{lab_id}":
            run(["ip", "link", "del", name], check=False)
    remove_bridge(f"{PREFIX}{lab_id}")
