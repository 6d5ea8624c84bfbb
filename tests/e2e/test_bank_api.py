"""Bank statements over HTTP: multipart upload, matching with reasons, accept, reject, split
and un-match; a broken file is a 422 problem naming the file and where, and writes nothing."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from fastapi.testclient import TestClient

from o2c.bootstrap import App
from tests.e2e.conftest import API, ok, problem, row_counts
from tests.fixtures.world import World
from tests.services.bank_support import ACCOUNT, entry, invoice, statement_file

D = Decimal
FIXTURES = Path(__file__).parent.parent / "fixtures" / "bank"


def upload(client: TestClient, name: str, content: bytes, **form: str):  # type: ignore[no-untyped-def]
    return client.post(f"{API}/bank-statements", files={"file": (name, content)},
                       data={"account": ACCOUNT, **form})


def test_upload_match_and_apply_a_camt_statement(client: TestClient, any_app: App,
                                                 world: World) -> None:
    first = invoice(any_app, world, "rossi")
    second = invoice(any_app, world, "rossi", "DESK")
    body = ok(upload(client, "camt053_v08.xml", (FIXTURES / "camt053_v08.xml").read_bytes()),
              201)
    assert (body["imported"], body["schema_validated"], body["format"]) == (
        3, True, "camt.053.001.08")
    again = ok(upload(client, "camt053_v08.xml", (FIXTURES / "camt053_v08.xml").read_bytes()),
               201)
    assert again["imported"] == 0 and again["already_imported"]
    run = ok(client.post(f"{API}/bank-matching", json={"as_of": "2026-03-31", "auto": True}))
    assert (run["lines"], run["automatic"], run["applied"]) == (3, 3, 3)
    lines = ok(client.get(f"{API}/bank-lines", params={"status": "applied"}))
    assert lines["total"] == 3
    rf_line = lines["items"][0]
    assert rf_line["reasons"][0].startswith("RF reference RF76 INV2 0260 0001 matches invoice")
    assert rf_line["proposal"]["allocations"][0]["invoice_id"] == first["id"]
    invoice_after = ok(client.get(f"{API}/invoices/{second['id']}"))
    assert D(invoice_after["residual"]) == 0
    undone = ok(client.post(f"{API}/bank-lines/{rf_line['id']}/unmatch",
                            json={"reason": "paid twice by mistake"}))
    assert undone["status"] == "rejected" and undone["payment_id"] is None
    assert D(ok(client.get(f"{API}/invoices/{first['id']}"))["residual"]) == D("146.40")
    assert all(check["ok"] for check in ok(client.get(f"{API}/ledger/verify"))["checks"])


def test_reject_then_split_a_line_by_hand(client: TestClient, any_app: App,
                                          world: World) -> None:
    first = invoice(any_app, world, "rossi")
    content = statement_file([entry("100.00", text="acconto", name="Rossi Arredamenti")])
    ok(upload(client, "acconto.xml", content), 201)
    ok(client.post(f"{API}/bank-matching", json={"as_of": "2026-03-31"}))
    [line] = ok(client.get(f"{API}/bank-lines"))["items"]
    assert line["status"] == "proposed"
    rejected = ok(client.post(f"{API}/bank-lines/{line['id']}/reject",
                              json={"reason": "not an advance"}))
    assert rejected["status"] == "rejected"
    refused = problem(client.post(f"{API}/bank-lines/{line['id']}/accept"), 422)
    assert "rejected" in refused["detail"]
    split = ok(client.post(f"{API}/bank-lines/{line['id']}/split", json={
        "customer_id": world.customers["rossi"],
        "allocations": [{"invoice_id": first["id"], "amount": "100.00"}]}))
    assert split["status"] == "applied"
    assert D(ok(client.get(f"{API}/invoices/{first['id']}"))["residual"]) == D("46.40")


def test_a_broken_upload_is_a_problem_naming_file_and_place(client: TestClient, any_app: App,
                                                            world: World) -> None:
    before = row_counts(any_app.engine)
    body = problem(upload(client, "broken_truncated.sta",
                          (FIXTURES / "broken_truncated.sta").read_bytes()), 422)
    assert body["file"] == "broken_truncated.sta" and body["location"] == "line 9"
    assert "truncated" in body["detail"]
    body = problem(upload(client, "bad.csv", (FIXTURES / "broken_wrong_decimal.csv")
                          .read_bytes(), profile="eu-semicolon"), 422)
    assert body["location"] == "line 2, column Betrag"
    assert row_counts(any_app.engine) == before


def test_an_upload_with_an_idempotency_key_is_replayed_and_another_file_is_a_conflict(
        client: TestClient, any_app: App, world: World) -> None:
    content = (FIXTURES / "camt053_v08.xml").read_bytes()
    headers = {"Idempotency-Key": "stmt-2026-03"}
    first = client.post(f"{API}/bank-statements", files={"file": ("a.xml", content)},
                        data={"account": ACCOUNT}, headers=headers)
    again = client.post(f"{API}/bank-statements", files={"file": ("a.xml", content)},
                        data={"account": ACCOUNT}, headers=headers)
    assert ok(first, 201) == ok(again, 201) and again.headers["Idempotent-Replayed"] == "true"
    other = client.post(f"{API}/bank-statements",
                        files={"file": ("a.xml", (FIXTURES / "camt053_v02.xml").read_bytes())},
                        data={"account": ACCOUNT}, headers=headers)
    problem(other, 409)


def test_payer_ibans_and_customer_groups_are_registered_over_http(
        client: TestClient, any_app: App, world: World) -> None:
    rossi, dupont = world.customers["rossi"], world.customers["dupont"]
    iban = "IT02L1234512345123456789012"
    body = ok(client.post(f"{API}/bank-payer-accounts", json={
        "company_id": world.company_id, "accounts": [{"iban": iban, "customer_id": rossi}]}))
    assert body["registered"] == 1
    assert body["accounts"] == [{"iban": iban, "customer_id": rossi, "code": body[
        "accounts"][0]["code"], "source": "master_data"}]
    conflict = client.post(f"{API}/bank-payer-accounts", json={
        "company_id": world.company_id, "accounts": [{"iban": iban, "customer_id": dupont}]})
    assert problem(conflict, 409)
    listed = ok(client.get(f"{API}/bank-payer-accounts",
                           params={"company_id": world.company_id, "customer_id": rossi}))
    assert [a["iban"] for a in listed] == [iban]
    history = ok(client.post(f"{API}/bank-payer-accounts/import-history",
                             json={"company_id": world.company_id}))
    assert history["registered"] == 0
    ok(client.post(f"{API}/customer-groups", json={"customer_id": rossi, "parent_id": dupont}))
    assert problem(client.post(f"{API}/customer-groups",
                               json={"customer_id": dupont, "parent_id": rossi}), 422)
