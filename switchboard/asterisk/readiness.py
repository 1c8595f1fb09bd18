"""Readiness probes: does AMI accept our login, does ARI answer over HTTP.

Blocking on purpose: they run while the harness waits for a
fresh Asterisk, from the CLI and from test fixtures, never on the engine's
event loop.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

from switchboard.asterisk import process as proc
from switchboard.asterisk.exceptions import CliCommandError, InstanceStartError

_AFTER_BOOT_GRACE = 10.0


def ami_login_ok(host: str, port: int, user: str, secret: str, timeout: float = 2.0) -> bool:
    """Whether AMI at ``host:port`` accepts ``user``/``secret``.

    A plain AMI exchange: read the banner, send ``Login``, expect
    ``Response: Success``, then ``Logoff``.
    """
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            reader = sock.makefile("rb")
            banner = reader.readline()
            if not banner.startswith(b"Asterisk Call Manager"):
                return False
            sock.sendall(
                (
                    f"Action: Login\r\nActionID: sb-ready\r\nUsername: {user}\r\n"
                    f"Secret: {secret}\r\nEvents: off\r\n\r\n"
                ).encode()
            )
            response = _read_message(reader)
            ok = response.get("Response") == "Success"
            if ok:
                sock.sendall(b"Action: Logoff\r\nActionID: sb-bye\r\n\r\n")
            return ok
    except OSError:
        return False


def ari_ok(host: str, port: int, user: str, password: str, timeout: float = 2.0) -> bool:
    """Whether ``GET /ari/asterisk/info`` answers 200 with these credentials."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", "/ari/asterisk/info", headers={"Authorization": f"Basic {token}"})
        response = conn.getresponse()
        response.read()
        return response.status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def wait_until_ready(
    process: proc.ProcessId,
    child: subprocess.Popen[bytes] | None,
    ctl_socket: Path,
    probe: Callable[[], bool],
    timeout: float,
) -> None:
    """Poll a starting Asterisk until it is fully booted and ``probe`` passes.

    Waits for the control socket, then ``core waitfullybooted`` (every module
    loaded), then for ``probe`` (AMI login and ARI HTTP).

    Raises:
        InstanceStartError: The process exited or ``timeout`` passed.
    """
    deadline = time.monotonic() + timeout
    booted_at: float | None = None
    while time.monotonic() < deadline:
        if child is not None and child.poll() is not None:
            raise InstanceStartError(f"Asterisk exited with code {child.returncode}")
        if child is None and not proc.is_alive(process):
            raise InstanceStartError("Asterisk exited")
        if booted_at is None and ctl_socket.exists() and proc.is_asterisk(process):
            remaining = max(1.0, deadline - time.monotonic())
            with contextlib.suppress(CliCommandError):  # socket not accepting yet
                proc.run_cli(process, "core waitfullybooted", timeout=remaining)
                booted_at = time.monotonic()
        if booted_at is not None:
            if probe():
                return
            # AMI and HTTP bind while modules load: after boot they answer at once.
            if time.monotonic() - booted_at > _AFTER_BOOT_GRACE:
                raise InstanceStartError(
                    "fully booted but AMI or ARI does not answer (port taken by another process?)"
                )
        time.sleep(0.05)
    raise InstanceStartError(f"not ready after {timeout} s")


def _read_message(reader: IO[bytes]) -> dict[str, str]:
    message: dict[str, str] = {}
    while True:
        line = reader.readline()
        if not line or line in (b"\r\n", b"\n"):
            return message
        key, _, value = line.decode(errors="replace").partition(":")
        message[key.strip()] = value.strip()
