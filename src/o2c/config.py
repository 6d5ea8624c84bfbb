"""Settings from the environment; secrets never come from anywhere else."""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_DATABASE_URL = "sqlite:///var/o2c.db"


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 8000
    log_sql: bool = False

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            database_url=os.environ.get("O2C_DATABASE_URL", DEFAULT_DATABASE_URL),
            host=os.environ.get("O2C_HOST", "127.0.0.1"),
            port=int(os.environ.get("O2C_PORT", "8000")),
            log_sql=os.environ.get("O2C_LOG_SQL", "") == "1",
        )
