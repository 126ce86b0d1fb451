"""Desks and tickets read through the API (issue 16): the desks with their settings and
fields, the tickets with the staff queue's filters, sorts and a cursor, one ticket with
its ETag and its timeline; scopes and bad filters refused."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from core.extensions import db
from desk.models import DeskField
from desk.states import ApprovalRule, EntryKind, FieldType, StatusKind
from desk.ticket_models import Ticket, TicketAttachment, TicketEntry
from tests.api_setup import Caller, api_client, token


def caller(app, reseller_id, scopes=None, name: str = "ERP") -> Caller:
    client_id, secret, _ = api_client(app, reseller_id, scopes, name=name)
    return Caller(app, token(app, client_id, secret))


@pytest.fixture
def desk_a(app, factory, tenants):
    """A's desk "Suporte" serving its client, with a required select field."""
    desk = factory.desk(
        tenants.a.id,
        name="Suporte",
        client_ids=[tenants.a.client.id],
        approval_rule=ApprovalRule.N_OF_M,
        approvals_needed=2,
        intake_email="suporte@a.test",
    )
    with app.app_context():
        db.session.add(
            DeskField(
                reseller_id=tenants.a.id,
                desk_id=desk.id,
                key="modulo",
                label="Módulo",
                field_type=FieldType.SELECT,
                options=["Fiscal", "Estoque"],
                required=True,
            )
        )
        db.session.commit()
    return desk


def test_the_desks_with_their_settings_and_fields_a_page_at_a_time(app, factory, tenants, desk_a):
    factory.desk(tenants.b.id, name="Mesa de B")
    api = caller(app, tenants.a.id, ["tickets:read"])
    first = api.get("/api/v1/desks?limit=1")
    assert first.status_code == 200, first.get_data(as_text=True)
    seen = [d["id"] for d in first.get_json()["data"]]
    rest = api.get(f"/api/v1/desks?starting_after={seen[0]}").get_json()
    desks = {d["name"]: d for d in first.get_json()["data"] + rest["data"]}
    assert "Mesa de B" not in desks and not rest["has_more"]
    suporte = desks["Suporte"]
    assert suporte["approval"] == {"rule": "n_of_m", "needed": 2}
    assert suporte["intake_email"] == "suporte@a.test" and suporte["archived"] is False
    assert suporte["review"]["enabled"] is True and suporte["default_priority"] == "normal"
    (field,) = suporte["fields"]
    assert (field["key"], field["type"], field["required"]) == ("modulo", "select", True)
    assert field["options"] == ["Fiscal", "Estoque"]
    refused = caller(app, tenants.a.id, ["clients:read"]).get("/api/v1/desks")
    assert refused.status_code == 403 and refused.get_json()["code"] == "insufficient_scope"


def test_the_tickets_with_the_queues_filters_sorts_and_a_cursor(app, factory, tenants, desk_a):
    a = tenants.a
    made = [factory.ticket(a.client.id, desk_a.id, subject=f"Impressora {n}").id for n in range(5)]
    closed = factory.ticket(a.client.id, desk_a.id, kind=StatusKind.CLOSED, subject="Velho").id
    other_client = factory.client(a.id, trade_name="Outro Cliente")
    theirs = factory.ticket(other_client.id, subject="Do outro").id
    factory.ticket(tenants.b.client.id, subject="De B")
    with app.app_context():
        db.session.get(Ticket, made[1]).priority_rank = 4
        db.session.get(Ticket, made[1]).priority = "urgent"
        db.session.commit()
    api = caller(app, a.id, ["tickets:read"])
    seen, after = [], None
    while True:
        query = f"?limit=2&sort=number&dir=desc&desk={desk_a.id}" + (
            f"&starting_after={after}" if after else ""
        )
        body = api.get("/api/v1/tickets" + query).get_json()
        seen.extend(t["id"] for t in body["data"])
        if not body["has_more"]:
            break
        after = seen[-1]
    assert seen == sorted(made, reverse=True)  # open work by default: not the closed one
    everything = api.get("/api/v1/tickets?status=all&limit=100").get_json()["data"]
    assert {t["id"] for t in everything} == {*made, closed, theirs}  # never B's
    urgent = api.get("/api/v1/tickets?priority=urgent").get_json()["data"]
    assert [t["id"] for t in urgent] == [made[1]]
    of_client = api.get(f"/api/v1/tickets?client={other_client.id}").get_json()["data"]
    assert [t["id"] for t in of_client] == [theirs]
    found = api.get("/api/v1/tickets?q=impressora%203").get_json()["data"]
    assert [t["subject"] for t in found] == ["Impressora 3"]
    by_priority = api.get(f"/api/v1/tickets?sort=priority&dir=desc&desk={desk_a.id}&limit=1").get_json()
    assert by_priority["data"][0]["id"] == made[1] and by_priority["has_more"]
    following = api.get(
        f"/api/v1/tickets?sort=priority&dir=desc&desk={desk_a.id}&starting_after={made[1]}"
    ).get_json()["data"]
    assert made[1] not in {t["id"] for t in following} and len(following) == 4


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("priority=altissima", "priority"),
        ("status=perdido", "status"),
        ("sort=nome", "sort"),
        ("dir=up", "dir"),
        ("assignee=me", "assignee"),
        ("assignee=ninguem", "assignee"),
        ("sla=talvez", "sla"),
        ("limit=0", "limit"),
        ("starting_after=999999", "starting_after"),
    ],
)
def test_a_bad_filter_is_a_422_naming_it(app, tenants, query, param):
    response = caller(app, tenants.a.id, ["tickets:read"]).get(f"/api/v1/tickets?{query}")
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.get_json()["param"] == param and response.get_json()["code"] == "invalid_parameter"


def test_one_ticket_with_its_etag_and_its_timeline(app, factory, tenants, desk_a):
    a = tenants.a
    ticket = factory.ticket(a.client.id, desk_a.id, subject="Nota fiscal")
    with app.app_context():
        row = db.session.get(Ticket, ticket.id)
        row.field_values = {"modulo": "Fiscal"}
        entry = TicketEntry(
            reseller_id=a.id,
            client_id=a.client.id,
            ticket_id=ticket.id,
            kind=EntryKind.PUBLIC_REPLY,
            author_account_id=a.client.responsible_account_id,
            body="Segue a nota.",
        )
        db.session.add(entry)
        db.session.flush()
        db.session.add(
            TicketAttachment(
                entry_id=entry.id,
                reseller_id=a.id,
                client_id=a.client.id,
                ticket_id=ticket.id,
                storage_key="x",
                filename="nota.pdf",
                size=1234,
                content_type="application/pdf",
                sha256="0" * 64,
            )
        )
        db.session.commit()
    api = caller(app, a.id, ["tickets:read"])
    response = api.get(f"/api/v1/tickets/{ticket.id}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["number"] == ticket.number and body["subject"] == "Nota fiscal"
    assert body["desk"] == {"id": desk_a.id, "name": "Suporte"}
    assert body["client"] == {"id": a.client.id, "trade_name": "Alpha A"}
    assert body["status"]["kind"] == "open" and body["status"]["name"]
    assert body["custom_fields"] == {"modulo": "Fiscal"} and body["created_at"].endswith("Z")
    assert body["sla"]["state"] in {"ok", "expiring", "breached", "met", "paused"}
    again = api.get(f"/api/v1/tickets/{ticket.id}", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    timeline = api.get(f"/api/v1/tickets/{ticket.id}/timeline")
    assert timeline.status_code == 200
    (reply,) = timeline.get_json()["data"]
    assert reply["kind"] == "public_reply" and reply["body"] == "Segue a nota."
    assert reply["author"]["type"] == "client_user"
    assert reply["author"]["id"] == a.client.responsible_account_id
    (attachment,) = reply["attachments"]
    assert (attachment["filename"], attachment["size"]) == ("nota.pdf", 1234) and "content" not in attachment
    b_ticket = factory.ticket(tenants.b.client.id)
    assert api.get(f"/api/v1/tickets/{b_ticket.id}").status_code == 404
    assert api.get(f"/api/v1/tickets/{b_ticket.id}/timeline").status_code == 404
    refused = caller(app, a.id, ["clients:read"]).get(f"/api/v1/tickets/{ticket.id}")
    assert refused.status_code == 403 and refused.get_json()["code"] == "insufficient_scope"


@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_the_cursor_walks_a_sort_with_empty_deadlines_as_one_page_does(app, factory, tenants, direction):
    made = [factory.ticket(tenants.a.client.id, subject=f"Prazo {n}").id for n in range(5)]
    with app.app_context():
        for ticket_id, hours in zip(made, (5, None, 1, None, 5), strict=True):
            row = db.session.get(Ticket, ticket_id)
            row.resolution_due_at = None if hours is None else datetime(2026, 12, 1) + timedelta(hours=hours)
        db.session.commit()
    api = caller(app, tenants.a.id, ["tickets:read"])
    query = f"/api/v1/tickets?sort=resolution_due_at&dir={direction}"
    whole = [t["id"] for t in api.get(query + "&limit=100").get_json()["data"]]
    walked, after = [], None
    while True:
        body = api.get(query + "&limit=1" + (f"&starting_after={after}" if after else "")).get_json()
        walked.extend(t["id"] for t in body["data"])
        if not body["has_more"]:
            break
        after = walked[-1]
    assert walked == whole and sorted(whole) == sorted(made)
    assert set(whole[-2:]) == {made[1], made[3]}  # empty deadlines last both ways
