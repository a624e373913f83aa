"""Processes by pid: the one liveness test of the lab and of the session tracking."""

from __future__ import annotations

import os


def pid_alive(pid: int) -> bool:
    """True while a process with this pid exists, another user's included (signal 0 checks
    without sending anything; EPERM means it exists)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
