"""Prometheus metrics (prometheus_client), served at /metrics.

Counted in the process: request latency by route, commands by type and outcome, command
retries (serialization failures and deadlocks run again). Read from the database at each
scrape, so that every server reports the same, whichever process did the work: job queue
depth and age, running and failed jobs, job retries, outbox lag."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine

from o2c.adapters.db import jobs as job_store

REGISTRY = CollectorRegistry(auto_describe=True)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

REQUEST_SECONDS = Histogram(
    "o2c_http_request_duration_seconds", "HTTP request latency by route",
    ["method", "route", "status"], registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
COMMANDS = Counter("o2c_commands", "Commands handled, by type and outcome",
                   ["command", "outcome"], registry=REGISTRY)
COMMAND_RETRIES = Counter("o2c_command_retries", "Commands run again after a serialization "
                          "failure or deadlock", ["command"], registry=REGISTRY)


class DatabaseCollector(Collector):
    """Gauges read from the database at scrape time (one short read transaction)."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.clock = clock

    def collect(self) -> Iterable[Metric]:
        now = self.clock()
        with self.engine.connect() as conn:
            pending, lag = job_store.outbox_lag(conn, now)
            stats = (job_store.queue_stats(conn)
                     if conn.dialect.name == "postgresql" else None)
        yield GaugeMetricFamily("o2c_outbox_pending", "Outbox rows not delivered yet",
                                value=pending)
        yield GaugeMetricFamily("o2c_outbox_lag_seconds",
                                "Age of the oldest undelivered outbox row", value=lag)
        if stats is None:
            return
        depth = GaugeMetricFamily("o2c_jobs_queue_depth", "Jobs waiting, by queue",
                                  labels=["queue"])
        for queue, count in sorted(stats.depth.items()):
            depth.add_metric([queue], count)
        yield depth
        yield GaugeMetricFamily("o2c_jobs_oldest_waiting_seconds",
                                "Age of the oldest job due and still waiting",
                                value=stats.oldest_age_seconds)
        yield GaugeMetricFamily("o2c_jobs_running", "Jobs being run by a worker",
                                value=stats.doing)
        yield GaugeMetricFamily("o2c_jobs_failed", "Jobs failed for good (retry or cancel "
                                "them in the back-office)", value=stats.failed)
        yield GaugeMetricFamily("o2c_jobs_retried_attempts",
                                "Attempts beyond the first, over the jobs kept",
                                value=stats.retried)


def exposition(engine: Engine, clock: Callable[[], datetime]) -> bytes:
    """The metrics in Prometheus' text format: this process's counters, then the database
    gauges of `engine`."""
    database = CollectorRegistry(auto_describe=False)
    database.register(DatabaseCollector(engine, clock))
    return generate_latest(REGISTRY) + generate_latest(database)
