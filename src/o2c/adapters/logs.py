"""Structured logs: with O2C_LOG_FORMAT=json every log line is one JSON object carrying the
request id, the user and the command being handled (context variables set by the API's
request middleware and by the message bus), so a log store can follow one request across
servers and workers."""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

request_id: ContextVar[str | None] = ContextVar("o2c_request_id", default=None)
user: ContextVar[str | None] = ContextVar("o2c_user", default=None)
command: ContextVar[str | None] = ContextVar("o2c_command", default=None)
job: ContextVar[str | None] = ContextVar("o2c_job", default=None)

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message",
                                                                              "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname.lower(), "logger": record.name,
            "message": record.getMessage()}
        for name, var in (("request_id", request_id), ("user", user), ("command", command),
                          ("job", job)):
            value = var.get()
            if value is not None:
                entry[name] = value
        for key, value in record.__dict__.items():  # `extra=` fields
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value if isinstance(value, str | int | float | bool | None) \
                    else str(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class _StandardError(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is when a record comes (not the one at start-up)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def configure(log_format: str = "text", level: int = logging.INFO) -> None:
    """Log to standard error, as text or (log_format "json") one JSON object a line; the
    servers' and workers' loggers (uvicorn, procrastinate) included. Called again, it
    replaces the handler it installed before (and only that one)."""
    handler = _StandardError()
    handler._o2c = True  # type: ignore[attr-defined]
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(
            "%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_o2c", False):
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "procrastinate"):
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True
    logging.getLogger("alembic").setLevel(logging.WARNING)  # readiness reads the revision
    for chatty in ("weasyprint", "fontTools"):  # a line per PDF layout step otherwise
        logging.getLogger(chatty).setLevel(logging.WARNING)
