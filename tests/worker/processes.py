"""Real processes for worker tests: a `smartcomm worker` on the embedded queue, a producer that queues a
job the way a web process does, and the pauses that hold a worker at a given point of a job."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from smartcomm.kit.leases import process_started

T = TypeVar("T")
PROCESS_TIMEOUT = 120  # seconds; generous: the suite runs other heavy tests beside a worker process


def production_env(database_url: str, var_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a deployed process: a real database, the SQLite job queue under `var_dir`."""
    env = os.environ | {
        "SMARTCOMM_ENVIRONMENT": "production",
        "SMARTCOMM_DATABASE_URL": database_url,
        "SMARTCOMM_VAR_DIR": str(var_dir),
    }
    env.pop("SMARTCOMM_REDIS_URL", None)
    env.pop("SMARTCOMM_TEST_PAUSE_DIR", None)
    return env | extra


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "smartcomm.cli.main", "worker", "--threads", "2", "--no-periodic"]
    with log.open("ab") as output:
        return subprocess.Popen(command, env=env, stdout=output, stderr=output, start_new_session=True)


def stop(process: subprocess.Popen[bytes]) -> None:
    """End a process this test started and the group it leads (its children too, even once it is gone)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=PROCESS_TIMEOUT)


def queue_job(env: dict[str, str], module: str, task: str, *args: object) -> None:
    """Queue `task(*args)` from a process of its own, as a web process does after its commit."""
    call = f"from {module} import {task}; {task}(*{args!r})"
    subprocess.run([sys.executable, "-c", call], env=env, check=True, timeout=PROCESS_TIMEOUT)


class Pauses:
    """The folder through which a test holds a worker at a `pause_point` of a job."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    @property
    def env(self) -> dict[str, str]:
        return {"SMARTCOMM_TEST_PAUSE_DIR": str(self.folder)}

    def hold(self, name: str) -> None:
        """Processes started with `env` stop at the pause point `name` until `release(name)`."""
        (self.folder / f"{name}.hold").touch()

    def release(self, name: str) -> None:
        (self.folder / f"{name}.hold").unlink(missing_ok=True)

    def wait_until_reached(self, name: str, process: subprocess.Popen[bytes]) -> None:
        def reached() -> bool:
            assert process.poll() is None, f"the process exited with {process.returncode}"
            return (self.folder / f"{name}.reached").exists()

        wait_until(reached, f"the job to reach {name}")


def wait_until(condition: Callable[[], T], what: str, timeout: float = PROCESS_TIMEOUT) -> T:
    """Poll `condition` until it returns something true (returned), failing after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = condition()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def is_running(pid: int) -> bool:
    return process_started(pid) is not None


def children_of(pid: int) -> list[int]:
    """The processes whose parent is `pid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                found.append(int(entry.name))
    return found
