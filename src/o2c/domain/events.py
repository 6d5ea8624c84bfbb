"""Domain events: every state change of every document, as it is appended to the event log."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Event:
    object_type: str
    object_id: int
    name: str
    data: dict[str, Any]

    @property
    def topic(self) -> str:
        return f"{self.object_type}.{self.name}"
