"""Every ``BASTION_*`` setting, typed, in one place.

Each field below is documented in ``docs/settings.md``; a test checks that the two agree.
Settings are read from the environment (and an optional ``.env`` file in the working directory).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BASTION_", env_file=".env", extra="ignore")

    data_dir: Path = Field(
        Path("./bastion-data"), description="Folder for the embedded SQLite database."
    )
    database_url: str = Field(
        "", description="SQLAlchemy URL; empty means SQLite in data_dir (bastion.sqlite3)."
    )
    host: str = Field("127.0.0.1", description="Address the HTTP server binds.")
    port: int = Field(8000, ge=1, le=65535, description="Port the HTTP server binds.")
    log_level: str = Field("info", description="Logging level: debug, info, warning, error.")

    max_upload_mb: float = Field(200.0, gt=0, description="Largest accepted upload, in MiB.")
    max_image_pixels: int = Field(
        64_000_000, gt=0, description="Largest image (width x height) decoded; above is a bomb."
    )
    max_video_pixels: int = Field(
        8192 * 4320, gt=0, description="Largest video frame (width x height) decoded."
    )
    max_video_seconds: float = Field(
        4 * 3600.0, gt=0, description="Longest video hashed, in seconds."
    )
    video_frames_per_second: float = Field(
        1.0, ge=0, description="Video frames hashed per second; 0 hashes every frame."
    )

    pdq_threshold: int = Field(
        31, ge=0, le=256, description="Default PDQ Hamming distance for a match."
    )
    pdq_min_quality: int = Field(
        50, ge=0, le=100, description="PDQ hashes below this quality are too low to match."
    )
    robust_matching: bool = Field(
        True,
        description="Also match edited copies (crops, bars, mirroring, screenshots, rotations) "
        "through hash variants; see docs/robust-matching.md.",
    )
    text_classifier: bool = Field(
        True,
        description="Score text against the TVEC categories with the active classifier model "
        "(scores route to review, never to automatic action).",
    )
    ocr_images: bool = Field(
        False,
        description="Read text in scanned photos with Tesseract (about 1 s a photo); a scan "
        "can also ask for it.",
    )
    vpdq_frame_threshold: int = Field(
        31, ge=0, le=256, description="Default per-frame PDQ distance for video matching."
    )
    vpdq_query_match_percent: float = Field(
        80.0,
        ge=0,
        le=100,
        description="A video matches when this share of its frames match a bank video (excerpt).",
    )
    vpdq_bank_match_percent: float = Field(
        80.0,
        ge=0,
        le=100,
        description="...or when this share of the bank video's frames are found (compilation).",
    )

    flood_max_matches: int = Field(
        100,
        ge=0,
        description="Items one bank entry may match within the flood window before quarantine; "
        "0 turns flood control off.",
    )
    flood_window_seconds: float = Field(
        3600.0, gt=0, description="The flood-control window, in seconds."
    )

    fetch_allow_private: bool = Field(
        False, description="Allow URL fetches to private, loopback and link-local addresses."
    )
    fetch_timeout_seconds: float = Field(
        20.0, gt=0, description="Total time allowed for one URL fetch."
    )
    fetch_max_redirects: int = Field(5, ge=0, description="Redirects followed by a URL fetch.")

    session_lifetime_hours: float = Field(
        8.0, gt=0, description="A review workbench sign-in lasts at most this many hours."
    )
    session_idle_minutes: float = Field(
        30.0, gt=0, description="A sign-in unused for this many minutes ends."
    )
    login_max_failures: int = Field(
        5, ge=1, description="Wrong passwords in a row that lock an account."
    )
    login_lockout_minutes: float = Field(
        15.0, gt=0, description="How long an account stays locked after too many failures."
    )

    stream_webhook_url: str | None = Field(
        None,
        description="Where `bastion watch` POSTs stream matches as signed `stream.match` events; "
        "unset sends none.",
    )
    stream_webhook_secret: SecretStr | None = Field(
        None,
        description="HMAC-SHA256 key signing stream webhooks; required when the URL is set.",
    )
    stream_webhook_timeout_seconds: float = Field(
        5.0, gt=0, description="Time allowed for one stream webhook attempt."
    )
    stream_webhook_retries: int = Field(
        3, ge=0, description="Stream webhook retries after a connection error or a 5xx answer."
    )
    stream_webhook_allow_private: bool = Field(
        False,
        description="Allow stream webhooks to private, loopback and link-local addresses.",
    )

    stream_allow_private: bool = Field(
        False,
        description="Let the API watch streams on private, loopback and link-local addresses "
        "(a platform's internal media servers); `bastion watch` always may.",
    )
    stream_files_dir: Path | None = Field(
        None,
        description="Folder whose video files the API may play as live streams; unset refuses "
        "file sources in the API.",
    )
    stream_max_streams: int = Field(
        50, ge=1, description="Streams one process watches at once; more are refused."
    )
    stream_history_seconds: float = Field(
        3600.0,
        gt=0,
        description="Seconds of each stream's sampled hashes kept for banking a range of it.",
    )
    stream_ocr_seconds: float = Field(
        0.0,
        ge=0,
        description="Read the text on one sampled frame every this many stream seconds (OCR, "
        "then the text stage); 0 turns it off.",
    )
    stream_reconnect_initial_seconds: float = Field(
        1.0, gt=0, description="First wait before reconnecting a lost stream; doubles each time."
    )
    stream_reconnect_max_seconds: float = Field(
        60.0, gt=0, description="Longest wait between reconnection attempts."
    )
    stream_reconnect_attempts: int = Field(
        0,
        ge=0,
        description="Failed reconnection attempts in a row before a stream is given up; "
        "0 retries for as long as it is watched.",
    )

    action_webhook_url: str | None = Field(
        None,
        description="Where the action ledger POSTs decided actions (redirects, escalations, "
        "removals) as signed events; unset keeps them pending in the ledger.",
    )
    action_webhook_secret: SecretStr | None = Field(
        None,
        description="HMAC-SHA256 key signing action webhooks; required when the URL is set.",
    )
    action_webhook_timeout_seconds: float = Field(
        10.0, gt=0, description="Time allowed for one action webhook delivery attempt."
    )
    action_webhook_allow_private: bool = Field(
        False,
        description="Allow action webhooks to private, loopback and link-local addresses.",
    )
    action_max_attempts: int = Field(
        8, ge=1, description="Delivery attempts before an action moves to the dead-letter queue."
    )
    action_backoff_initial_seconds: float = Field(
        30.0, gt=0, description="Wait after an action's first failed delivery; doubles each time."
    )
    action_backoff_max_seconds: float = Field(
        3600.0, gt=0, description="Longest wait between an action's delivery attempts."
    )
    action_delivery_interval_seconds: float = Field(
        5.0, gt=0, description="How often the delivery loop looks for due actions."
    )
    redirect_resources: Path | None = Field(
        None,
        description="JSON file of counter-narrative resources per language and region; unset "
        "means none, and redirects are refused with that reason.",
    )

    secret_key: SecretStr | None = Field(
        None,
        description="Fernet key (32 random bytes, base64url) encrypting partner credentials; "
        "unset uses a key file created in data_dir/identity. Replicas must share one key.",
    )
    share_poll_enabled: bool = Field(
        True,
        description="`bastion serve` polls due subscriptions to partner feeds in the background.",
    )
    share_poll_interval_seconds: float = Field(
        300.0, ge=1, description="Default time between two polls of one subscription."
    )
    share_auto_feedback: bool = Field(
        True,
        description="A reviewer's verdict on a match with a partner's entry is sent back to the "
        "partner: a sighting when confirmed, a dispute when a false positive.",
    )
    share_page_objects: int = Field(
        1000, ge=1, le=10000, description="Objects asked for in one page of a partner feed."
    )
    share_max_page_bytes: int = Field(
        32 * 1024 * 1024,
        ge=1024,
        description="Largest page (or partner file) accepted in one piece; larger is refused.",
    )
    share_timeout_seconds: float = Field(
        30.0, gt=0, description="Time allowed for one request to a partner's server."
    )
    share_allow_private: bool = Field(
        False,
        description="Allow partner feeds on private, loopback and link-local addresses "
        "(an organisation's internal peers).",
    )

    finance_enabled: bool = Field(
        True,
        description="Scans look for payment instruments (crypto addresses, IBANs, payment links, "
        "mobile-money numbers) in text, OCR and QR codes, and screen them against imported "
        "sanctions lists.",
    )
    finance_name_threshold: float = Field(
        0.85,
        ge=0.5,
        le=1.0,
        description="Least score (0-1) at which a name typed for screening matches a listed name.",
    )
    finance_text_name_threshold: float = Field(
        0.92,
        ge=0.5,
        le=1.0,
        description="Least score at which a name found inside scanned text matches a listed "
        "name (higher than for typed names: running text holds many names).",
    )
    finance_screen_names: bool = Field(
        True, description="Scans also look for listed names (people, organisations) in the text."
    )
    finance_hit_bank: str = Field(
        "sanctioned-wallets",
        min_length=1,
        max_length=128,
        description="Bank that wallets hit by screening are added to (created on first hit, "
        "TLP:AMBER, tvec4), so the same wallet matches as a bank entry wherever it reappears.",
    )
    finance_max_list_bytes: int = Field(
        2 * 1024 * 1024 * 1024,
        ge=1024,
        description="Largest sanctions list file accepted for import.",
    )

    scan_workers: int = Field(
        0, ge=0, description="Processes hashing files in `bastion scan`; 0 means one per core."
    )

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'bastion.sqlite3').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once. Tests build their own ``Settings`` instead."""
    return Settings()
