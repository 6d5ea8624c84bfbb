"""Declared transitions: each aggregate has a StrEnum state and a table of legal moves."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar

from o2c.domain.errors import InvalidTransition

S = TypeVar("S", bound=StrEnum)

# action -> (states it may start from, state it leads to)
Transitions = Mapping[str, tuple[frozenset[S], S]]


def move(
    transitions: Mapping[str, tuple[frozenset[S], S]],
    current: S,
    action: str,
    object_type: str,
    object_id: object,
) -> S:
    """The state `action` leads to from `current`, or InvalidTransition."""
    sources, target = transitions[action]
    if current not in sources:
        raise InvalidTransition(object_type, object_id, current.value, action)
    return target


def allowed_actions(transitions: Mapping[str, tuple[frozenset[S], S]], current: S) -> list[str]:
    return [action for action, (sources, _) in transitions.items() if current in sources]
