"""A ticket's followers, its move to another desk and its merge through the API (issue
16), by the staff ticket page's rules and refusals: who may follow (a user of the
ticket's client, staff who work its desk), a move to a desk that serves the client, a
merge into a ticket of the same client; each change on the timeline and in the audit log
with the API client as actor; a refused one is a 422 naming its parameter (or a 409 for
the ticket's state) and changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from auth.models import Account
from core.extensions import db
from core.models import AuditEvent
from desk.models import DeskStaff
from desk.states import StatusKind
from desk.ticket_models import Ticket, TicketEntry, TicketFollower
from tests.api_setup import Caller, api_client, token


def caller(app, reseller_id, scopes=None) -> Caller:
    client_id, secret, _ = api_client(app, reseller_id, scopes, name="ERP Integrado")
    return Caller(app, token(app, client_id, secret))


@pytest.fixture
def scene(app, factory, tenants):
    """A's desk "Suporte" worked by an agent, a ticket on it, and an outsider (staff of A
    who works no desk)."""
    desk = factory.desk(tenants.a.id, name="Suporte", client_ids=[tenants.a.client.id])
    agent = factory.staff(tenants.a.id, email="agente@a.test")
    outsider = factory.staff(tenants.a.id, email="fora@a.test")
    with app.app_context():
        db.session.add(DeskStaff(desk_id=desk.id, account_id=agent.id, reseller_id=tenants.a.id))
        db.session.commit()
    ticket = factory.ticket(tenants.a.client.id, desk.id)
    return desk, agent, outsider, ticket


def follower_ids(app, ticket_id: int) -> set[int]:
    with app.app_context():
        return set(
            db.session.scalars(select(TicketFollower.account_id).where(TicketFollower.ticket_id == ticket_id))
        )


def audited(app, action: str, ticket_id: int) -> list[AuditEvent]:
    with app.app_context():
        return db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action, AuditEvent.object_id == str(ticket_id))
        ).all()


def test_followers_are_listed_added_and_removed_by_the_api_client(app, factory, tenants, scene):
    _desk, agent, _outsider, ticket = scene
    user = factory.user(tenants.a.client.id, name="Cliente Seguidora")
    api = caller(app, tenants.a.id)
    path = f"/api/v1/tickets/{ticket.id}/followers"
    assert api.get(path).get_json() == {"data": []}
    for account_id in (user.id, agent.id):
        added = api.post(path, json={"account_id": account_id})
        assert added.status_code == 201, added.get_data(as_text=True)
        assert added.get_json()["id"] == account_id
    again = api.post(path, json={"account_id": user.id})
    assert again.status_code == 201
    listed = api.get(path).get_json()["data"]
    assert {(f["id"], f["type"]) for f in listed} == {(user.id, "client_user"), (agent.id, "staff")}
    assert follower_ids(app, ticket.id) == {user.id, agent.id}
    events = audited(app, "ticket.follower", ticket.id)
    assert len(events) == 2 and {e.actor_label for e in events} == {"ERP Integrado"}
    assert all(e.actor_account_id is None and e.api_client_id is not None for e in events)
    removed = api.call("DELETE", f"{path}/{user.id}")
    assert removed.status_code == 204
    assert follower_ids(app, ticket.id) == {agent.id}
    assert api.call("DELETE", f"{path}/{user.id}").status_code == 404
    assert len(audited(app, "ticket.follower", ticket.id)) == 3
    # The ticket's own document lists them too.
    assert [f["id"] for f in api.get(f"/api/v1/tickets/{ticket.id}").get_json()["followers"]] == [agent.id]


def test_who_may_not_follow_is_a_422_naming_account_id(app, factory, tenants, scene):
    _desk, _agent, outsider, ticket = scene
    other_client = factory.client(tenants.a.id, trade_name="Outro Cliente")
    stranger = factory.user(other_client.id)
    b_user = factory.user(tenants.b.client.id)
    gone = factory.user(tenants.a.client.id)
    with app.app_context():
        db.session.get(Account, gone.id).active = False
        db.session.commit()
    api = caller(app, tenants.a.id)
    for account_id in (outsider.id, stranger.id, b_user.id, gone.id, 2**31 - 1):
        refused = api.post(f"/api/v1/tickets/{ticket.id}/followers", json={"account_id": account_id})
        assert refused.status_code == 422, account_id
        assert refused.get_json()["param"] == "account_id"
    for body in ({}, {"account_id": "x"}, {"account_id": 1, "reseller_id": tenants.b.id}):
        assert api.post(f"/api/v1/tickets/{ticket.id}/followers", json=body).status_code == 422
    assert follower_ids(app, ticket.id) == set()
    assert audited(app, "ticket.follower", ticket.id) == []


def test_a_ticket_moves_to_a_desk_serving_its_client(app, factory, tenants, scene):
    desk, _agent, _outsider, ticket = scene
    billing = factory.desk(tenants.a.id, name="Financeiro", client_ids=[tenants.a.client.id])
    api = caller(app, tenants.a.id)
    moved = api.post(f"/api/v1/tickets/{ticket.id}/move", json={"desk_id": billing.id})
    assert moved.status_code == 200, moved.get_data(as_text=True)
    assert moved.get_json()["desk"] == {"id": billing.id, "name": "Financeiro"}
    (event,) = audited(app, "ticket.desk", ticket.id)
    assert event.actor_label == "ERP Integrado"
    assert event.details["before"]["desk_id"] == desk.id and event.details["after"]["desk_id"] == billing.id
    timeline = api.get(f"/api/v1/tickets/{ticket.id}/timeline").get_json()["data"]
    assert timeline[-1]["event"]["type"] == "desk"
    assert timeline[-1]["author"] == {"type": "api_client", "id": None, "name": "ERP Integrado"}


def test_a_move_the_rule_refuses_is_a_422_or_a_409_and_changes_nothing(app, factory, tenants, scene):
    desk, _agent, _outsider, ticket = scene
    archived = factory.desk(
        tenants.a.id,
        name="Antiga",
        client_ids=[tenants.a.client.id],
        archived_at=datetime.now(UTC).replace(tzinfo=None),
    )
    not_serving = factory.desk(tenants.a.id, name="Outra Carteira")
    b_desk = factory.desk(tenants.b.id, name="Mesa B", client_ids=[tenants.b.client.id])
    api = caller(app, tenants.a.id)
    for desk_id in (desk.id, archived.id, not_serving.id, b_desk.id, 2**31 - 1):
        refused = api.post(f"/api/v1/tickets/{ticket.id}/move", json={"desk_id": desk_id})
        assert (refused.status_code, refused.get_json()["param"]) == (422, "desk_id"), desk_id
    merged = factory.ticket(tenants.a.client.id, desk.id, kind=StatusKind.MERGED)
    other = factory.desk(tenants.a.id, name="Financeiro", client_ids=[tenants.a.client.id])
    conflict = api.post(f"/api/v1/tickets/{merged.id}/move", json={"desk_id": other.id})
    assert conflict.status_code == 409 and conflict.get_json()["code"] == "ticket_refused"
    with app.app_context():
        assert db.session.get(Ticket, ticket.id).desk_id == desk.id
        assert db.session.get(Ticket, merged.id).desk_id == desk.id
    assert audited(app, "ticket.desk", ticket.id) == []


def test_a_ticket_merges_into_another_of_the_same_client(app, factory, tenants, scene):
    desk, _agent, _outsider, ticket = scene
    target = factory.ticket(tenants.a.client.id, desk.id, subject="Principal")
    api = caller(app, tenants.a.id)
    note = api.post(f"/api/v1/tickets/{ticket.id}/notes", json={"body": "Antes da junção"}).get_json()
    merged = api.post(f"/api/v1/tickets/{ticket.id}/merge", json={"into_id": target.id})
    assert merged.status_code == 200, merged.get_data(as_text=True)
    body = merged.get_json()
    assert body["merged_into_id"] == target.id and body["status"]["kind"] == StatusKind.MERGED
    with app.app_context():
        assert db.session.get(TicketEntry, note["id"]).ticket_id == target.id
    assert note["id"] in [
        e["id"] for e in api.get(f"/api/v1/tickets/{target.id}/timeline").get_json()["data"]
    ]
    events = audited(app, "ticket.merged", ticket.id) + audited(app, "ticket.merged", target.id)
    assert len(events) == 2 and {e.actor_label for e in events} == {"ERP Integrado"}
    again = api.post(f"/api/v1/tickets/{ticket.id}/merge", json={"into_id": target.id})
    assert again.status_code == 409 and again.get_json()["code"] == "ticket_refused"


def test_a_merge_the_rule_refuses_is_a_422_naming_into_id_and_changes_nothing(app, factory, tenants, scene):
    _desk, _agent, _outsider, ticket = scene
    other_client = factory.client(tenants.a.id, trade_name="Outro Cliente")
    other_desk = factory.desk(tenants.a.id, name="Mesa do Outro", client_ids=[other_client.id])
    foreign = factory.ticket(other_client.id, other_desk.id)
    b_ticket = factory.ticket(tenants.b.client.id)
    api = caller(app, tenants.a.id)
    for into_id in (ticket.id, foreign.id, b_ticket.id, 2**31 - 1):
        refused = api.post(f"/api/v1/tickets/{ticket.id}/merge", json={"into_id": into_id})
        assert (refused.status_code, refused.get_json()["param"]) == (422, "into_id"), into_id
    with app.app_context():
        row = db.session.get(Ticket, ticket.id)
        assert row.merged_into_id is None and row.status_kind != StatusKind.MERGED
    assert audited(app, "ticket.merged", ticket.id) == []


def test_changes_need_tickets_write(app, tenants, scene):
    _desk, agent, _outsider, ticket = scene
    reader = caller(app, tenants.a.id, ["tickets:read"])
    for path, body in (
        ("followers", {"account_id": agent.id}),
        ("move", {"desk_id": 1}),
        ("merge", {"into_id": 1}),
    ):
        refused = reader.post(f"/api/v1/tickets/{ticket.id}/{path}", json=body)
        assert refused.status_code == 403 and refused.get_json()["code"] == "insufficient_scope"
    assert reader.call("DELETE", f"/api/v1/tickets/{ticket.id}/followers/{agent.id}").status_code == 403
    assert reader.get(f"/api/v1/tickets/{ticket.id}/followers").status_code == 200
    assert follower_ids(app, ticket.id) == set()
