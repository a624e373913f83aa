"""Lab up time (every engine answering, images loaded) for 1, 4 and 8 nodes, and teardown time.

Goals on a 2-core machine: 4 nodes ready in under 5 s, torn down in under 3 s (docker-machine
with VirtualBox needs the better part of a minute per node). The baseline measured in the same
run is one bare dockerd in a network namespace, started and answering with nothing else
(no bridge, TLS, images or bookkeeping): what the lab adds is the difference.
"""

from __future__ import annotations

import contextlib
import os
import signal
import statistics
import subprocess
import time
from pathlib import Path

from runner.lab import census, engine, engines
from runner.lab.netns import NetnsProvider, preflight

ROUNDS = 3
SIZES = (1, 4, 8)


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _kill_bench_processes(base: str) -> None:
    """Whatever runs with the bench's folder on its command line (dockerd, containerd)."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if base in cmdline and int(proc.name) != os.getpid():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(proc.name), signal.SIGKILL)


def _bare_dockerd(generation: str = engines.DEFAULT) -> float:
    """One dockerd in a throwaway netns, answering its socket; torn down afterwards."""
    # Named after this process: two benchmarks at once (other worktrees) must not collide.
    ns, base = f"bklbench{os.getpid()}", f"/run/book-lab-bench-{os.getpid()}"
    tools = engines.bundle(generation).bin  # the lab's engines, never the host's
    start = time.perf_counter()
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        subprocess.run(
            ["setsid", "-f", "nsenter", f"--net=/run/netns/{ns}", "unshare", "--mount", "--uts",
             "--propagation", "private", "sh", "-c",
             # tmpfs on /etc/docker: dockerd writes key.json there
             f"mkdir -p {base}/data {base}/exec; mount -t tmpfs bench /etc/docker; "
             f"PATH={tools}:$PATH exec dockerd --data-root {base}/data --exec-root {base}/exec "
             f"-H unix://{base}/s "
             f"--pidfile {base}/pid >{base}.log 2>&1"],
            check=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError):
                if engine.api(Path(f"{base}/s"), "GET", "/_ping")[0] == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the baseline dockerd did not answer; see {base}.log")
            time.sleep(0.01)
        elapsed = time.perf_counter() - start
        pid = int(Path(f"{base}/pid").read_text())
        os.kill(pid, signal.SIGTERM)
        while _running(pid):
            time.sleep(0.02)
    finally:
        _kill_bench_processes(base)
        subprocess.run(["ip", "netns", "del", ns], check=False)
        subprocess.run(["rm", "-rf", base, f"{base}.log"], check=False)
    return elapsed


def run() -> None:
    preflight()
    provider = NetnsProvider()
    warm = provider.up(("warm",))  # builds the image cache once, outside the timings
    warm.down()
    baseline = statistics.median(_bare_dockerd() for _ in range(ROUNDS))
    print(f"baseline: one bare dockerd in a netns answering: {baseline:.2f} s (median of {ROUNDS})")
    results: dict[int, tuple[float, float]] = {}
    for size in SIZES:
        ups, downs = [], []
        for _ in range(ROUNDS):
            names = tuple(f"node-{i:02d}" for i in range(1, size + 1))
            t0 = time.perf_counter()
            lab = provider.up(names)
            t1 = time.perf_counter()
            lab.down()
            t2 = time.perf_counter()
            ups.append(t1 - t0)
            downs.append(t2 - t1)
            assert not [r for r in census.census() if r.lab == lab.state.id]
        results[size] = (statistics.median(ups), statistics.median(downs))
        print(
            f"lab up {size} node(s): {results[size][0]:.2f} s, teardown {results[size][1]:.2f} s"
            f"  (median of {ROUNDS}; up = {results[size][0] / baseline:.1f}x baseline)"
        )
    up4, down4 = results[4]
    print(
        f"goal 4 nodes ready < 5 s: {'met' if up4 < 5 else 'MISSED'} ({up4:.2f} s); "
        f"teardown < 3 s: {'met' if down4 < 3 else 'MISSED'} ({down4:.2f} s)"
    )


def _book_engines() -> tuple[str, ...]:
    from runner import bookconfig

    return bookconfig.load(Path(__file__).resolve().parents[1]).engines


def engines_run() -> None:
    """4-node lab up on each engine of the book, warm cache, against the default engine (the
    book's primary) measured in the same run, rounds interleaved so load drifts hit all."""
    book = _book_engines()
    for name in book:
        engines.bundle(name)  # warm: fetching is not what is measured
    names = tuple(f"node-{i:02d}" for i in range(1, 5))
    ups: dict[str, list[float]] = {name: [] for name in book}
    bare: dict[str, list[float]] = {name: [] for name in book}
    for _ in range(ROUNDS):
        for name in book:
            bare[name].append(_bare_dockerd(name))
            t0 = time.perf_counter()
            lab = NetnsProvider(engine=name).up(names)
            ups[name].append(time.perf_counter() - t0)
            lab.down()
    base = statistics.median(ups[book[0]])
    base_added = base - statistics.median(bare[book[0]])
    for name in book:
        up, alone = statistics.median(ups[name]), statistics.median(bare[name])
        # What the lab adds over that engine's own start: switching engines should not move it.
        print(
            f"engine {name}: 4-node lab up {up:.2f} s (median of {ROUNDS}), {up / base:.2f}x "
            f"the default engine {book[0]} ({base:.2f} s); one bare dockerd of {name} answers "
            f"in {alone:.2f} s, so the lab adds {up - alone:.2f} s (default: {base_added:.2f} s)"
        )
