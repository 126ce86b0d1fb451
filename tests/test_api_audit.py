"""``/api/v1/audit-events`` (issue 16, scope ``audit:read``): the reseller's audit log
with the audit page's filters, newest first, paged after an event's id; what the API
itself does is there, named by its API client; another reseller's events never are."""

from __future__ import annotations

from sqlalchemy import func, select

from core.extensions import db
from core.models import AuditEvent
from seeds.documents import make_cnpj
from tests.api_setup import Caller, api_client, token
from tests.test_api_clients import NEW_CLIENT, caller


def events_of(app, reseller_id, **where) -> list[int]:
    with app.app_context():
        stmt = select(AuditEvent.id).where(AuditEvent.reseller_id == reseller_id)
        for name, value in where.items():
            stmt = stmt.where(getattr(AuditEvent, name) == value)
        return list(db.session.scalars(stmt.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())))


def make_clients(api, count: int) -> list[int]:
    """Clients made through the API (each one an audited ``client.created``)."""
    ids = []
    for n in range(count):
        body = {**NEW_CLIENT, "trade_name": f"Auditado {n}", "document": make_cnpj(9000 + n)}
        response = api.post("/api/v1/clients", json=body)
        assert response.status_code == 201, response.get_data(as_text=True)
        ids.append(response.get_json()["id"])
    return ids


def test_the_api_reads_the_audit_log_newest_first_a_page_at_a_time(app, tenants):
    api = caller(app, tenants.a.id)
    make_clients(api, 4)
    expected = events_of(app, tenants.a.id)
    assert len(expected) >= 5
    seen, after = [], None
    while True:
        query = "?limit=2" + (f"&starting_after={after}" if after else "")
        body = api.get(f"/api/v1/audit-events{query}").get_json()
        seen += [e["id"] for e in body["data"]]
        if not body["has_more"]:
            break
        after = body["data"][-1]["id"]
    assert seen == expected
    assert not set(seen) & set(events_of(app, tenants.b.id))


def test_what_the_api_did_is_there_named_by_its_api_client(app, tenants):
    api = caller(app, tenants.a.id)
    created = api.post("/api/v1/clients", json=NEW_CLIENT).get_json()
    body = api.get("/api/v1/audit-events?kind=api_client&action=client.created").get_json()
    [event] = body["data"]
    assert event["client_id"] == created["id"]
    assert event["actor"]["kind"] == "api_client" and event["actor"]["label"] == "ERP"
    assert event["actor"]["api_client_id"] is not None and event["actor"]["account_id"] is None
    assert event["target"] == {"type": "clients", "id": str(created["id"])}
    assert isinstance(event["seq"], int) and len(event["digest"]) == 64
    assert event["created_at"].endswith("Z")


def test_each_filter_narrows_like_the_audit_page(app, tenants):
    api = caller(app, tenants.a.id)
    first, _second = make_clients(api, 2)
    api.patch(f"/api/v1/clients/{first}", json={"city": "Campinas"})
    body = api.get(f"/api/v1/audit-events?client={first}").get_json()
    assert [e["id"] for e in body["data"]] == events_of(app, tenants.a.id, client_id=first)
    assert len(body["data"]) >= 2 and all(e["client_id"] == first for e in body["data"])
    body = api.get("/api/v1/audit-events?action=client.created").get_json()
    assert [e["id"] for e in body["data"]] == events_of(app, tenants.a.id, action="client.created")


def test_a_bad_filter_is_a_problem_naming_it_and_another_resellers_event_is_no_cursor(app, tenants):
    api = caller(app, tenants.a.id)
    for query, param in (
        ("ip=999.1.1.1", "ip"),
        ("date_from=2026-13-01", "date_from"),
        ("date_from=2026-05-02&date_to=2026-05-01", "date_from"),
        ("limit=101", "limit"),
        ("kind=robot", "kind"),
    ):
        response = api.get(f"/api/v1/audit-events?{query}")
        assert response.status_code == 422, query
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["param"] == param, query
    with app.app_context():
        theirs = db.session.scalar(
            select(func.max(AuditEvent.id)).where(AuditEvent.reseller_id == tenants.b.id)
        )
    response = api.get(f"/api/v1/audit-events?starting_after={theirs}")
    assert response.status_code == 422 and response.get_json()["param"] == "starting_after"


def test_the_audit_log_needs_its_scope(app, tenants):
    client_id, secret, _ = api_client(app, tenants.a.id, scopes=["clients:read"])
    api = Caller(app, token(app, client_id, secret))
    response = api.get("/api/v1/audit-events")
    assert response.status_code == 403
    assert response.get_json()["code"] == "insufficient_scope"
