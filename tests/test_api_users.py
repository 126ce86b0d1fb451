"""A client's users through the API (issue 16): list with a cursor, one with its ETag,
create with the seed's default permissions (invited by e-mail), update within what may
be granted, deactivate (sessions end) and reactivate; the rules of ``tenant.users``,
audited with the API client; scopes, another reseller's ids and bad input refused."""

from __future__ import annotations

from sqlalchemy import func, select

from auth import permissions as perm
from auth.models import Account, AuthSession
from core.extensions import db
from core.models import AuditEvent
from tests.api_setup import Caller, api_client, token


def caller(app, reseller_id, scopes=None) -> Caller:
    client_id, secret, _ = api_client(app, reseller_id, scopes)
    return Caller(app, token(app, client_id, secret))


def users_path(client_id: int) -> str:
    return f"/api/v1/clients/{client_id}/users"


def account(app, account_id: int) -> Account:
    with app.app_context():
        row = db.session.get(Account, account_id)
        db.session.expunge(row)
        return row


def test_the_users_page_with_a_cursor_and_one_with_its_etag(app, factory, tenants):
    client = factory.client(tenants.a.id, trade_name="Com Gente")
    made = [factory.user(client.id, name=f"Pessoa {n}").id for n in range(3)]
    api = caller(app, tenants.a.id, ["users:read"])
    seen, after = [], None
    while True:
        query = "?limit=2" + (f"&starting_after={after}" if after else "")
        body = api.get(users_path(client.id) + query).get_json()
        seen.extend(u["id"] for u in body["data"])
        if not body["has_more"]:
            break
        after = seen[-1]
    assert set(made) <= set(seen) and len(seen) == len(set(seen)) == 4  # and the responsible user
    one = api.get(f"{users_path(client.id)}/{made[0]}")
    assert one.status_code == 200 and one.get_json()["name"] == "Pessoa 0"
    assert one.get_json()["created_at"].endswith("Z")
    again = api.get(f"{users_path(client.id)}/{made[0]}", headers={"If-None-Match": one.headers["ETag"]})
    assert again.status_code == 304
    bad = api.get(users_path(client.id) + "?starting_after=999999")
    assert bad.status_code == 422 and bad.get_json()["param"] == "starting_after"


def test_create_gives_the_default_permissions_invites_and_is_audited(app, tenants, mailbox, run_jobs):
    api = caller(app, tenants.a.id)
    response = api.post(
        users_path(tenants.a.client.id), json={"name": "Nova Pessoa", "email": "nova@alpha.test"}
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["permissions"] == list(perm.DEFAULT_CLIENT_USER_PERMISSIONS)
    assert body["chat_level"] == perm.DEFAULT_CHAT_LEVEL and body["is_active"] is True
    assert response.headers["Location"].endswith(f"/users/{body['id']}")
    run_jobs()
    assert mailbox.to("nova@alpha.test")
    with app.app_context():
        event = db.session.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "client_user.created", AuditEvent.object_id == str(body["id"])
            )
        )
    assert event.actor_label == "ERP" and event.actor_account_id is None


def test_bad_input_is_a_422_naming_it_and_changes_nothing(app, tenants):
    api = caller(app, tenants.a.id)
    path = users_path(tenants.a.client.id)
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(Account))
    for body, param in (
        ({"name": "X", "email": "não-é-email"}, "email"),
        ({"name": "", "email": "ok@alpha.test"}, "name"),
        ({"name": "X", "email": "ok@alpha.test", "chat_level": 9}, "chat_level"),
        ({"name": "X", "email": "ok@alpha.test", "permissions": ["root"]}, "permissions"),
        ({"name": "X", "email": "ok@alpha.test", "client_id": 1}, "client_id"),
    ):
        refused = api.post(path, json=body)
        assert refused.status_code == 422, (body, refused.get_data(as_text=True))
        assert refused.get_json()["param"] == param, (body, refused.get_json())
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Account)) == before


def test_update_changes_only_what_is_given_within_what_may_be_granted(app, factory, tenants):
    user = factory.user(tenants.a.client.id, name="Antes")
    api = caller(app, tenants.a.id)
    path = f"{users_path(tenants.a.client.id)}/{user.id}"
    done = api.patch(path, json={"name": "Depois", "permissions": ["portal", "reports"]})
    assert done.status_code == 200, done.get_data(as_text=True)
    assert done.get_json()["name"] == "Depois" and done.get_json()["permissions"] == ["portal", "reports"]
    kept = account(app, user.id)
    assert kept.chat_level == perm.DEFAULT_CHAT_LEVEL and kept.view_phones is True
    refused = api.patch(path, json={"permissions": ["superpoder"]})
    assert refused.status_code == 422 and refused.get_json()["param"] == "permissions"
    assert account(app, user.id).permissions == ["portal", "reports"]
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "client_user.updated"))
    assert event.actor_label == "ERP"


def test_deactivate_ends_the_sessions_and_only_the_reseller_reactivates(app, factory, tenants, make_browser):
    user = factory.user(tenants.a.client.id, email="sai@alpha.test")
    browser = make_browser()
    browser.login("sai@alpha.test")
    api = caller(app, tenants.a.id)
    path = f"{users_path(tenants.a.client.id)}/{user.id}"
    key = {"Idempotency-Key": "desativa-1"}
    done = api.post(f"{path}/deactivate", headers=key)
    assert done.status_code == 200 and done.get_json()["is_active"] is False
    assert done.get_json()["deactivated_by_staff"] is True
    assert api.post(f"{path}/deactivate", headers=key).headers["Idempotent-Replayed"] == "true"
    with app.app_context():
        live = db.session.scalar(
            select(func.count())
            .select_from(AuthSession)
            .where(AuthSession.account_id == user.id, AuthSession.revoked_at.is_(None))
        )
    assert live == 0
    back = api.post(f"{path}/reactivate")
    assert back.status_code == 200 and back.get_json()["is_active"] is True


def test_scopes_and_another_resellers_ids(app, factory, tenants):
    user_b = factory.user(tenants.b.client.id)
    user_a = factory.user(tenants.a.client.id)
    reader = caller(app, tenants.a.id, ["users:read"])
    refused = reader.post(users_path(tenants.a.client.id), json={"name": "X", "email": "x@alpha.test"})
    assert refused.status_code == 403 and refused.get_json()["code"] == "insufficient_scope"
    assert reader.post(f"{users_path(tenants.a.client.id)}/{user_a.id}/deactivate").status_code == 403
    assert caller(app, tenants.a.id, ["clients:read"]).get(users_path(tenants.a.client.id)).status_code == 403
    api = caller(app, tenants.a.id)
    assert api.get(users_path(tenants.b.client.id)).status_code == 404
    # B's user under A's client: not this client's user.
    assert api.get(f"{users_path(tenants.a.client.id)}/{user_b.id}").status_code == 404
    assert api.post(f"{users_path(tenants.a.client.id)}/{user_b.id}/deactivate").status_code == 404
    assert account(app, user_b.id).active is True
