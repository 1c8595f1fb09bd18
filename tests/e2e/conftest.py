"""The console in a real browser: `switchboard serve` against a real Asterisk, driven by Chromium.

``console`` (once per test session) starts an Asterisk of its own, a fresh SQLite database seeded
with a business (an admin, two numbers, a desk phone for baresip), and
``switchboard serve`` (engine, API with the console, outbox, transcription
worker) as a child process on a free port, and waits until it answers.
``browser`` is Debian's Chromium under Playwright (no browser download),
headless, with a fake microphone that plays a speech WAV, so the browser
phone can talk. Screenshots of each page go to ``.state/console-screenshots``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard.asterisk import AsteriskInstance
from switchboard.config import Settings
from switchboard.models import Endpoint, ForwardingRule, PhoneNumber, Tenant, Trunk, User
from switchboard.models.state import bump_routing_revision
from switchboard.runtime import open_database
from switchboard.security import hash_password
from tests.integration.conftest import _start_instance, asterisk_rootfs  # noqa: F401 - fixture

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / ".state" / "console-screenshots"
ADMIN_EMAIL = "owner@acme.test"
ADMIN_PASSWORD = "correct horse battery"
DID_MAIN = "+15550100200"
DID_SALES = "+15550100300"
DID_WEB = "+15550100400"
DESK = "desk-sales"
DESK_PASSWORD = "desk-password-123456"
# A human prompt from Asterisk's core sounds (30 s; Chromium's fake microphone loops it).
SPEECH_PROMPT = "usr/share/asterisk/sounds/en_US_f_Allison/demo-congrats.wav"
SPEECH_WORDS = frozenset(
    ["congratulations", "successfully", "installed", "executed", "asterisk", "open", "source", "pbx", "sample", "sounds", "configuration", "files", "started", "normal", "navigate", "demonstration", "dialing", "digits", "console", "channel", "driver", "instead", "real", "phone", "dial", "answer", "hang", "commands", "simulate", "actions", "standard", "telephone"])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Console:
    """The running console and what the tests need to reach it."""

    url: str
    asterisk: AsteriskInstance
    sessionmaker: async_sessionmaker[AsyncSession]
    tenant_id: str
    main_number_id: str
    sales_number_id: str
    web_number_id: str
    log_path: Path
    speech_wav: Path


async def _seed(sessionmaker: async_sessionmaker[AsyncSession]) -> tuple[str, str, str, str]:
    async with sessionmaker() as session, session.begin():
        tenant = Tenant(name="Acme Plumbing", timezone="America/New_York")
        session.add(tenant)
        await session.flush()
        session.add(User(tenant_id=tenant.id, email=ADMIN_EMAIL, name="Olivia Owner",
                         role="admin", password_hash=hash_password(ADMIN_PASSWORD)))
        session.add(Trunk(tenant_id=tenant.id, name=f"t{tenant.id[:8]}", kind="local",
                          context="sb-test"))
        main = PhoneNumber(tenant_id=tenant.id, e164=DID_MAIN, friendly_name="Main line",
                           voicemail_max_seconds=30)
        sales = PhoneNumber(tenant_id=tenant.id, e164=DID_SALES, friendly_name="Sales",
                            voicemail_max_seconds=30)
        web = PhoneNumber(tenant_id=tenant.id, e164=DID_WEB, friendly_name="Web line",
                          voicemail_max_seconds=30)
        session.add_all([main, sales, web])
        session.add(Endpoint(tenant_id=tenant.id, name=DESK, password=DESK_PASSWORD))
        await session.flush()
        session.add(ForwardingRule(tenant_id=tenant.id, number_id=sales.id, priority=10,
                                   name="Sales desk", targets=[f"endpoint:{DESK}"],
                                   ring_timeout=20))
        await bump_routing_revision(session)
    return tenant.id, main.id, sales.id, web.id


def _speech_wav(directory: Path) -> Path:
    """Recorded human speech, 48 kHz mono, for Chromium's fake microphone."""
    out = directory / "speech.wav"
    source = Settings().rootfs_cache / SPEECH_PROMPT
    subprocess.run(["sox", "-D", str(source), "-r", "48000", "-c", "1", "-b", "16", str(out)],
                   check=True)
    return out


async def _wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with httpx.AsyncClient() as client:
        while loop.time() < deadline:
            if proc.poll() is not None:
                raise AssertionError(f"switchboard serve exited:\n{log.read_text()[-4000:]}")
            with contextlib.suppress(httpx.HTTPError):
                ready = await client.get(f"{url}/health/ready", timeout=2)
                if ready.status_code == 200:
                    return
            await asyncio.sleep(0.2)
    raise AssertionError(f"switchboard serve never became ready:\n{log.read_text()[-4000:]}")


@pytest.fixture(scope="session")
def console_asterisk(asterisk_rootfs: Path, tmp_path_factory: pytest.TempPathFactory  # noqa: F811
                     ) -> Iterator[AsteriskInstance]:
    """An Asterisk of the browser tests' own (their engine rewrites its PJSIP endpoints)."""
    instance = _start_instance("console", tmp_path_factory.mktemp("asterisk-console"),
                               asterisk_rootfs)
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture(scope="session")
async def console(console_asterisk: AsteriskInstance, tmp_path_factory: pytest.TempPathFactory
                  ) -> AsyncIterator[Console]:
    """``switchboard serve`` with the console, on the browser tests' own Asterisk."""
    state = tmp_path_factory.mktemp("console")
    db_url = f"sqlite+aiosqlite:///{state / 'switchboard.db'}"
    port = _free_port()
    env = {
        **os.environ,
        **console_asterisk.env(),
        "SWITCHBOARD_DATABASE_URL": db_url,
        "SWITCHBOARD_STATE_DIR": str(state),
        "SWITCHBOARD_STORAGE_ROOT": str(state / "storage"),
        "SWITCHBOARD_API_PORT": str(port),
        "SWITCHBOARD_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "SWITCHBOARD_SECRET_KEY": "console-test-secret-" + "x" * 24,
        "SWITCHBOARD_REALTIME_PRIORITY": "0",
        "SWITCHBOARD_ROUTING_POLL_SECONDS": "0.2",
        "SWITCHBOARD_VOICEMAIL_SILENCE_SECONDS": "3",
        "SWITCHBOARD_TRANSCRIPTION_CONCURRENCY": "1",
    }
    database = await open_database(Settings(database_url=db_url, state_dir=state))
    tenant_id, main_id, sales_id, web_id = await _seed(database.sessionmaker)
    log = state / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "switchboard.cli", "serve"], env=env,
                                stdout=out, stderr=subprocess.STDOUT, cwd=REPO)
    url = f"http://127.0.0.1:{port}"
    try:
        await _wait_http(url, proc, log, timeout=60)
        yield Console(url=url, asterisk=console_asterisk, sessionmaker=database.sessionmaker,
                      tenant_id=tenant_id, main_number_id=main_id, sales_number_id=sales_id,
                      web_number_id=web_id,
                      log_path=log, speech_wav=_speech_wav(state))
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        await database.engine.dispose()


@pytest.fixture(scope="session")
async def browser(console: Console) -> AsyncIterator[object]:
    """Headless Debian Chromium under Playwright, with a fake microphone playing speech."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-audio-capture={console.speech_wav}",
                "--autoplay-policy=no-user-gesture-required",
                "--disable-features=WebRtcHideLocalIpsWithMdns",
            ],
        )
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
async def page(browser: object, console: Console) -> AsyncIterator[object]:
    """A signed-in page (a fresh browser context per test)."""
    from playwright.async_api import Browser

    assert isinstance(browser, Browser)
    context = await browser.new_context(viewport={"width": 1360, "height": 900},
                                        permissions=["microphone"], base_url=console.url)
    page = await context.new_page()
    await page.goto("/console/login")
    await page.get_by_label("Email").fill(ADMIN_EMAIL)
    await page.get_by_label("Password").fill(ADMIN_PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url("**/console/")
    try:
        yield page
    finally:
        await context.close()


@pytest.fixture(scope="session")
def screenshots() -> Iterator[Path]:
    """Where the tests save each page's screenshot."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield SCREENSHOTS


@pytest.fixture(scope="session")
def whisper() -> object:
    """Whisper tiny.en (shipped in a PyPI package), to check what a far end heard."""
    from faster_whisper import WhisperModel

    from switchboard.transcription.model import resolve_model

    return WhisperModel(resolve_model("tiny.en"), compute_type="int8", cpu_threads=2)


async def words_heard(model: object, path: Path) -> set[str]:
    """The words Whisper hears in ``path`` (lower case, no punctuation)."""
    import re

    def run() -> str:
        segments, _ = model.transcribe(str(path), beam_size=5)  # type: ignore[attr-defined]
        return " ".join(s.text for s in segments)

    return set(re.findall(r"[a-z]+", (await asyncio.to_thread(run)).lower()))
