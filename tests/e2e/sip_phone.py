"""A desk phone for tests: Debian's baresip, registered on loopback, answering by itself.

It sends a 440 Hz tone and writes what it hears (decoded, 8 kHz) to
``<dir>/heard/dump-*-dec.wav`` (the ``sndfile`` filter; ALSA's ``null``
device plays it, so frames are pulled in real time).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path

BARESIP = shutil.which("baresip") or "/usr/bin/baresip"


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SipPhone:
    """One baresip process with its own configuration directory and ports."""

    def __init__(self, directory: Path, *, user: str, password: str, sip_port: int) -> None:
        self.directory = directory
        self.heard_dir = directory / "heard"
        self.heard_dir.mkdir(parents=True, exist_ok=True)
        self.log = directory / "baresip.log"
        listen = _free_udp_port()
        rtp = _free_udp_port()
        tone = directory / "tone.wav"
        subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", str(tone),
                        "synth", "60", "sine", "440", "vol", "0.3"], check=True)
        (directory / "config").write_text("\n".join([
            f"sip_listen\t127.0.0.1:{listen}",
            "audio_player\talsa,null",
            f"audio_source\taufile,{tone}",
            "audio_alert\talsa,null",
            "module_path\t/usr/lib/baresip/modules",
            "module\tg711.so", "module\taufile.so", "module\talsa.so", "module\tsndfile.so",
            "module_app\taccount.so", "module_app\tmenu.so",
            f"snd_path\t{self.heard_dir}",
            f"rtp_ports\t{rtp}-{rtp + 9}",
            "",
        ]))
        (directory / "accounts").write_text(
            f"<sip:{user}@127.0.0.1:{sip_port};transport=udp>;auth_pass={password};"
            "answermode=auto;regint=60;audio_codecs=PCMU,PCMA\n")
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Run baresip (it registers at once)."""
        with self.log.open("wb") as out:
            self._proc = subprocess.Popen([BARESIP, "-f", str(self.directory)], stdout=out,
                                          stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def stop(self) -> None:
        """Stop the process this object started."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(5)

    def heard(self) -> list[Path]:
        """The files of what the phone heard, one per call."""
        return sorted(self.heard_dir.glob("dump-*-dec.wav"))
