"""Postfix's `smtp-sink` on a free loopback port: an SMTP server that takes messages as fast as a client
sends them and throws them away (aiosmtpd tops out near 1.2 k messages/s; the sink takes ~10 k/s here).

For the mass-send figure (M1) and its reference (raw smtplib sending pre-built bytes):

    with smtp_sink() as sink:
        ... send to 127.0.0.1:sink.port ...
        assert sink.messages() == sent

It never touches port 25 or the Postfix daemon: `scripts/system-packages.sh bench` installs the package
without starting its service, and the sink is a plain child process stopped when the block ends.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bench.run import BenchError

SINK = "/usr/sbin/smtp-sink"
_COUNTERS = re.compile(rb"sess=(\d+) quit=(\d+) mesg=(\d+)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SmtpSink:
    port: int
    process: subprocess.Popen[bytes]
    _messages: int = 0
    _sessions: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def messages(self) -> int:
        """Messages the sink has taken (its `-c` counter, updated at every final dot)."""
        with self._lock:
            return self._messages

    def sessions(self) -> int:
        with self._lock:
            return self._sessions

    def wait_for(self, count: int, seconds: float = 10.0) -> int:
        """Wait (bounded) until the counter reaches `count`; returns the last value seen."""
        deadline = time.monotonic() + seconds
        while self.messages() < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.messages()

    def _follow(self) -> None:
        assert self.process.stdout is not None
        for chunk in iter(lambda: self.process.stdout.read1(4096), b""):  # type: ignore[union-attr]
            found = _COUNTERS.findall(chunk)
            if found:
                sessions, _, messages = found[-1]
                with self._lock:
                    self._sessions, self._messages = int(sessions), int(messages)


def sink_binary() -> str:
    found = shutil.which("smtp-sink") or (SINK if Path(SINK).exists() else None)
    if found is None:
        raise BenchError("Postfix's smtp-sink is missing: run scripts/system-packages.sh bench")
    return found


@contextlib.contextmanager
def smtp_sink(backlog: int = 256, max_connections: int = 64) -> Iterator[SmtpSink]:
    """Start the sink on 127.0.0.1 and a free port; stop it when the block ends."""
    port = free_port()
    command = [sink_binary(), "-c", "-m", str(max_connections)]
    if os.geteuid() == 0:
        command += ["-u", "nobody"]  # the sink refuses to keep root's privileges
    command += [f"127.0.0.1:{port}", str(backlog)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    sink = SmtpSink(port, process)
    threading.Thread(target=sink._follow, daemon=True).start()
    try:
        _wait_until_listening(port, process)
        yield sink
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _wait_until_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"smtp-sink stopped at once (exit code {process.returncode})")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.02)
    raise BenchError("smtp-sink did not start listening within 5 s")
