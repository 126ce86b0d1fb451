"""CSRF (QUALITY "Tenancy and access"): every state-changing route refuses a POST
without a token, except the signed machine endpoints; GET never changes state."""

from __future__ import annotations

import hashlib

from sqlalchemy import func, select

from auth.models import Account, AuthSession, TrustedDevice
from billing.models import Payment
from core.extensions import db
from core.models import AuditEvent, ResellerHost
from reseller.models import ExportJob
from tenant.directory import ensure_channel
from tenant.inbox_models import Contact, Conversation, Team
from tenant.models import Client, CustomFieldDefinition
from tests.api_setup import api_objects

# Machine endpoints authenticated by a signature instead of a session; the API's, by the
# API client's credentials or a Bearer token (cookies never reach them).
CSRF_EXEMPT = {
    "inbound.inbound",
    "stripe_webhooks.receive",
    "mail_inbound.receive",
    "whatsapp_webhook.receive",
    "api_oauth.token",
    "api_oauth.revoke",
    "api_oauth.introspect",
    "api_v1.Clients",
    "api_v1.client_inactivate",
    "api_v1.client_reactivate",
    "api_v1.client_suspend",
    "api_v1.client_lift_suspension",
    "api_v1.client_deletion_confirm",
    "api_v1.ClientUsers",
    "api_v1.client_user_deactivate",
    "api_v1.client_user_reactivate",
    "api_v1.client_plan_change",
    "api_v1.client_plan_cancel",
    "api_v1.client_payment_paid",
    "api_v1.client_user_login_link",
    "api_v1.Tickets",
    "api_v1.ticket_reply",
    "api_v1.ticket_note",
    "api_v1.TicketFollowers",
    "api_v1.ticket_move",
    "api_v1.ticket_merge",
}
# Rows a GET may touch without changing state: the session's "last seen" time, how far
# an account read a conversation (opening it is reading it), and the audit log's record
# of a refused GET (a 403 is an attempt the log keeps: its events are checked to be only
# that, below).
VOLATILE_TABLES = {
    "auth_sessions",
    "trusted_devices",
    "audit_events",
    "audit_chain_heads",
    "conversation_reads",
}
REFUSAL_ACTIONS = {"access.denied", "access.throttled"}


def digest(app) -> dict[str, str]:
    out = {}
    with app.app_context():
        for table in db.metadata.sorted_tables:
            if table.name in VOLATILE_TABLES:
                continue
            rows = db.session.execute(select(table).order_by(*table.primary_key.columns)).all()
            out[table.name] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return out


def a_objects(app, factory, tenants) -> dict:
    a = tenants.a
    user = factory.user(a.client.id, email="gente@alpha.test")
    with app.app_context():
        client = db.session.get(Client, a.client.id)
        ensure_channel(client)
        contact = Contact(reseller_id=a.id, client_id=a.client.id, name="Contato A", phone="5511999990001")
        db.session.add(contact)
        db.session.flush()
        conversation = Conversation(reseller_id=a.id, client_id=a.client.id, contact_id=contact.id)
        team = Team(reseller_id=a.id, client_id=a.client.id, name="Equipe A")
        field = CustomFieldDefinition(reseller_id=a.id, key="a_field", label="Campo A")
        db.session.add_all([conversation, team, field])
        db.session.flush()
        a_session = db.session.scalar(select(AuthSession).where(AuthSession.reseller_id == a.id))
        export = ExportJob(
            reseller_id=a.id, requested_by_account_id=a_session.account_id, filters={}, locale="pt_BR"
        )
        device = TrustedDevice(reseller_id=a.id, login_id=a_session.login_id, token_hash="a" * 64)
        db.session.add_all([export, device])
        db.session.commit()
        desk = factory.desk(a.id, name="Mesa A", client_ids=[a.client.id])
        ticket = factory.ticket(a.client.id, desk_id=desk.id)
        return {
            "desk_id": desk.id,
            "ticket_id": ticket.id,
            "attachment_id": 0,
            "message_id": 0,
            "client_id": a.client.id,
            "account_id": user.id,
            "conversation_id": conversation.id,
            "chat_message_id": 0,
            "contact_id": contact.id,
            "team_id": team.id,
            "export_id": export.id,
            "field_id": field.id,
            "session_id": a_session.id,
            "device_id": device.id,
            "channel_key": client.channel_key,
            "plan_id": a.plan.id,
            "payment_id": db.session.scalar(select(Payment.id).where(Payment.client_id == a.client.id)),
            "deletion_id": factory.deletion(a.id),
            "token": "x",
            "staff_id": a_session.account_id,
            "role_id": db.session.get(Account, a_session.account_id).role_id,
            "host_id": db.session.scalar(select(ResellerHost.id).where(ResellerHost.reseller_id == a.id)),
            "kind": "logo",
            "version": "x",
            **factory.desk_objects(a.id, a.client.id),
            **factory.domain_objects(a.id, a.client.id),
            # The reseller's terms, accepted by the user (else every workspace page would
            # send them to the terms first).
            "version_id": factory.terms(a.id, accepted_by=[user.id]),
            "article_id": factory.article(a.id),
            # A portal report's download (/app/reports/<report>.<fmt>).
            "report": "tickets",
            "fmt": "xlsx",
            **api_objects(app, a.id),
        }


def logged_in(factory, tenants, make_browser):
    staff = make_browser()
    staff.login("owner@a.test")
    return staff


def test_every_post_route_refuses_a_missing_csrf_token(app, factory, tenants, make_browser):
    staff = logged_in(factory, tenants, make_browser)
    objects = a_objects(app, factory, tenants)
    user = make_browser()
    user.login("gente@alpha.test")
    before = digest(app)
    checked = []
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.endpoint in CSRF_EXEMPT:
            continue
        path = rule.build({k: objects[k] for k in rule.arguments}, append_unknown=False)[1]
        for browser in (staff, user):
            response = browser.post(path, {"account_id": objects["account_id"], "name": "x"}, csrf=False)
            assert response.status_code == 400, (rule.rule, response.status_code)
        checked.append(rule.rule)
    assert len(checked) > 20
    assert digest(app) == before


def test_the_exempt_endpoints_are_signature_checked(app, factory, tenants, make_browser):
    logged_in(factory, tenants, make_browser)
    objects = a_objects(app, factory, tenants)
    response = make_browser().http.post(
        f"http://a.test/inbound/{objects['channel_key']}",
        json={"from": "11999990000", "text": "x", "id": "1"},
    )
    assert response.status_code == 401
    mail = make_browser().http.post("http://a.test/mail/inbound", data=b"Subject: x\r\n\r\nx")
    assert mail.status_code == 401
    whatsapp = make_browser().http.post(
        "http://a.test/webhooks/whatsapp",
        json={"entry": [{"changes": [{"value": {"metadata": {"phone_number_id": "1"}}}]}]},
        headers={"X-Hub-Signature-256": "sha256=" + "0" * 64},
    )
    assert whatsapp.status_code == 404  # no channel has this number: nothing can check it
    logged = logged_in(factory, tenants, make_browser)
    before = digest(app)
    for path in ("/oauth/token", "/oauth/revoke", "/oauth/introspect"):
        refused = make_browser().http.post(f"https://a.test{path}", data={"token": "x", "grant_type": "x"})
        assert refused.status_code in (400, 401), (path, refused.status_code)
    assert logged.http.post("http://a.test/api/v1/clients", json={"trade_name": "x"}).status_code == 401
    assert digest(app) == before


def test_get_never_changes_state(app, factory, tenants, make_browser):
    staff = logged_in(factory, tenants, make_browser)
    objects = a_objects(app, factory, tenants)
    user = make_browser()
    user.login("gente@alpha.test")
    anonymous = make_browser()
    before = digest(app)
    with app.app_context():
        last_event = db.session.scalar(select(func.max(AuditEvent.id))) or 0
    visited = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        path = rule.build({k: objects[k] for k in rule.arguments}, append_unknown=False)[1]
        for browser in (staff, user, anonymous):
            response = browser.get(path)
            response.close()
            visited += 1
    assert visited > 40
    assert digest(app) == before
    with app.app_context():
        written = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.id > last_event)))
    assert written <= REFUSAL_ACTIONS
