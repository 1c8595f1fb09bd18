"""Voicemail greetings: a recorded file or text read by local text-to-speech.

Either way the audio is converted once (sox) to what Asterisk plays without
transcoding — 8 kHz 16-bit mono WAV — and kept in Asterisk's spool, and the
number's ``voicemail_greeting`` becomes a generated ``sound:`` path to it
(never text from the request). Text-to-speech is espeak-ng, as for ``Say``.
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
import tempfile
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.models import PhoneNumber
from switchboard.services.exceptions import BadRequest, ServiceUnavailable
from switchboard.services.numbers import configure_number

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_TEXT = 500
ASTERISK_SPOOL = "/var/spool/asterisk"
_MEDIA_DIR = "switchboard/media"
_SOX_OUT = ["-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", "-t", "wav"]


async def _run(*argv: str, stdin: bytes | None = None) -> bytes:
    program = shutil.which(argv[0])
    if program is None:
        raise ServiceUnavailable(f"{argv[0]} is not installed", error_id="media-tool-missing")
    proc = await asyncio.create_subprocess_exec(
        program, *argv[1:], stdin=asyncio.subprocess.PIPE if stdin is not None else None,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate(stdin)
    if proc.returncode != 0:
        raise BadRequest(f"the audio could not be converted: {err.decode(errors='replace')[:200]}",
                         field="greeting")
    return out


async def text_to_speech(text: str) -> bytes:
    """``text`` spoken by espeak-ng, as an 8 kHz mono WAV.

    Raises:
        BadRequest: empty or longer than :data:`MAX_TEXT` characters.
    """
    text = " ".join(text.split())
    if not text or len(text) > MAX_TEXT:
        raise BadRequest(f"the greeting text needs 1 to {MAX_TEXT} characters", field="text")
    spoken = await _run("espeak-ng", "--stdout", "-v", "en-us", "-s", "160", "--", text)
    return await _run("sox", "-D", "-t", "wav", "-", *_SOX_OUT, "-", stdin=spoken)


async def convert_upload(data: bytes, filename: str) -> bytes:
    """An uploaded WAV or MP3, as an 8 kHz mono WAV.

    Raises:
        BadRequest: empty, too large, another format, or not decodable.
    """
    if not data:
        raise BadRequest("choose an audio file", field="file")
    if len(data) > MAX_UPLOAD_BYTES:
        raise BadRequest("the file is larger than 10 MB", field="file")
    kind = Path(filename).suffix.lower().lstrip(".")
    if kind not in ("wav", "mp3"):
        raise BadRequest("upload a .wav or .mp3 file", field="file")
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / f"upload.{kind}"
        await asyncio.to_thread(source.write_bytes, data)
        return await _run("sox", "-D", str(source), *_SOX_OUT, "-")


async def save_greeting(
    session: AsyncSession, tenant_id: str, number: PhoneNumber, wav: bytes, spool_dir: Path | None
) -> PhoneNumber:
    """Keep ``wav`` in Asterisk's spool and make it the number's voicemail greeting.

    Raises:
        ServiceUnavailable: this process does not see Asterisk's spool.
    """
    if spool_dir is None:
        raise ServiceUnavailable("greetings need SWITCHBOARD_ASTERISK_SPOOL_DIR (Asterisk's spool)",
                                 error_id="spool-not-shared")
    name = f"greeting-{number.id}-{secrets.token_hex(4)}"
    target = spool_dir / _MEDIA_DIR / f"{name}.wav"

    def _write() -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(wav)
        target.chmod(0o644)

    await asyncio.to_thread(_write)
    return await configure_number(session, tenant_id, number.id, {
        "voicemail_greeting": f"sound:{ASTERISK_SPOOL}/{_MEDIA_DIR}/{name}"})


async def reset_greeting(session: AsyncSession, tenant_id: str, number_id: str) -> PhoneNumber:
    """Back to the built-in prompt ("Please leave a message after the tone")."""
    return await configure_number(session, tenant_id, number_id, {"voicemail_greeting": None})
