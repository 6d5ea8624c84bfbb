"""Operations over HTTP: the failed-jobs view (API and back-office) with its permissions,
/metrics in Prometheus' format, liveness and readiness, JSON logs."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from o2c.adapters import logs
from o2c.bootstrap import App, bootstrap
from o2c.config import Settings
from o2c.server import create_app
from tests.e2e.conftest import API, ClientAs, token_for
from tests.e2e.web_support import csrf_of, sign_in
from tests.fixtures.world import World
from tests.integration.test_jobs import clean_jobs, wait_for


@pytest.fixture
def failing(any_app: App) -> Iterator[tuple[App, int]]:
    """An app whose jobs fail for good at the first error, and one such failed job."""
    clean_jobs(any_app.engine)
    app = bootstrap(Settings(database_url=any_app.settings.database_url, schedules="none",
                             job_max_attempts=1), engine=any_app.engine, clock=any_app.clock)
    if app.jobs.postgres:
        job_id = app.jobs.defer("o2c.deliver_chunk", run_id=999, chunk=0)
        app.jobs.run_worker(wait=False)
    else:
        app.jobs.start_in_background()
        job_id = app.jobs.defer("o2c.deliver_chunk", run_id=999, chunk=0)
        wait_for(lambda: app.jobs.in_memory_jobs("failed"))
        app.jobs.stop()
    yield app, job_id


def test_failed_jobs_are_listed_with_their_error_and_an_admin_retries_or_cancels_them(
        failing: tuple[App, int]) -> None:
    app, job_id = failing
    with TestClient(create_app(app)) as client:
        client.headers["Authorization"] = f"Bearer {token_for(app, 'ops', 'admin')}"
        listed = client.get(f"{API}/jobs", params={"status": "failed"}).json()
        assert listed["total"] == 1
        [job] = listed["items"]
        assert (job["id"], job["task"], job["status"]) == (job_id, "o2c.deliver_chunk",
                                                            "failed")
        assert "999/0" in job["error"]
        retried = client.post(f"{API}/jobs/{job_id}/retry")
        assert retried.status_code == 200 and retried.json()["status"] == "todo"
        again = client.post(f"{API}/jobs/{job_id}/retry")
        assert again.status_code == 409  # only a failed job is retried
        assert client.post(f"{API}/jobs/{job_id}/cancel").json()["status"] == "cancelled"
        assert client.get(f"{API}/jobs", params={"status": "failed"}).json()["total"] == 0
        assert client.post(f"{API}/jobs/999999/retry").status_code == 404
        trail = client.get(f"{API}/audit").json()["items"]
        assert {"RetryJob", "CancelJob"} <= {entry["command"] for entry in trail}


def test_only_admins_act_on_jobs_and_auditors_may_look(
        any_app: App, client_as: ClientAs) -> None:
    auditor, sales = client_as("auditor"), client_as("sales")
    assert auditor.get(f"{API}/jobs").status_code == 200
    assert auditor.post(f"{API}/jobs/1/retry").status_code == 403
    assert sales.get(f"{API}/jobs").status_code == 403
    assert sales.post(f"{API}/jobs/1/cancel").status_code == 403


def test_the_back_office_shows_failed_jobs_and_retries_one(failing: tuple[App, int]) -> None:
    app, job_id = failing
    from o2c.domain.access import CreateUser

    app.bus.handle(CreateUser("opsweb", "correct horse battery staple", "admin"))
    with TestClient(create_app(app)) as client:
        sign_in(client, "opsweb", "correct horse battery staple")
        html = client.get("/jobs?lang=it").text
        assert f'id="job-{job_id}"' in html and "999/0" in html
        assert "Processi in background" in html and "Riprova" in html
        done = client.post(f"/jobs/{job_id}/retry", data={"csrf_token": csrf_of(html)},
                           follow_redirects=False)
        assert done.status_code == 303
    with app.engine.connect() as conn:
        assert app.jobs.status(conn, job_id) == "todo"


def test_metrics_report_requests_by_route_commands_by_outcome_and_the_outbox(
        any_app: App, world: World, anonymous: TestClient) -> None:
    anonymous.get("/health/live")
    families = {f.name: f for f in text_string_to_metric_families(
        anonymous.get("/metrics").text)}
    latency = families["o2c_http_request_duration_seconds"]
    assert any(s.labels.get("route") == "/health/live" for s in latency.samples)
    commands = families["o2c_commands"]
    assert any(s.labels == {"command": "CreateCustomer", "outcome": "ok"} and s.value >= 3
               for s in commands.samples if s.name == "o2c_commands_total")
    assert "o2c_outbox_lag_seconds" in families
    if any_app.jobs.postgres:
        assert "o2c_jobs_queue_depth" in families
        assert "o2c_jobs_oldest_waiting_seconds" in families


def test_readiness_checks_database_migrations_and_queue(any_app: App,
                                                        anonymous: TestClient) -> None:
    clean_jobs(any_app.engine)
    assert anonymous.get("/health/live").json() == {"status": "ok"}
    ready = anonymous.get("/health/ready")
    assert ready.status_code == 200, ready.text
    checks = ready.json()["checks"]
    assert checks["database"]["ok"] and checks["migrations"]["ok"]
    assert checks["migrations"]["current"] == checks["migrations"]["head"]
    if any_app.jobs.postgres:  # a job due for longer than allowed: the queue is stuck
        with any_app.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO procrastinate_jobs (queue_name, task_name, args, scheduled_at) "
                "VALUES ('default', 'o2c.deliver_invoices', '{}', now() - interval '2 hours')"))
        stuck = anonymous.get("/health/ready")
        assert stuck.status_code == 503 and not stuck.json()["checks"]["queue"]["ok"]
        clean_jobs(any_app.engine)


def test_json_logs_carry_request_id_user_and_command(
        any_app: App, client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    formatter = logs.JsonFormatter()
    with caplog.at_level(logging.INFO):
        client.post(f"{API}/companies", headers={"X-Request-ID": "req-19-json"}, json={
            "code": "LOGCO", "name": "Log Co", "country": "IT", "currency": "EUR"})
    access = [json.loads(formatter.format(r)) for r in caplog.records
              if r.name == "o2c.access"]
    assert any(line["request_id"] == "req-19-json" and line["user"] == "admin"
               and line["route"] == f"{API}/companies" for line in access)
    record = logging.LogRecord("o2c.test", logging.INFO, __file__, 1, "inside", None, None)
    tokens = (logs.request_id.set("r1"), logs.user.set("u1"), logs.command.set("CreateOrder"))
    try:
        line = json.loads(formatter.format(record))
    finally:
        logs.request_id.reset(tokens[0])
        logs.user.reset(tokens[1])
        logs.command.reset(tokens[2])
    assert (line["request_id"], line["user"], line["command"], line["message"]) == (
        "r1", "u1", "CreateOrder", "inside")


# -- chunked runs through the API and the CLI ------------------------------------------------


def test_an_admin_plans_a_chunked_delivery_run_and_follows_its_progress(
        any_app: App, world: World, client: TestClient, client_as: ClientAs) -> None:
    from tests.integration.test_jobs import invoice

    clean_jobs(any_app.engine)
    for _ in range(5):
        invoice(any_app, world)
    planned = client.post(f"{API}/jobs/runs", json={"chunk_size": 2})
    assert planned.status_code == 201, planned.text
    run = planned.json()
    assert (run["items"], run["chunks"], run["chunks_done"], run["progress"]) == (5, 3, 0, 0.0)
    listed = client.get(f"{API}/jobs/runs").json()
    assert [r["id"] for r in listed["items"]] == [run["id"]]
    if any_app.jobs.postgres:
        chunk_jobs = [j for j in client.get(f"{API}/jobs", params={"status": "todo"}).json()[
            "items"] if j["task"] == "o2c.deliver_chunk"]
        assert sorted(j["args"]["chunk"] for j in chunk_jobs) == [0, 1, 2]
    assert client.post(f"{API}/jobs/runs", json={"chunk_size": 0}).status_code == 422
    assert client_as("controller").post(f"{API}/jobs/runs").status_code == 403


def test_the_cli_lists_jobs_and_runs_and_a_worker_stops_when_the_queue_is_empty(
        any_app: App) -> None:
    from typer.testing import CliRunner

    from o2c.cli import app as cli_app

    url = any_app.settings.database_url
    clean_jobs(any_app.engine)

    def o2c(*args: str) -> str:
        result = CliRunner().invoke(cli_app, ["--database-url", url, *args],
                                    env={"O2C_SCHEDULES": "none"})
        assert result.exit_code == 0, result.output
        return result.stdout  # logs go to stderr

    assert json.loads(o2c("jobs", "list", "--json"))["total"] == 0
    planned = json.loads(o2c("jobs", "deliver-run", "--chunk-size", "10", "--json"))
    assert planned["chunks"] == 0 and planned["progress"] == 1.0
    assert json.loads(o2c("jobs", "runs", "--json"))["items"][0]["id"] == planned["id"]
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        assert "worker on" in o2c("worker", "--once")
    finally:  # the worker configured logging for its process: this one is pytest's
        root.handlers[:] = handlers
        root.setLevel(level)
