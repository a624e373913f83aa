"""One node's Docker engine: a real dockerd in the node's network namespace plus its own UTS
and mount namespaces, started detached, talked to over its unix socket.

`ip netns exec` is not used: it remounts /sys, hides the cgroup hierarchy and dockerd dies
with "Devices cgroup isn't mounted". Entering only the network namespace (nsenter) and
unsharing UTS and mount namespaces works. Inside the node's mount namespace, the node's own
folders are bound over /var/log, /var/lib/docker, /etc/docker, /home, /tmp and /run, so the node
sees its own engine log, data, certificates, sockets, /tmp and /home at the usual paths.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any, BinaryIO

from runner.lab import cgroups
from runner.lab.errors import LabFault

# The supervisor shell: enters the node's cgroup, names the host, binds the node's folders,
# runs dockerd and records how it ended (read back by Lab.problems()).
START_SCRIPT = r"""
set -e
echo $$ > "$LAB_CGROUP_PROCS"
echo $$ > "$LAB_NODE_DIR/supervisor.pid"
hostname "$LAB_NODE"
mount --bind "$LAB_NODE_DIR/log" /var/log
mount -t tmpfs -o mode=755 booklab-varlib /var/lib
mkdir /var/lib/docker
mount --bind "$LAB_NODE_DIR/docker" /var/lib/docker
mount --bind "$LAB_NODE_DIR/tls" /etc/docker
mount --bind "$LAB_NODE_DIR/home" /home
mount --bind "$LAB_NODE_DIR/tmp" /tmp
for f in hostname hosts; do
    if [ -f "/etc/$f" ]; then mount --bind "$LAB_NODE_DIR/etc/$f" "/etc/$f"; fi
done
mount --bind "$LAB_NODE_DIR/run" /run
cd /
rm -f /var/log/docker.exit
set +e
dockerd "$@" >>/var/log/docker.log 2>&1 </dev/null
echo "$?" >/var/log/docker.exit
"""
CLEAN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class EngineError(LabFault):
    pass


def api(
    sock: Path,
    method: str,
    url: str,
    body: BinaryIO | None = None,
    timeout: float = 10.0,
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    """One HTTP/1.0 request to the engine's unix socket (the engine then answers without
    chunking and closes). Hand-written: http.client alone doubles the stand-in's start time."""
    head = f"{method} {url} HTTP/1.0\r\nHost: docker\r\n"
    for key, value in (headers or {}).items():
        head += f"{key}: {value}\r\n"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(timeout)
        conn.connect(str(sock))
        conn.sendall((head + "\r\n").encode())
        if body is not None:
            conn.sendfile(body)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    raw = b"".join(chunks)
    status_line, _, rest = raw.partition(b"\r\n")
    parts = status_line.split()
    if len(parts) < 2 or not parts[1].isdigit():
        raise OSError(f"bad answer from {sock}: {status_line[:80]!r}")
    return int(parts[1]), rest.partition(b"\r\n\r\n")[2]


def socket_path(node_dir: Path) -> Path:
    return node_dir / "run" / "docker.sock"


def log_path(node_dir: Path) -> Path:
    return node_dir / "log" / "docker.log"


def prepare_dirs(node: str, node_dir: Path) -> None:
    for sub in ("log", "docker", "tls", "run", "home/docker", "etc", "tmp"):
        (node_dir / sub).mkdir(parents=True, exist_ok=True)
    (node_dir / "tmp").chmod(0o1777)
    # The node's own /etc/hostname and /etc/hosts, as on a machine of that name.
    (node_dir / "etc/hostname").write_text(node + "\n")
    (node_dir / "etc/hosts").write_text(
        f"127.0.0.1\tlocalhost\n127.0.1.1\t{node}\n::1\tlocalhost ip6-localhost ip6-loopback\n"
    )
    # No bracketed-paste escapes in `docker-machine ssh` shells driven through a pty.
    (node_dir / "home/docker/.inputrc").write_text("set enable-bracketed-paste off\n")


def dockerd_args(ip: str, cgroup_parent: str, labels: tuple[str, ...], storage: str) -> list[str]:
    args = [
        "--debug",
        "-H",
        "unix:///var/run/docker.sock",
        "-H",
        f"tcp://{ip}:2376",
        "--tlsverify",
        "--tlscacert=/etc/docker/ca.pem",
        "--tlscert=/etc/docker/server.pem",
        "--tlskey=/etc/docker/server-key.pem",
        f"--cgroup-parent={cgroup_parent}",
        f"--storage-driver={storage}",
        "--label=provider=netns",
    ]
    return args + [f"--label={label}" for label in labels]


def start(node: str, node_dir: Path, netns: str, engine_group: str, args: list[str]) -> None:
    """Start the engine detached (double fork: init, not the caller, is its parent)."""
    prepare_dirs(node, node_dir)
    (node_dir / "log" / "docker.exit").unlink(missing_ok=True)
    procs = cgroups.ensure(engine_group) / "cgroup.procs"
    env = {
        "PATH": CLEAN_PATH,
        "LAB_NODE": node,
        "LAB_NODE_DIR": str(node_dir),
        "LAB_CGROUP_PROCS": str(procs),
    }
    cmd = [
        "setsid",
        "-f",
        "nsenter",
        f"--net=/run/netns/{netns}",
        "unshare",
        "--uts",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        START_SCRIPT,
        "lab-node",
        *args,
    ]
    with open(log_path(node_dir), "ab") as log:
        subprocess.run(
            cmd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            check=True,
            close_fds=True,
        )


def ping(node_dir: Path, timeout: float = 1.0) -> bool:
    try:
        status, _ = api(socket_path(node_dir), "GET", "/_ping", timeout=timeout)
        return status == 200
    except OSError:
        return False


def wait_ready(
    node: str, node_dir: Path, timeout: float = 30.0, abort: threading.Event | None = None
) -> None:
    """Wait for the engine to answer; `abort` (Ctrl-C during lab start) stops waiting."""
    deadline = time.monotonic() + timeout
    while not ping(node_dir, timeout=0.2 if abort is not None else 1.0):
        if abort is not None and abort.is_set():
            raise EngineError(f"engine of {node}: the lab start was interrupted")
        if time.monotonic() > deadline or exit_status(node_dir) is not None:
            raise EngineError(
                f"engine of {node} did not answer within {timeout:.0f} s; "
                f"last log lines:\n{log_tail(node_dir)}"
            )
        time.sleep(0.02)


def version(node_dir: Path) -> str | None:
    try:
        status, body = api(socket_path(node_dir), "GET", "/version", timeout=3.0)
    except OSError:
        return None
    if status != 200:
        return None
    data: dict[str, Any] = json.loads(body)
    return str(data.get("Version"))


def load_images(node: str, node_dir: Path, archive: Path) -> None:
    size = archive.stat().st_size
    with archive.open("rb") as fh:
        status, body = api(
            socket_path(node_dir),
            "POST",
            "/images/load?quiet=1",
            body=fh,
            timeout=60.0,
            headers={"Content-Type": "application/x-tar", "Content-Length": str(size)},
        )
    if status != 200 or b'"error' in body:
        raise EngineError(f"loading the lab images into {node} failed: {body[:300]!r}")


def tag_image(node: str, node_dir: Path, source: str, target: str) -> bool:
    """Tag `source` as `target` (`name` or `name:tag`); False if `source` is not there."""
    repo, _, tag = target.rpartition(":") if ":" in target.rsplit("/", 1)[-1] else (target, "", "")
    query = urllib.parse.urlencode({"repo": repo, "tag": tag or "latest"})
    status, body = api(
        socket_path(node_dir), "POST", f"/images/{urllib.parse.quote(source)}/tag?{query}"
    )
    if status == 404:
        return False
    if status != 201:
        raise EngineError(f"tagging {source} as {target} on {node} failed: {body[:300]!r}")
    return True


def pid(node_dir: Path) -> int | None:
    """The running dockerd's pid, or None when it is not running."""
    try:
        value = int((node_dir / "run" / "docker.pid").read_text().strip())
    except (OSError, ValueError):
        return None
    return value if _alive(value, "dockerd") else None


def _alive(pid: int, name: str) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return f"({name})" in stat and stat.rsplit(")", 1)[1].split()[0] != "Z"


def starting(node_dir: Path) -> bool:
    """The supervising shell runs and dockerd has not ended (nor written its pid yet)."""
    try:
        sup = int((node_dir / "supervisor.pid").read_text().strip())
    except (OSError, ValueError):
        return False
    return _alive(sup, "sh") and exit_status(node_dir) is None


def exit_status(node_dir: Path) -> int | None:
    try:
        return int((node_dir / "log" / "docker.exit").read_text().strip())
    except (OSError, ValueError):
        return None


def log_tail(node_dir: Path, lines: int = 20) -> str:
    try:
        with log_path(node_dir).open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 16384))
            text = fh.read().decode("utf-8", "replace")
    except OSError:
        return "(no engine log)"
    return "\n".join(text.splitlines()[-lines:])


def stop(node_dir: Path, node_group: str, timeout: float = 20.0) -> None:
    """Graceful: SIGTERM dockerd (it stops its containers), then kill what is left."""
    p = pid(node_dir)
    if p is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(p, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while pid(node_dir) is not None and time.monotonic() < deadline:
            time.sleep(0.05)
    kill(node_group)


def kill(node_group: str) -> None:
    if not cgroups.kill_all(node_group):
        raise EngineError(f"processes of cgroup {node_group} survived SIGKILL")
