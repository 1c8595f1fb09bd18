"""Real SIP user agents for tests: Debian's ``baresip``, one process per phone.

Each phone gets its own configuration directory and free loopback ports
(SIP on UDP; baresip also takes the next port for TLS), registers to
Asterisk with its PJSIP credentials (or not at all, for a carrier's side of
a trunk), and is driven over baresip's ``ctrl_tcp`` JSON commands. Its SIP
trace (``-s``) is what the phone saw: :meth:`Phone.received_messages` parses
the MESSAGE requests out of it, with their ``From`` and body.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from switchboard.asterisk.ports import udp_port_free

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def baresip_available() -> bool:
    """Whether ``baresip`` is installed (scripts/bootstrap installs it)."""
    return shutil.which("baresip") is not None


def _free_port_pair(host: str) -> int:
    """A UDP port whose next TCP port is free too (baresip binds SIP/UDP+TCP and TLS +1)."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind((host, 0))
            port = sock.getsockname()[1]
        if port < 65000 and udp_port_free(port + 1, host) and _tcp_free(host, port) and \
                _tcp_free(host, port + 1):
            return port
    raise RuntimeError("no free port pair")


def _tcp_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


@dataclass(frozen=True)
class ReceivedMessage:
    """A SIP MESSAGE a phone received."""

    from_user: str
    body: str


class Phone:
    """A baresip process: a desk phone (registered) or a carrier's user agent (not)."""

    def __init__(self, workdir: Path, *, user: str, domain: str, peer: str,
                 password: str | None = None, host: str = "127.0.0.1") -> None:
        """Args: the account's user at ``domain`` (Asterisk's ``host:port``); messages
        go to ``peer`` (a SIP URI); ``password`` registers the phone."""
        self.user = user
        self.dir = workdir / f"baresip-{user.strip('+')}-{host}"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.sip_port = _free_port_pair(host)
        self.ctrl_port = _free_port_pair("127.0.0.1")
        self.host = host
        self.log = self.dir / "trace.log"
        (self.dir / "config").write_text(
            "poll_method epoll\n"
            f"sip_listen {host}:{self.sip_port}\n"
            "module_path /usr/lib/baresip/modules\n"
            "module g711.so\n"
            "module_app account.so\nmodule_app contact.so\nmodule_app menu.so\n"
            "module_app ctrl_tcp.so\n"
            f"ctrl_tcp_listen 127.0.0.1:{self.ctrl_port}\n"
            "audio_player aufile,/dev/null\naudio_source aufile,/dev/null\n"
        )
        if password:
            account = f"<sip:{user}@{domain}>;auth_pass={password};regint=60"
        else:
            account = f"<sip:{user}@{host}:{self.sip_port}>;regint=0"
        (self.dir / "accounts").write_text(account + "\n")
        (self.dir / "contacts").write_text(f'"peer" <{peer}>\n')
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, *, registered: bool, timeout: float = 15.0) -> None:
        """Start baresip; wait until it is ready (and registered, for a desk phone)."""
        handle = self.log.open("wb")
        self._process = subprocess.Popen(
            ["baresip", "-s", "-f", str(self.dir)], stdout=handle, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        handle.close()
        marker = "200 OK" if registered else "baresip is ready"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.trace()
            if "baresip is ready" in text and (not registered or self._registered(text)):
                return
            if self._process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"baresip {self.user} not ready ({marker}):\n{self.trace()[-2000:]}")

    @staticmethod
    def _registered(text: str) -> bool:
        # a 200 OK answering our REGISTER
        return bool(re.search(r"SIP/2\.0 200 OK[^\n]*\n(?:[^\n]+\n)*?CSeq: \d+ REGISTER", text))

    def trace(self) -> str:
        """Everything baresip printed (its SIP trace), colours removed."""
        return _ANSI.sub("", self.log.read_text(errors="replace")) if self.log.exists() else ""

    def send_message(self, text: str) -> None:
        """Send a MESSAGE with ``text`` to the peer (baresip's ``message`` command)."""
        payload = json.dumps({"command": "message", "params": text, "token": "t"}).encode()
        with socket.create_connection(("127.0.0.1", self.ctrl_port), timeout=5) as sock:
            sock.sendall(str(len(payload)).encode() + b":" + payload + b",")
            answer = sock.recv(4096)
        assert b'"ok":true' in answer, answer

    def received_messages(self) -> list[ReceivedMessage]:
        """MESSAGE requests this phone received (not the ones it sent), in order.

        baresip's trace prints each packet after a ``#`` line and a
        ``UDP <from> -> <to>`` line; a packet to this phone's port was received.
        """
        found = []
        text = self.trace().replace("\r", "")
        for packet in re.split(r"^#\n", text, flags=re.M):
            route = re.match(r"UDP \S+ -> [^:\s]+:(\d+)\n(MESSAGE sip:[^\n]*\n.*)", packet,
                             re.S)
            if route is None or int(route.group(1)) != self.sip_port:
                continue
            head, _, rest = route.group(2).partition("\n\n")
            length = re.search(r"^Content-Length:\s*(\d+)", head, re.M | re.I)
            body = rest.encode()[: int(length.group(1))].decode() if length else rest
            sender = re.search(r"^From:[^\n]*<sips?:([^@>;]+)", head, re.M | re.I)
            found.append(ReceivedMessage(sender.group(1) if sender else "", body))
        return found

    def invites_from(self) -> list[str]:
        """The ``From`` header of every INVITE this phone received (the caller ID it shows)."""
        text = self.trace().replace("\r", "")
        found = []
        for packet in re.split(r"^#\n", text, flags=re.M):
            route = re.match(r"UDP \S+ -> [^:\s]+:(\d+)\n(INVITE sip:[^\n]*\n.*)", packet,
                             re.S)
            if route is None or int(route.group(1)) != self.sip_port:
                continue
            sender = re.search(r"^From:\s*([^\n;]*)", route.group(2), re.M | re.I)
            found.append(sender.group(1).strip() if sender else "")
        return found

    def wait_for_message(self, body: str, timeout: float = 15.0) -> ReceivedMessage:
        """The received MESSAGE whose body is ``body``; fails after ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.received_messages():
                if message.body == body:
                    return message
            time.sleep(0.05)
        raise AssertionError(f"{self.user} never received {body!r}; got "
                             f"{self.received_messages()}")

    def stop(self) -> None:
        """Stop the process (only this one, by its own handle)."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
