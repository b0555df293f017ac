"""Settings, read from the environment with the ``LEADBASE_`` prefix."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEADBASE_", env_file=".env", extra="ignore")

    data_dir: Path = Path("./.leadbase")
    database_url: str | None = None
    read_database_url: str | None = None
    redis_url: str | None = None
    secret_key: str | None = None
    fernet_key: str | None = None
    allow_private_urls: bool = False
    log_level: str = "INFO"
    default_region: str = "US"
    root_profile: str | None = None

    # Database role that row-level security applies to; every request runs as it.
    db_app_role: str = "leadbase_app"
    db_pool_size: int = 20
    db_max_overflow: int = 10

    # Auth
    jwt_audience: str = "leadbase"
    jwt_issuer: str = "leadbase"
    access_token_ttl_seconds: int = 900
    refresh_token_ttl_seconds: int = 30 * 24 * 3600
    # The web console's session cookie (/app): lifetime, and whether it is marked Secure
    # (None: when the request came over https, as seen through trusted proxies).
    console_session_ttl_seconds: int = 12 * 3600
    console_cookie_secure: bool | None = None

    # Rate limits (the ``limits`` notation)
    rate_limit: str = "1200/minute"
    login_rate_limit_account: str = "10/minute"
    login_rate_limit_ip: str = "30/minute"
    register_rate_limit_ip: str = "20/hour"
    # The crm profile's own limits, per credential (its document: 100/10/5 a minute).
    crm_rate_limits: bool = True
    crm_rate_limit_standard: str = "100/minute"
    crm_rate_limit_bulk: str = "10/minute"
    crm_rate_limit_export: str = "5/minute"
    # How long the crm profile's import waits for its job before answering 202.
    crm_import_wait_seconds: float = Field(default=30.0, ge=0, le=600)

    # Lists
    count_exact_limit: int = Field(default=1_000, ge=0)
    idempotency_ttl_seconds: int = 24 * 3600

    # Request bodies (JSON) and the free parts of a lead (their JSON size)
    max_body_bytes: int = Field(default=1024 ** 2, ge=1024)

    # Imports
    import_max_upload_bytes: int = Field(default=512 * 1024 ** 2, ge=1024)
    # A spreadsheet (a zip) that would expand beyond this is refused as a zip bomb.
    import_max_uncompressed_bytes: int = Field(default=2 * 1024 ** 3, ge=1024)
    # Processes validating import rows (0: one per CPU).
    import_processes: int = Field(default=0, ge=0)

    run_worker: bool = True

    # Voice providers (the dialer). Base URLs are settings so tests and self-hosted
    # gateways can point them elsewhere; the public URL is where providers call back.
    public_base_url: str = "http://127.0.0.1:8000"
    vapi_base_url: str = "https://api.vapi.ai"
    bland_base_url: str = "https://api.bland.ai"
    voice_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    voice_retries: int = Field(default=3, ge=0, le=10)
    # A call with no final status after this long is asked for it, then closed as failed.
    voice_reconcile_after_seconds: int = Field(default=900, ge=60)

    # Reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed: addresses or
    # networks, comma-separated ("10.0.0.5,192.168.0.0/16"; "*" trusts every peer). None by
    # default: the client address is the TCP peer's, whatever headers it sends.
    trusted_proxies: str = ""

    def resolved_data_dir(self) -> Path:
        path = self.data_dir.expanduser().resolve()
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _kept_secret(self, name: str, make: str) -> str:
        """The secret kept in DATA_DIR/``name``, made from ``make`` by the first process
        that asks. Processes starting together (``serve --workers``, a worker beside)
        agree on one: the file appears complete or not at all (written aside, then
        hard-linked into place, which fails when another process was first)."""
        path = self.resolved_data_dir() / name
        if path.exists():
            return path.read_text().strip()
        aside = path.with_name(f".{name}.{os.getpid()}.{secrets.token_hex(4)}")
        try:
            fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(make)
            try:
                os.link(aside, path)
            except FileExistsError:
                return path.read_text().strip()
            return make
        finally:
            aside.unlink(missing_ok=True)

    def trusted_proxy_list(self) -> list[str]:
        return [p.strip() for p in self.trusted_proxies.split(",") if p.strip()]

    def jwt_secret(self) -> str:
        """The JWT signing secret: the configured one, or one generated and kept in DATA_DIR."""
        if self.secret_key:
            return self.secret_key
        return self._kept_secret("secret_key", secrets.token_urlsafe(48))

    def encryption_key(self) -> str:
        """Fernet key for provider secrets at rest (configured, or kept in DATA_DIR)."""
        if self.fernet_key:
            return self.fernet_key
        return self._kept_secret("fernet_key", Fernet.generate_key().decode())


@lru_cache
def get_settings() -> Settings:
    return Settings()
