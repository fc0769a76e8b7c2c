"""Child processes for end-to-end checks: started in their own group, stopped with it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def live_members(group: int) -> list[int]:
    """Processes of a process group that are still running (zombies excluded)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        state, pgrp = fields[0], int(fields[2])
        if pgrp == group and state != "Z":
            members.append(int(stat.parent.name))
    return members


class Service:
    """A command in its own process group, its output in ``<log_dir>/<name>.log``."""

    def __init__(
        self, name: str, argv: list[str], env: Mapping[str, str], log_dir: Path, cwd: Path
    ) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        with self.log_path.open("wb") as log:
            # Our own interpreter and Prefect's CLI with arguments built here: nothing untrusted.
            self.process = subprocess.Popen(
                argv,
                env=dict(env),
                cwd=cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: stopping it stops its children too
            )

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_http(self, url: str, timeout: float) -> None:
        """Until ``url`` answers 200; fails early if the process died."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.log[-3000:]}")
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"{self.name} did not answer {url} within {timeout:g} s")

    def stop(self, timeout: float = 30) -> str:
        """SIGTERM the group, SIGKILL what is left after ``timeout``; says how it ended."""
        group = self.process.pid
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(group, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                self.process.poll()  # reap the leader
                if not live_members(group):
                    return "stopped" if sig == signal.SIGTERM else "killed"
                time.sleep(0.2)
        self.process.poll()
        left = live_members(group)
        return f"still running: {left}" if left else "stopped"
