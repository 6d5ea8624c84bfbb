"""The only wiring place: engine, unit of work, bus."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from o2c.adapters.db.engine import make_engine
from o2c.adapters.jobs import JobEngine
from o2c.adapters.mail import MailSettings, SmtpMailer
from o2c.config import Settings
from o2c.domain.access import Controls
from o2c.services import jobs
from o2c.services.bus import MessageBus
from o2c.services.registry import GUARDS, HANDLERS, POLICIES
from o2c.services.uow import Clock, UnitOfWork


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class App:
    settings: Settings
    engine: Engine
    bus: MessageBus
    clock: Clock
    # Background jobs; built from the rest when not given (an App made by hand in a test).
    jobs: JobEngine = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.jobs is None:
            self.jobs = _job_engine(self.settings, self.engine, self.bus, self.clock)


def bootstrap(settings: Settings | None = None, *, engine: Engine | None = None,
              clock: Clock = system_clock) -> App:
    settings = settings or Settings.from_env()
    engine = engine or make_engine(settings.database_url, echo=settings.log_sql)

    job_engine: JobEngine | None = None

    def uow_factory(actor: str) -> UnitOfWork:
        return UnitOfWork(engine, clock, actor, job_engine)

    controls = Controls(settings.approval_credit_limit_increase, settings.approval_credit_note,
                        dict(settings.retention_years))
    bus = MessageBus(uow_factory, HANDLERS, POLICIES, GUARDS, controls)
    job_engine = _job_engine(settings, engine, bus, clock)
    return App(settings, engine, bus, clock, job_engine)


def _job_engine(settings: Settings, engine: Engine, bus: MessageBus, clock: Clock
                ) -> JobEngine:
    runtime = jobs.Runtime(engine, clock, bus, lambda: SmtpMailer(MailSettings.from_env()),
                           settings.timezone, timedelta(seconds=settings.delivery_lease_seconds))
    job_engine = jobs.job_engine(runtime, settings.database_url,
                                 settings.schedules or jobs.DEFAULT_SCHEDULES,
                                 settings.job_max_attempts, settings.job_stalled_seconds)
    if not settings.deliver_on_post:
        job_engine.not_deferred = frozenset({"o2c.deliver_invoice"})
    return job_engine


class SettableClock:
    """A clock the simulator and tests move forward by hand."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def set(self, moment: datetime) -> None:
        self.current = moment


__all__ = ["App", "Callable", "SettableClock", "bootstrap", "system_clock"]
