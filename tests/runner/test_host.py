"""What a run records of the verifying machine, from the real tools on it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from runner.run import host


@pytest.mark.skipif(shutil.which("docker") is None, reason="the docker client is not installed")
def test_the_client_version_is_the_one_sessions_run() -> None:
    facts = host.tool_versions({"PATH": os.environ["PATH"]})
    out = subprocess.run(["docker", "--version"], capture_output=True, text=True).stdout
    assert facts.client_version and facts.client_version in out
    assert re.fullmatch(r"\d+(\.\d+)+\S*", facts.client_version)
    assert facts.host_os  # /etc/os-release's PRETTY_NAME


def test_a_tool_absent_from_the_sessions_path_is_none(tmp_path: Path) -> None:
    facts = host.tool_versions({"PATH": str(tmp_path)})
    assert facts.client_version is None and facts.machine_version is None


def test_the_version_is_read_from_what_the_tool_prints(tmp_path: Path) -> None:
    tool = tmp_path / "docker-machine"
    tool.write_text("#!/bin/sh\necho 'docker-machine version 0.16.2, build bd45ab13'\n")
    tool.chmod(0o755)
    assert host.tool_versions({"PATH": str(tmp_path)}).machine_version == "0.16.2"
