"""The runner's identity for the cache: a change of its code invalidates every chapter's results."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

import runner

# What publishes results does not change them: the site, the handouts and what they share.
_NOT_RUNNER = ("site", "handouts", "publish")


@cache
def runner_version() -> str:
    package = Path(__file__).parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*")):
        rel = path.relative_to(package)
        if not path.is_file() or rel.parts[0] in _NOT_RUNNER or "__pycache__" in rel.parts:
            continue
        digest.update(rel.as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return f"{runner.__version__}+{digest.hexdigest()[:12]}"
