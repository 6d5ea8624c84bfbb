"""Settings from the environment; secrets never come from anywhere else."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite:///var/o2c.db"


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 8000
    log_sql: bool = False
    # -- security (issue 3) --
    secret_key: str = field(default="", repr=False)  # O2C_SECRET_KEY; see secret_key_from_env
    secure_cookies: bool = False  # O2C_SECURE_COOKIES=1 behind HTTPS (also turns on HSTS)
    session_hours: int = 12
    login_max_failures: int = 5  # then the user+address is locked for login_lock_minutes
    login_lock_minutes: int = 15
    # Addresses (or networks) of reverse proxies whose X-Forwarded-For is believed; empty:
    # nobody's, so no caller can pose as another address (and reset its login lock).
    trusted_proxies: str = ""
    approval_credit_limit_increase: Decimal = Decimal(10000)
    approval_credit_note: Decimal = Decimal(5000)
    retention_years: dict[str, int] = field(default_factory=lambda: {
        "IT": 10, "FR": 10, "ES": 6, "DE": 10, "MX": 5})
    # -- background jobs and operations (issue 19) --
    timezone: str = "UTC"  # O2C_TIMEZONE: the company's time, for schedules
    schedules: str = ""  # O2C_SCHEDULES: name=task@cron;... ("" = services.jobs defaults)
    job_max_attempts: int = 6  # O2C_JOB_MAX_ATTEMPTS: then a job is failed (retry by hand)
    # O2C_INPROCESS_WORKER: run jobs inside the server (1/0). `o2c serve` sets it to 1 on
    # SQLite when it is not given; an app built any other way (tests) runs no worker.
    inprocess_worker: str = ""
    log_format: str = "text"  # O2C_LOG_FORMAT=json: one JSON object per log line
    # O2C_DELIVER_ON_POST=0: posting does not enqueue its e-mail job (one statement less per
    # invoice); the every-minute schedule sends it instead
    deliver_on_post: bool = True
    job_stalled_seconds: float = 30.0  # O2C_JOB_STALLED_SECONDS: a silent worker is dead
    delivery_lease_seconds: int = 600  # O2C_DELIVERY_LEASE_SECONDS: a claimed e-mail's lease
    queue_stuck_seconds: float = 600.0  # O2C_QUEUE_STUCK_SECONDS: /health/ready fails past it

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ.get
        return cls(
            database_url=env("O2C_DATABASE_URL", DEFAULT_DATABASE_URL),
            host=env("O2C_HOST", "127.0.0.1"),
            port=int(env("O2C_PORT", "8000")),
            log_sql=env("O2C_LOG_SQL", "") == "1",
            secret_key=env("O2C_SECRET_KEY", ""),
            secure_cookies=env("O2C_SECURE_COOKIES", "") == "1",
            session_hours=int(env("O2C_SESSION_HOURS", "12")),
            login_max_failures=int(env("O2C_LOGIN_MAX_FAILURES", "5")),
            login_lock_minutes=int(env("O2C_LOGIN_LOCK_MINUTES", "15")),
            trusted_proxies=env("O2C_TRUSTED_PROXIES", "").strip(),
            approval_credit_limit_increase=Decimal(env("O2C_APPROVAL_CREDIT_LIMIT_INCREASE",
                                                       "10000")),
            approval_credit_note=Decimal(env("O2C_APPROVAL_CREDIT_NOTE", "5000")),
            retention_years=_retention(env("O2C_RETENTION_YEARS", "")),
            timezone=env("O2C_TIMEZONE", "UTC"),
            schedules=env("O2C_SCHEDULES", ""),
            job_max_attempts=int(env("O2C_JOB_MAX_ATTEMPTS", "6")),
            inprocess_worker=env("O2C_INPROCESS_WORKER", ""),
            log_format=env("O2C_LOG_FORMAT", "text"),
            queue_stuck_seconds=float(env("O2C_QUEUE_STUCK_SECONDS", "600")),
            job_stalled_seconds=float(env("O2C_JOB_STALLED_SECONDS", "30")),
            deliver_on_post=env("O2C_DELIVER_ON_POST", "1") != "0",
            delivery_lease_seconds=int(env("O2C_DELIVERY_LEASE_SECONDS", "600")),
        )

    @property
    def runs_jobs_in_process(self) -> bool:
        return self.inprocess_worker == "1"

    @property
    def serves_jobs_by_default(self) -> bool:
        """What `o2c serve` does without O2C_INPROCESS_WORKER: jobs in-process on SQLite."""
        if self.inprocess_worker:
            return self.inprocess_worker == "1"
        return not self.database_url.startswith("postgresql")


def _retention(text: str) -> dict[str, int]:
    """O2C_RETENTION_YEARS="IT=10,FR=10,ES=6,DE=10,MX=5" (given countries override these)."""
    years = {"IT": 10, "FR": 10, "ES": 6, "DE": 10, "MX": 5}
    for part in filter(None, (p.strip() for p in text.split(","))):
        country, _, value = part.partition("=")
        years[country.strip().upper()] = int(value)
    return years


DEV_SECRET_FILE = Path("var/secret_key")


def secret_key_from_env(path: Path = DEV_SECRET_FILE) -> str:
    """O2C_SECRET_KEY when set. Otherwise (development) a random key generated once and kept
    in var/secret_key (mode 0600), so sessions survive restarts; never a built-in default."""
    key = os.environ.get("O2C_SECRET_KEY", "")
    if key:
        return key
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.touch(mode=0o600)
    path.write_text(key)
    return key
