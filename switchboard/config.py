"""Settings: the one place that reads the environment (``SWITCHBOARD_*``)."""

from __future__ import annotations

import ipaddress
import secrets
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

_PACKAGE_ROOT = Path(__file__).resolve().parent
_DEFAULT_SECRET = "change-me"


def _default_state_dir() -> Path:
    return Path.home() / ".local" / "share" / "switchboard"


class Settings(BaseSettings):
    """Every setting of Switchboard, read from ``SWITCHBOARD_*`` variables.

    Paths default to a per-user state directory so one command runs everything;
    a deployment points them at real volumes.
    """

    model_config = SettingsConfigDict(env_prefix="SWITCHBOARD_", env_file=None, extra="ignore")

    environment: str = "development"
    secret_key: str = _DEFAULT_SECRET

    # Storage
    state_dir: Path = Field(default_factory=_default_state_dir)
    database_url: str = ""
    storage_root: Path | None = None

    # Asterisk connection (the engine's view)
    asterisk_host: str = "127.0.0.1"
    ari_port: int = 8088
    ari_user: str = "switchboard"
    ari_password: str = ""
    ari_app: str = "switchboard"
    # Extra ARI websockets that carry REST requests only (see engine/ari/client.py).
    ari_rest_lanes: int = Field(default=3, ge=0, le=16)
    # SCHED_RR priority of `switchboard serve` (0 = normal scheduling); the local
    # Asterisk's highpriority is 10 too. See switchboard/scheduling.py.
    realtime_priority: int = Field(default=10, ge=0, le=99)
    ami_port: int = 5038
    ami_user: str = "switchboard"
    ami_secret: str = ""
    # Where Asterisk writes files, as seen from this host (bind-mounted spool).
    asterisk_spool_dir: Path | None = None
    asterisk_cdr_csv: Path | None = None
    # Where Asterisk reads its configuration, as seen from this host: the
    # engine writes pjsip_switchboard.conf (desk phones, trunks) there.
    asterisk_etc_dir: Path | None = None

    # Local Asterisk harness (`switchboard asterisk up`)
    rootfs_cache: Path = Path("/var/cache/switchboard/rootfs")
    debian_mirror: str = ""
    asterisk_config_dir: Path = _PACKAGE_ROOT.parent / "asterisk-config"
    sip_port: int = 5060

    # Engine behaviour
    routing_poll_seconds: float = 0.5
    reconcile_seconds: float = 15.0
    reconnect_max_seconds: float = 10.0
    default_ring_timeout: int = 20
    voicemail_max_seconds: int = 120
    voicemail_silence_seconds: int = 5

    # Outbound fetches (voice URLs, <Play>, callbacks, recordings) may reach
    # loopback, private, link-local... addresses only when listed here: CIDRs,
    # addresses or host names, comma- or space-separated (switchboard/fetch_policy.py).
    # Local development and the tests set 127.0.0.0/8,::1; production leaves it empty.
    fetch_allow: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # A provider's recording (RecordingUrl of a recording callback) is fetched
    # once into storage, at most this big and within this time.
    recording_fetch_max_bytes: int = Field(default=256 * 1024 * 1024, ge=1024)
    recording_fetch_timeout_seconds: float = Field(default=120.0, gt=0)

    # Webhooks: voice URLs and the callback outbox
    voice_url_timeout_seconds: float = 15.0
    webhook_user_agent: str = "Switchboard/0.1"
    outbox_retry_hours: float = 24.0
    outbox_backoff_base_seconds: float = 1.0
    outbox_backoff_max_seconds: float = 600.0
    outbox_poll_seconds: float = 2.0
    outbox_lease_seconds: float = 60.0
    outbox_concurrency: int = 16
    outbox_request_timeout_seconds: float = 15.0

    # API
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    public_base_url: str = ""
    # Rate limit shared by API processes when set (e.g. redis://127.0.0.1:6379/0).
    redis_url: str = ""
    rate_limit_per_minute: int = 200
    # Sign-in attempts per minute for one e-mail, and from one client address.
    login_attempts_per_minute: int = Field(default=10, ge=1)
    login_attempts_per_address_per_minute: int = Field(default=30, ge=1)
    # Request bodies larger than this are refused (413) before they are read;
    # a few routes have their own cap (switchboard/api/hardening.py).
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    jwt_access_minutes: int = 30
    jwt_refresh_days: int = 14
    # Admin console: how long a sign-in lasts, and where browser phones reach
    # Asterisk's SIP-over-WebSocket transport ("" = ws://<asterisk_host>:<ari_port>/ws,
    # fine on loopback; put wss:// behind TLS elsewhere).
    console_session_minutes: int = Field(default=480, ge=5, le=60 * 24 * 30)
    webrtc_ws_url: str = ""
    # Check provider signatures on /api/voice/* webhooks.
    webhook_validation: bool = True
    # Carrier REST APIs asked when a number is connected (add-phone, trunks):
    # base URL per integration (twilio, telnyx, plivo); missing ones use the carrier's.
    carrier_api_urls: dict[str, str] = Field(default_factory=dict)
    carrier_api_timeout: float = 5.0
    # Telnyx signs its webhooks with Ed25519: the account's public key (base64,
    # from the Telnyx portal) checks them when webhook_validation is on.
    telnyx_public_key: str = ""

    # Messaging: price of one SMS segment (billed per segment, GSM-7/UCS-2); how
    # often queued messages are looked for besides the wake-up after a commit;
    # attempts a transport gets before a message fails.
    sms_segment_price: str = "0.0079"
    messaging_poll_seconds: float = 5.0
    messaging_max_attempts: int = Field(default=5, ge=1, le=20)
    # The worker applies each tenant's retention (recordings, voicemails,
    # transcripts, messages older than its days) this often.
    retention_interval_seconds: float = 3600.0

    # Transcription
    whisper_model: str = "tiny.en"
    whisper_compute_type: str = "int8"
    whisper_beam_size: int = 5
    # Threads per job. One: a worker then runs one job per CPU (transcription_concurrency),
    # which on 2 cores transcribed a backlog ~1.3x faster than one job on 2 threads.
    whisper_threads: int = Field(default=1, ge=1, le=64)
    # Threads of the decoder; 0 = the faster count for this CPU (1 with VNNI, else
    # whisper_threads): see transcription/model.py decoder_threads.
    whisper_decoder_threads: int = Field(default=0, ge=0, le=64)
    whisper_language: str = "en"
    whisper_initial_prompt: str = ""
    # Shortest encoder input in mel frames (100 per second); 3000 = always the full 30 s window.
    whisper_encoder_min_frames: int = 3000
    whisper_vad: bool = True
    # Restart the worker once with glibc malloc tunables (keep freed memory, huge pages)
    # and one OpenBLAS thread: see transcription/process_env.py (encoder ~35 % faster).
    whisper_process_tuning: bool = True
    # Jobs one worker transcribes at once; 0 = usable CPUs // whisper_threads.
    transcription_concurrency: int = Field(default=0, ge=0, le=64)
    transcription_lease_seconds: float = 120.0
    transcription_max_attempts: int = 4
    # Back-off between attempts of a failed job (switchboard/backoff.py; no jitter).
    transcription_retry_base_seconds: float = 10.0
    transcription_retry_max_seconds: float = 900.0

    @field_validator("fetch_allow", mode="before")
    @classmethod
    def _split_allow_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return value.replace(",", " ").split()
        return value

    @model_validator(mode="after")
    def _refuse_default_secret_in_production(self) -> Settings:
        if self.environment == "production" and self.secret_key == _DEFAULT_SECRET:
            raise ValueError("SWITCHBOARD_SECRET_KEY must be set in production")
        return self

    @cached_property
    def resolved_database_url(self) -> str:
        """The SQLAlchemy async URL; SQLite under the state directory by default."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.state_dir / 'switchboard.db'}"

    @cached_property
    def resolved_storage_root(self) -> Path:
        """Root directory of recordings and voicemails as the host sees them."""
        return self.storage_root or (self.state_dir / "storage")

    @cached_property
    def base_url(self) -> str:
        """Public base URL of the API, used for voice URLs and playback links."""
        return self.public_base_url or f"http://{self.api_host}:{self.api_port}"


class UnsafeSettings(ValueError):
    """The settings would expose something they must not (refused before serving)."""


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` names only this machine (``127.x``, ``::1``, ``localhost``)."""
    name = host.strip().strip("[]").lower()
    if name in ("localhost", "localhost.localdomain") or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # another name, or 0.0.0.0 / :: (every interface)


def ensure_safe_to_serve(settings: Settings) -> None:
    """Refuse to serve beyond this machine with the development ``SECRET_KEY``.

    The development key is public (it is in this file): with it anyone can
    sign themselves an admin token. On loopback only this machine's users can
    reach the API, so development goes on; on any other address the key must
    be set, whatever ``environment`` is called.

    Raises:
        UnsafeSettings: ``api_host`` is not loopback and the key is the default.
    """
    if settings.secret_key == _DEFAULT_SECRET and not is_loopback_host(settings.api_host):
        raise UnsafeSettings(
            f"refusing to serve on {settings.api_host} with the development "
            "SWITCHBOARD_SECRET_KEY: set a secret key (or listen on 127.0.0.1)"
        )


def new_secret() -> str:
    """A random credential for generated configuration."""
    return secrets.token_urlsafe(18)
