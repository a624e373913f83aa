"""Docker Engine generations for the lab, fetched from Debian's archive and cached by version.

    bundle = engines.bundle("26.1")     # fetched once, then read from the cache
    bundle.bin                          # dockerd, containerd, runc, docker-proxy... (for PATH)
    bundle.client                       # only the matching `docker` client (for sessions)

A generation ("20.10", "26.1", "28.5") is whatever Debian suite serves a docker.io of that
upstream version today; the engine comes with that suite's containerd, runc, docker CLI and
tini. Packages are fetched with `apt-get download` through a private apt configuration (its
own sources list, lists, cache and status; the machine's archive keyring), never touching the
machine's own apt state, and unpacked with `dpkg-deb -x`. Nothing is installed system-wide.

A binary that cannot run on this host's C library (trixie's and sid's runc need glibc 2.38,
Debian 12 has 2.36) is relinked with patchelf against the same suite's libc6 and libraries,
kept inside the bundle: the bundle then runs on Debian 12 and 13 alike.

A cache entry appears whole or not at all: it is built in a temporary folder beside it and
renamed into place; its manifest (what makes it an entry) is written only once every binary
answers `--version` from there, else the folder is removed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from runner.lab.errors import LabError
from runner.lab.images import CACHE_DIR
from runner.records import generation_of
from runner.store import atomic_write

CACHE = CACHE_DIR / "engines"
ARCHIVE = "http://deb.debian.org/debian"
KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")
# Searched in this order: the oldest suite serving a generation wins (stable before sid).
SUITES = ("bookworm", "trixie", "forky", "sid")
# Always fetched from the chosen suite; the optional ones exist in some suites only
# (bookworm's docker.io carries the CLI; sid splits tini-static out of tini).
PACKAGES = ("docker.io", "containerd", "runc")
OPTIONAL = ("docker-cli", "tini", "tini-static")
# What a node's engine needs on its PATH (docker-init for `--init`, docker-proxy for -p).
DAEMON_TOOLS = (
    "dockerd",
    "containerd",
    "containerd-shim-runc-v2",
    "runc",
    "docker-proxy",
    "docker-init",
    "ctr",
)
CLIENT = "docker"
_BIN_DIRS = ("usr/sbin", "usr/bin", "sbin", "bin", "usr/libexec/docker")
# The generation a lab gets when nobody says (the book's primary engine is given by the
# runner from mkdocs.yml; this one serves tests and `lab up` outside a book).
DEFAULT = "20.10"
GENERATION_RE = re.compile(r"^\d+\.\d+$")
MANIFEST = "bundle.json"


class EngineError(LabError):
    """An engine generation cannot be had; the message says why and what to do."""


@dataclass(frozen=True)
class Bundle:
    generation: str  # "26.1"
    dir: Path  # <cache>/<generation>
    suite: str  # the Debian suite it came from
    packages: dict[str, str]  # package -> Debian version
    dockerd_version: str  # `dockerd --version`'s number, e.g. "26.1.5+dfsg1"
    relinked: dict[str, str]  # binary -> why it was relinked against the suite's libc

    @property
    def bin(self) -> Path:
        """Every tool the engine needs, first on the engine's PATH."""
        return self.dir / "bin"

    @property
    def client(self) -> Path:
        """Only `docker`: first on the sessions' PATH."""
        return self.dir / "client"

    @property
    def root(self) -> Path:
        return self.dir / "root"

    @property
    def label(self) -> str:
        """'Docker 26.1.5 (trixie: containerd 1.7.24, runc 1.1.15)'."""
        upstream = {k: upstream_version(v) for k, v in self.packages.items()}
        return (
            f"Docker {upstream_version(self.packages['docker.io'])} ({self.suite}: "
            f"containerd {upstream['containerd']}, runc {upstream['runc']})"
        )


def upstream_version(debian: str) -> str:
    """'26.1.5' from '26.1.5+dfsg1-9+deb13u1+b1' (epoch, Debian suffixes and ~ds dropped)."""
    version = debian.split(":", 1)[-1]
    return re.split(r"[+~-]", version, maxsplit=1)[0]


def check_generation(generation: str) -> None:
    if not GENERATION_RE.match(generation):
        raise EngineError(
            f"engine {generation!r}: give a Docker Engine generation as MAJOR.MINOR, e.g. 26.1"
        )


def cached(generation: str, cache: Path | None = None) -> Bundle | None:
    """The cached bundle of that generation, or None (never fetches)."""
    check_generation(generation)
    folder = (cache or CACHE) / generation
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        return Bundle(
            generation=generation,
            dir=folder,
            suite=str(data["suite"]),
            packages={str(k): str(v) for k, v in data["packages"].items()},
            dockerd_version=str(data["dockerd_version"]),
            relinked={str(k): str(v) for k, v in data.get("relinked", {}).items()},
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def bundle(generation: str, cache: Path | None = None, archive: str | None = None) -> Bundle:
    """That generation's bundle, fetched into the cache when missing. EngineError when it
    cannot be had (no network, no suite serves it any more, a binary that will not run)."""
    cache = cache or CACHE
    archive = archive or ARCHIVE
    found = cached(generation, cache)
    if found is not None:
        return found
    if os.geteuid() != 0:
        raise EngineError(
            f"Docker Engine {generation} is not in the lab cache ({cache}) and fetching it "
            "needs root: run the runner as root"
        )
    cache.mkdir(parents=True, exist_ok=True)
    lock = cache / ".lock"
    from runner.lab.state import flocked  # not at import: state imports the store

    try:
        with flocked(lock, timeout=600.0):  # another process may be fetching it right now
            found = cached(generation, cache)
            return found if found is not None else _fetch(generation, cache, archive)
    except TimeoutError as exc:
        raise EngineError(f"another process has been fetching engines for 10 min: {exc}") from exc


def components(found: Bundle) -> dict[str, str]:
    """What a run records of its engine: suite and package versions."""
    return {"suite": found.suite, **found.packages}


def bundle_dir(version: str, cache: Path | None = None) -> Path:
    """For other providers (the vm provider): the folder of a generation's bundle, fetched
    when missing. Inside: `root/` (the unpacked .debs), `bin/` (links to the daemon's tools),
    `client/docker`, and `bundle.json` (suite, package versions, relinked binaries)."""
    return bundle(version, cache).dir


# --- fetching -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Apt:
    """A private apt: its own configuration, sources, lists, cache and status."""

    dir: Path

    def env(self) -> dict[str, str]:
        return {
            "APT_CONFIG": str(self.dir / "apt.conf"),
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
            "LANG": "C.UTF-8",
        }

    def setup(self, archive: str) -> None:
        for sub in ("parts", "prefs", "lists/partial", "cache/archives/partial"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        (self.dir / "status").write_text("")
        sources = "".join(f"deb [signed-by={KEYRING}] {archive} {suite} main\n" for suite in SUITES)
        (self.dir / "sources.list").write_text(sources)
        d = self.dir
        # Dir::Etc::Main and ::Parts point away from /etc/apt: none of the machine's own apt
        # settings, sources or state is read or written. Valid-Until is not checked, as the
        # machine's own apt does not either (its clock may run ahead of the archive's
        # mirror); the lists are still verified against the archive keyring.
        (self.dir / "apt.conf").write_text(
            f'Dir::Etc::Main "/dev/null";\n'
            f'Dir::Etc::Parts "{d}/parts";\n'
            f'Dir::Etc::SourceList "{d}/sources.list";\n'
            f'Dir::Etc::SourceParts "{d}/parts";\n'
            f'Dir::Etc::Preferences "/dev/null";\n'
            f'Dir::Etc::PreferencesParts "{d}/prefs";\n'
            f'Dir::State::Lists "{d}/lists";\n'
            f'Dir::State::status "{d}/status";\n'
            f'Dir::Cache "{d}/cache";\n'
            f'Dir::Log "{d}";\n'
            'APT::Architecture "amd64";\n'
            'APT::Architectures { "amd64"; };\n'
            'APT::Sandbox::User "root";\n'
            'Acquire::Languages "none";\n'
            'Acquire::Check-Valid-Until "false";\n'
            'Acquire::Retries "1";\n'
            'Acquire::http::Timeout "20";\n'
            'Acquire::IndexTargets::deb::DEP-11 { DefaultEnabled "false"; };\n'
            'Acquire::IndexTargets::deb::DEP-11-icons { DefaultEnabled "false"; };\n'
            'Acquire::IndexTargets::deb::DEP-11-icons-small { DefaultEnabled "false"; };\n'
        )

    def run(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(args), env=self.env(), cwd=cwd, capture_output=True, text=True, check=False
        )

    def versions(self, package: str) -> dict[str, str]:
        """suite -> version of `package` in each suite (apt-cache madison)."""
        out: dict[str, str] = {}
        proc = self.run("apt-cache", "madison", package)
        for line in proc.stdout.splitlines():
            parts = [p.strip() for p in line.split("|")]
            if len(parts) < 3 or parts[0] != package:
                continue
            suite = parts[2].split()[1].split("/")[0] if len(parts[2].split()) > 1 else ""
            out.setdefault(suite, parts[1])
        return out

    def depends(self, package: str, suite: str) -> list[str]:
        proc = self.run("apt-cache", "show", "--no-all-versions", f"{package}/{suite}")
        for line in proc.stdout.splitlines():
            if line.startswith(("Depends:", "Pre-Depends:")):
                names = [alt.split("|")[0].split("(")[0].split(":")[0].strip() for alt in
                         line.split(":", 1)[1].split(",")]  # fmt: skip
                return [n for n in names if n]
        return []


def _tail(text: str, lines: int = 6) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _fetch(generation: str, cache: Path, archive: str) -> Bundle:
    for tool in ("apt-get", "apt-cache", "dpkg-deb"):
        if shutil.which(tool) is None:
            raise EngineError(f"{tool} is missing: fetching engines needs Debian's apt and dpkg")
    if not KEYRING.is_file():
        raise EngineError(f"{KEYRING} is missing: run `apt-get install debian-archive-keyring`")
    final = cache / generation
    if final.exists():  # left by a run killed between rename and manifest: not an entry
        shutil.rmtree(final)
    work = Path(tempfile.mkdtemp(prefix=f".fetch-{generation}-", dir=cache))
    try:
        staged, manifest = _build(generation, work, final, archive)
        os.rename(staged, final)
        # Only a manifest makes it a cache entry; it is written once every tool runs.
        try:
            manifest["dockerd_version"] = _check_runs(final)
            atomic_write(final / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True) + "\n")
        except BaseException:
            shutil.rmtree(final, ignore_errors=True)
            raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    found = cached(generation, cache)
    if found is None:  # cannot happen unless the folder was tampered with meanwhile
        raise EngineError(f"{cache / generation}: the bundle just made cannot be read")
    return found


def _choose_suite(apt: _Apt, generation: str, archive: str) -> tuple[str, dict[str, str]]:
    served = apt.versions("docker.io")
    if not served:
        raise EngineError(
            f"cannot read Debian's archive at {archive}: no suite lists docker.io "
            f"(is the network up?); nothing was cached. Wanted: Docker Engine {generation}"
        )
    for suite in SUITES:
        version = served.get(suite)
        if version is not None and generation_of(version) == generation:
            return suite, served
    now = ", ".join(f"{s} serves {upstream_version(v)}" for s, v in served.items())
    raise EngineError(
        f"no Debian suite serves Docker Engine {generation} any more ({now}): change the "
        "book's engine list (mkdocs.yml, plugins: verified: engines) to generations served now"
    )


def _build(
    generation: str, work: Path, final: Path, archive: str
) -> tuple[Path, dict[str, object]]:
    apt = _Apt(work / "apt")
    apt.setup(archive)
    update = apt.run("apt-get", "-q", "update", "--error-on=any")
    if update.returncode != 0:
        raise EngineError(
            f"cannot fetch Debian's package lists from {archive} (no network?); nothing was "
            f"cached. Missing: Docker Engine {generation} (docker.io, containerd, runc, "
            f"docker-cli). apt said:\n{_tail(update.stdout + update.stderr)}"
        )
    suite, _ = _choose_suite(apt, generation, archive)
    wanted = {p: apt.versions(p).get(suite) for p in (*PACKAGES, *OPTIONAL)}
    missing = [p for p in PACKAGES if wanted[p] is None]
    if missing:
        raise EngineError(f"{suite} has no {', '.join(missing)}: cannot make Docker {generation}")
    packages = {p: v for p, v in wanted.items() if v is not None}
    debs = _download(apt, [f"{p}/{suite}" for p in packages], generation)
    stage = work / "bundle"
    root = stage / "root"
    root.mkdir(parents=True)
    for deb in debs:
        _unpack(deb, root)
    _link_tools(root, stage)
    relinked = _relink_if_needed(apt, stage, final, suite, packages, generation)
    manifest: dict[str, object] = {
        "generation": generation,
        "suite": suite,
        "archive": archive,
        "packages": packages,
        "relinked": relinked,
        "fetched": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    return stage, manifest


def _download(apt: _Apt, specs: list[str], generation: str) -> list[Path]:
    dest = Path(tempfile.mkdtemp(prefix="debs-", dir=apt.dir))
    proc = apt.run("apt-get", "-q", "download", *specs, cwd=dest)
    debs = sorted(dest.glob("*.deb"))
    if proc.returncode != 0 or len(debs) != len(specs):
        raise EngineError(
            f"downloading {' '.join(specs)} failed (network?); nothing was cached for Docker "
            f"Engine {generation}. apt said:\n{_tail(proc.stdout + proc.stderr)}"
        )
    return debs


def _unpack(deb: Path, root: Path) -> None:
    proc = subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise EngineError(f"dpkg-deb -x {deb.name} failed: {_tail(proc.stderr)}")


def _find(root: Path, name: str) -> Path | None:
    for sub in _BIN_DIRS:
        candidate = root / sub / name
        if candidate.exists():  # follows links: a dangling docker-init does not count
            return candidate
    return None


def _link_tools(root: Path, stage: Path) -> None:
    """bin/ and client/ hold relative links into root/, so the folder can be renamed."""
    (stage / "bin").mkdir()
    (stage / "client").mkdir()
    missing = []
    for name in (*DAEMON_TOOLS, CLIENT):
        found = _find(root, name)
        if found is None:
            missing.append(name)
            continue
        rel = os.path.relpath(found, stage / "bin")
        (stage / "bin" / name).symlink_to(rel)
        if name == CLIENT:
            (stage / "client" / name).symlink_to(rel)
    if missing:
        raise EngineError(f"the unpacked packages have no {', '.join(missing)}")


def _ldd_problem(binary: Path) -> str | None:
    """What the host's dynamic loader cannot satisfy, or None (static binaries included)."""
    proc = subprocess.run(["ldd", str(binary)], capture_output=True, text=True)
    bad = []
    for line in (proc.stdout + proc.stderr).splitlines():
        if "not found" not in line:
            continue
        version = re.search(r"version `([^']+)' not found", line)
        bad.append(f"needs {version.group(1)}" if version else line.strip().split()[0] + " missing")
    if bad:
        host = subprocess.run(["ldd", "--version"], capture_output=True, text=True).stdout
        found = re.search(r"(\d+\.\d+)\s*$", host.splitlines()[0]) if host else None
        bad.append(f"this host has glibc {found.group(1) if found else '?'}")
    return ", ".join(sorted(set(bad), key=bad.index)) or None


def _relink_if_needed(
    apt: _Apt, stage: Path, final: Path, suite: str, packages: dict[str, str], generation: str
) -> dict[str, str]:
    problems = {}
    for name in (*DAEMON_TOOLS, CLIENT):
        target = (stage / "bin" / name).resolve()
        problem = _ldd_problem(target)
        if problem is not None:
            problems[name] = (target, problem)
    if not problems:
        return {}
    if shutil.which("patchelf") is None:
        detail = "; ".join(f"{n}: {p}" for n, (_, p) in problems.items())
        raise EngineError(
            f"Docker Engine {generation} ({suite}) has binaries this host's C library cannot "
            f"run ({detail}); relinking them needs patchelf: run `apt-get install patchelf`"
        )
    libs = ["libc6"]
    for pkg in packages:
        libs += [d for d in apt.depends(pkg, suite) if d.startswith("lib")]
    libs = sorted(set(libs))
    debs = _download(apt, [f"{p}/{suite}" for p in libs], generation)
    libroot = stage / "libroot"
    libroot.mkdir()
    for deb in debs:
        _unpack(deb, libroot)
    # The interpreter path is absolute: it names the folder the bundle is renamed to.
    final_lib = final / "libroot" / "usr/lib/x86_64-linux-gnu"
    if not (libroot / "usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2").exists():
        raise EngineError(f"{suite}'s libc6 has no usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2")
    relinked = {}
    for name, (target, problem) in problems.items():
        proc = subprocess.run(
            [
                "patchelf",
                "--set-interpreter",
                str(final_lib / "ld-linux-x86-64.so.2"),
                "--set-rpath",
                str(final_lib),
                str(target),
            ],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise EngineError(f"patchelf on {name} failed: {_tail(proc.stderr)}")
        relinked[name] = f"{problem}; relinked against {suite}'s " + ", ".join(
            f"{p} {apt.versions(p).get(suite, '?')}" for p in libs
        )
    return relinked


def _check_runs(folder: Path) -> str:
    """Every tool answers --version here, from its final path (a relinked one's interpreter
    is there); returns dockerd's version number."""
    version = ""
    for name in (*DAEMON_TOOLS, CLIENT):
        if name in ("docker-proxy", "ctr"):
            continue  # no --version worth calling (docker-proxy has none before 28)
        flag = "-v" if name.startswith("containerd-shim") else "--version"
        proc = subprocess.run([str(folder / "bin" / name), flag], capture_output=True, text=True)
        if proc.returncode != 0:
            raise EngineError(
                f"{name} of this bundle does not run on this host: {_tail(proc.stderr)}"
            )
        if name == "dockerd":
            match = re.search(r"version (\S+?),", proc.stdout)
            version = match.group(1) if match else proc.stdout.strip()
    return version
