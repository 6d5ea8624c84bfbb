"""The message bus: runs a command's handler and the in-transaction policies its events
trigger, appends every event to the event log, and commits once."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import DataError, DBAPIError, IntegrityError

from o2c.adapters import logs, metrics
from o2c.domain import commands as c
from o2c.domain.access import Controls, Principal, system
from o2c.domain.commands import Command
from o2c.domain.errors import Conflict, DomainError, InvalidInput
from o2c.domain.events import Event
from o2c.services.batchgc import fewer_collections
from o2c.services.uow import UnitOfWork

log = logging.getLogger(__name__)

Handler = Callable[[Any, UnitOfWork], Any]
Policy = Callable[[Event, UnitOfWork], None]
Presenter = Callable[[UnitOfWork, Any], Any]
# A guard wraps a handler: it may check who asks before and what was done after `run()`.
Guard = Callable[[Any, UnitOfWork, Callable[[], Any]], Any]

# PostgreSQL serialization failure and deadlock: the transaction can simply run again.
RETRYABLE_SQLSTATES = {"40001", "40P01"}
MAX_ATTEMPTS = 5
# Commands that write or read a whole bank statement at once run with fewer garbage
# collections (see services.batchgc).
BULK_COMMANDS: frozenset[type[Command]] = frozenset(
    {c.ImportBankFile, c.MatchBankLines, c.ApplyBankLines})


class IdempotencyKeyReused(Conflict):
    def __init__(self, key: str) -> None:
        super().__init__(f"Idempotency-Key {key!r} was already used with a different request",
                         field="Idempotency-Key", key=key)


@dataclass(frozen=True)
class IdempotencyClaim:
    key: str
    fingerprint: str
    method: str
    path: str
    status_code: int = 200


@dataclass(frozen=True)
class Outcome:
    result: Any
    response: Any
    status_code: int
    replayed: bool = False


class MessageBus:
    def __init__(self, uow_factory: Callable[[str], UnitOfWork],
                 handlers: dict[type[Command], Handler],
                 policies: dict[str, list[Policy]],
                 guards: dict[type[Command], Guard] | None = None,
                 controls: Controls | None = None) -> None:
        self.uow_factory = uow_factory
        self.handlers = handlers
        self.policies = policies
        self.guards = guards or {}
        self.controls = controls or Controls()

    def handle(self, command: Command, *, actor: str = "system",
               principal: Principal | None = None) -> Any:
        return self.execute(command, actor=actor, principal=principal).result

    def execute(self, command: Command, *, actor: str = "system",
                present: Presenter | None = None,
                idempotency: IdempotencyClaim | None = None,
                principal: Principal | None = None,
                request_id: str | None = None) -> Outcome:
        """Run `command` in one transaction; `present` renders the response inside it, so an
        idempotent replay returns exactly what the first call returned. `principal` is who
        asks (a logged-in user; `actor` names a system actor otherwise): it goes to the audit
        trail with `request_id`, and users are held to dual control (see services.access)."""
        principal = principal or system(actor)
        name = type(command).__name__
        tokens = (logs.command.set(name), logs.user.set(principal.actor))
        outcome = "error"
        try:
            with fewer_collections() if type(command) in BULK_COMMANDS else nullcontext():
                result = self._execute(command, principal, present, idempotency, request_id)
            outcome = "replayed" if result.replayed else "ok"
            return result
        except DomainError as error:
            outcome = str(error.kind)  # not_found, conflict, rule_violation...
            raise
        finally:
            metrics.COMMANDS.labels(name, outcome).inc()
            logs.command.reset(tokens[0])
            logs.user.reset(tokens[1])

    def _execute(self, command: Command, principal: Principal, present: Presenter | None,
                 idempotency: IdempotencyClaim | None, request_id: str | None) -> Outcome:
        handler = self.handlers[type(command)]
        guard = self.guards.get(type(command))
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                with self.uow_factory(principal.actor) as uow:
                    uow.principal = principal
                    uow.request_id = request_id
                    uow.command_name = type(command).__name__
                    reason = getattr(command, "reason", None)
                    uow.reason = reason if isinstance(reason, str) and reason else None
                    uow.controls = self.controls
                    # Local system actors (CLI, demo, batch runs) are trusted operators.
                    uow.dual_control = not principal.is_system
                    if idempotency is not None:
                        replay = self._replay(uow, idempotency)
                        if replay is not None:
                            return replay
                    if guard is None:
                        result = handler(command, uow)
                    else:
                        result = guard(command, uow, lambda: handler(command, uow))
                    self._run_policies(uow)
                    response = None
                    if present is not None:
                        uow.flush()
                        response = present(uow, result)
                    if idempotency is not None:
                        uow.idempotency.store(idempotency.key, idempotency.fingerprint,
                                              idempotency.method, idempotency.path,
                                              idempotency.status_code, response)
                    uow.commit()
                    return Outcome(result, response,
                                   idempotency.status_code if idempotency else 200)
            except IntegrityError as error:
                # A concurrent request with the same key won the race: answer with its result.
                if idempotency is not None:
                    with self.uow_factory(principal.actor) as uow:
                        replay = self._replay(uow, idempotency)
                        if replay is not None:
                            return replay
                # Otherwise a database constraint caught what the rules should have: say so.
                raise Conflict(f"the database refused the change: {_first_line(error)}",
                               constraint=_first_line(error)) from error
            except DataError as error:
                raise InvalidInput(f"the database refused a value: {_first_line(error)}"
                                   ) from error
            except DBAPIError as error:
                if not _retryable(error) or attempt == MAX_ATTEMPTS:
                    raise
                log.info("retrying %s after %s (attempt %d)", type(command).__name__,
                         getattr(error.orig, "sqlstate", error), attempt)
                metrics.COMMAND_RETRIES.labels(type(command).__name__).inc()
                time.sleep(0.005 * attempt)
        raise AssertionError("unreachable")

    @staticmethod
    def _replay(uow: UnitOfWork, claim: IdempotencyClaim) -> Outcome | None:
        stored = uow.idempotency.find(claim.key)
        if stored is None:
            return None
        if stored.fingerprint != claim.fingerprint:
            raise IdempotencyKeyReused(claim.key)
        return Outcome(None, stored.body, stored.status_code, replayed=True)

    def _run_policies(self, uow: UnitOfWork) -> None:
        while True:
            triggered = [(event, policy) for event in uow.collect_events()
                         for policy in self.policies.get(event.topic, ())]
            if not triggered:
                return
            # Policies load aggregates through the identity map (current in memory); lookups
            # that query changed tables flush first (see Lookups.autoflush).
            for event, policy in triggered:
                policy(event, uow)


def _first_line(error: DBAPIError) -> str:
    return str(error.orig).strip().splitlines()[0] if error.orig else str(error)


def _retryable(error: DBAPIError) -> bool:
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate in RETRYABLE_SQLSTATES:
        return True
    return "database is locked" in str(error.orig)
