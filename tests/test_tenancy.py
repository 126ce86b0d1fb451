"""Route sweep (QUALITY "Tenancy and access"): every route with an id, every method,
called by reseller A's staff, by a user of A's client and by staff logged in as that
user, with the ids of reseller B's objects: only 404 / 403 (or the audience guard's
redirect), and nothing of B changes. A route whose arguments the sweep does not know
fails the test, so new routes must be added here."""

from __future__ import annotations

import hashlib
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import inspect, select, text

from auth import permissions as perm
from auth.models import STAFF, Account, AuthSession, Login, TrustedDevice
from billing.models import Payment
from core.extensions import db
from core.models import Reseller, ResellerHost
from desk.ticket_models import TicketAttachment, TicketEntry
from intake.models import InboundMessage
from intake.states import ReceivedVia
from reseller.models import ExportJob
from tenant.directory import ensure_channel
from tenant.inbox_models import Contact, Conversation, Message, Team
from tenant.invitations import invitation_token
from tenant.models import Client, CustomFieldDefinition
from tenant.states import MessageDirection, MessageKind
from tests.api_setup import Caller, api_client, api_objects, token

SKIP_ENDPOINTS = {"static"}
# Routes that answer for the audience check before looking at the id.
AUDIENCE_REDIRECTS = {"/reseller/clients", "/app/subscription", "/login"}
# The portal's report downloads (/app/reports/<report>.<fmt>), aimed at no report.
REPORT_DOWNLOAD = {"report": "unknown", "fmt": "csv"}


@pytest.fixture
def b_objects(app, factory, tenants, make_browser):
    """One of everything in reseller B, to aim A's requests at."""
    b = tenants.b
    user = factory.user(b.client.id, email="gente@beta.test")
    other_b_client = factory.client(b.id, trade_name="Beta 2")
    owner_b = make_browser("b.test")
    owner_b.login("owner@b.test")
    with app.app_context():
        client = db.session.get(Client, b.client.id)
        ensure_channel(client)
        contact = Contact(reseller_id=b.id, client_id=b.client.id, name="Contato B", phone="5511999990000")
        db.session.add(contact)
        db.session.flush()
        conversation = Conversation(reseller_id=b.id, client_id=b.client.id, contact_id=contact.id)
        team = Team(reseller_id=b.id, client_id=b.client.id, name="Equipe B")
        field = CustomFieldDefinition(reseller_id=b.id, key="b_field", label="Campo B")
        db.session.add_all([conversation, team, field])
        db.session.flush()
        # A photo B's contact sent on WhatsApp (its file is not needed: the sweep never gets it).
        chat_message = Message(
            reseller_id=b.id,
            client_id=b.client.id,
            conversation_id=conversation.id,
            direction=MessageDirection.INBOUND,
            body="foto",
            kind=MessageKind.IMAGE,
            media_key=f"reseller/{b.id}/client/{b.client.id}/whatsapp/sweep",
            media_type="image/png",
        )
        db.session.add(chat_message)
        db.session.flush()
        owner_account_id = db.session.scalar(
            select(AuthSession.account_id).where(AuthSession.reseller_id == b.id)
        )
        export = ExportJob(
            reseller_id=b.id, requested_by_account_id=owner_account_id, filters={}, locale="pt_BR"
        )
        b_session = db.session.scalar(select(AuthSession).where(AuthSession.reseller_id == b.id))
        device = TrustedDevice(reseller_id=b.id, login_id=b_session.login_id, token_hash="b" * 64)
        db.session.add_all([export, device])
        # A login of B invited into another client of B, waiting: its link is B's object.
        waiting = Account(
            reseller_id=b.id,
            login_id=db.session.get(Account, user.id).login_id,
            client_id=other_b_client.id,
            kind="client_user",
            name="Convidada B",
            awaiting_acceptance=True,
        )
        db.session.add(waiting)
        db.session.flush()
        invitation = invitation_token(waiting)
        # B's logo: its versioned URL is B's object too (served on B's hosts only).
        reseller_b = db.session.get(Reseller, b.id)
        reseller_b.logo_data, reseller_b.logo_type = b"<svg/>", "image/svg+xml"
        reseller_b.logo_version = "b" * 16
        db.session.commit()
        desk_b = factory.desk(b.id, name="Mesa B", client_ids=[b.client.id])
        ticket_b = factory.ticket(b.client.id, desk_id=desk_b.id)
        attachment_b = ticket_attachment(ticket_b)
        objects = {
            "message_id": received_mail(ticket_b),
            "desk_id": desk_b.id,
            "ticket_id": ticket_b.id,
            "attachment_id": attachment_b,
            "token": invitation,
            "client_id": b.client.id,
            "account_id": user.id,
            "conversation_id": conversation.id,
            "chat_message_id": chat_message.id,
            "contact_id": contact.id,
            "team_id": team.id,
            "export_id": export.id,
            "field_id": field.id,
            "session_id": b_session.id,
            "device_id": device.id,
            "channel_key": client.channel_key,
            "plan_id": b.plan.id,
            "payment_id": db.session.scalar(select(Payment.id).where(Payment.client_id == b.client.id)),
            "deletion_id": factory.deletion(b.id),
            "staff_id": owner_account_id,
            "role_id": db.session.get(Account, owner_account_id).role_id,
            "host_id": db.session.scalar(select(ResellerHost.id).where(ResellerHost.reseller_id == b.id)),
            "kind": "logo",
            "version": "b" * 16,
            **factory.desk_objects(b.id, b.client.id),
            **factory.domain_objects(b.id, b.client.id),
            "version_id": factory.terms(b.id),
            # B's public article: on A's host, in A's panel and workspace, a 404.
            "article_id": factory.article(b.id, visibility="public"),
            # A report's name and format are no tenant's: an unknown report is a 404 (the
            # reports count the asking user's own client only: tests/test_portal_reports.py).
            **REPORT_DOWNLOAD,
            **api_objects(app, b.id),
        }
        # The reads above began a savepoint of this context's session: the factories'
        # rows written inside it would be rolled back with it when the context ends.
        db.session.commit()
        return objects


def ticket_attachment(ticket) -> int:
    """An attachment row of ``ticket`` (its file is not needed: the sweep never gets it)."""
    row = TicketAttachment(
        reseller_id=ticket.reseller_id,
        client_id=ticket.client_id,
        ticket_id=ticket.id,
        storage_key=f"reseller/{ticket.reseller_id}/client/{ticket.client_id}/tickets/{ticket.id}/sweep",
        filename="nota.txt",
        size=1,
        content_type="text/plain",
        sha256="0" * 64,
    )
    db.session.add(row)
    db.session.commit()
    return row.id


def received_mail(ticket) -> int:
    """A received e-mail that became ``ticket``'s first entry (its bytes are not needed)."""
    row = InboundMessage(
        storage_key="intake/sweep/raw",
        size=1,
        sha256="1" * 64,
        received_via=ReceivedVia.SMTP,
        reseller_id=ticket.reseller_id,
        ticket_id=ticket.id,
        entry_id=db.session.scalar(select(TicketEntry.id).where(TicketEntry.ticket_id == ticket.id)),
    )
    db.session.add(row)
    db.session.commit()
    return row.id


def reseller_b_digest(app, reseller_id: int) -> dict[str, str]:
    """A digest of every row of reseller B, table by table."""
    out = {}
    with app.app_context():
        for table in db.metadata.sorted_tables:
            if "reseller_id" not in table.c:
                continue
            rows = db.session.execute(
                select(table).where(table.c.reseller_id == reseller_id).order_by(*table.primary_key.columns)
            ).all()
            out[table.name] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return out


def principals(app, factory, tenants, make_browser):
    staff = make_browser()
    staff.login("owner@a.test")
    user_a = factory.user(tenants.a.client.id, email="gente@alpha.test")
    client_user = make_browser()
    client_user.login("gente@alpha.test")
    impersonator = make_browser()
    factory.staff(tenants.a.id, permissions=[perm.CLIENTS, perm.LOG_IN_AS], email="imp@a.test")
    impersonator.login("imp@a.test")
    started = impersonator.post(f"/reseller/clients/{tenants.a.client.id}/users/{user_a.id}/login-as")
    assert started.headers["Location"] == "/app/"
    return {"staff": staff, "client user": client_user, "impersonator": impersonator}


def sweep(app, who: dict, objects: dict) -> tuple[list, list, int]:
    """Call every route with an id, every method, as each principal, aimed at ``objects``."""
    unknown_arguments = []
    failures = []
    swept = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIP_ENDPOINTS or not rule.arguments:
            continue
        values = {}
        for argument in rule.arguments:
            if argument == "token":
                # B's own invitation link when B's objects are aimed at (a token route has no
                # id, but another reseller's token must be as unknown here as its ids).
                values[argument] = objects.get("token", "not-a-token-of-this-reseller")
            elif argument in objects:
                values[argument] = objects[argument]
            else:
                unknown_arguments.append((rule.rule, argument))
        if len(values) != len(rule.arguments):
            continue
        path = rule.build(values, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for name, browser in who.items():
                swept += 1
                if path.startswith("/api/"):
                    # A session cookie never authenticates the API (test_api_route_sweep below).
                    status = browser.http.open(browser.url(path), method=method).status_code
                    if status != 401:
                        failures.append((name, method, path, status, ""))
                    continue
                if method == "GET":
                    response = browser.get(path)
                else:
                    response = browser.post(
                        path,
                        {
                            "account_id": objects["account_id"],
                            "team_id": objects["team_id"],
                            # The object a form names (a ticket's new desk): theirs too.
                            "desk_id": objects["desk_id"],
                            "body": "x",
                            "name": "x",
                            "code": "123456",
                            "chat_level": "6",
                        },
                    )
                status = response.status_code
                location = response.headers.get("Location", "")
                allowed = status in (403, 404) or (status == 302 and location in AUDIENCE_REDIRECTS)
                if rule.endpoint == "inbound.inbound":
                    # A channel key of another reseller is unknown here; another client's
                    # channel needs its own secret.
                    allowed = status == 401
                if rule.endpoint == "auth.set_password":
                    allowed = status == 302 and location == "/login"
                if not allowed:
                    failures.append((name, method, path, status, location))
    return unknown_arguments, failures, swept


def test_every_route_with_an_id_refuses_another_resellers_objects(
    app, factory, tenants, make_browser, b_objects
):
    before = reseller_b_digest(app, tenants.b.id)
    who = principals(app, factory, tenants, make_browser)
    unknown_arguments, failures, swept = sweep(app, who, b_objects)
    assert not unknown_arguments, f"routes the sweep does not cover yet: {unknown_arguments}"
    assert not failures, failures
    assert swept > 60
    assert reseller_b_digest(app, tenants.b.id) == before


def test_every_api_route_with_an_id_refuses_another_resellers_objects(app, tenants, b_objects):
    """The sweep as an API client of A holding every scope, aimed at B's objects: 404."""
    before = reseller_b_digest(app, tenants.b.id)
    client_id, secret, _ = api_client(app, tenants.a.id)
    api = Caller(app, token(app, client_id, secret))
    swept = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or not rule.arguments:
            continue
        path = rule.build({k: b_objects[k] for k in rule.arguments}, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = api.call(method, path, json={"trade_name": "x"})
            assert response.status_code == 404, (method, path, response.status_code)
            swept.append((method, path))
    assert len(swept) >= 2
    assert reseller_b_digest(app, tenants.b.id) == before


def client_digest(app, client_id: int) -> dict[str, str]:
    out = {}
    with app.app_context():
        for table in db.metadata.sorted_tables:
            column = "client_id" if "client_id" in table.c else ("id" if table.name == "clients" else None)
            if column is None:
                continue
            rows = db.session.execute(
                select(table).where(table.c[column] == client_id).order_by(*table.primary_key.columns)
            ).all()
            out[table.name] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return out


def test_client_users_never_reach_another_client_of_the_same_reseller(app, factory, tenants, make_browser):
    """The same sweep, as a user of client A1 (and staff logged in as that user), with
    the ids of client A2's objects in the same reseller."""
    a = tenants.a
    neighbour = factory.client(a.id, trade_name="Vizinha", plan_id=a.plan.id, payment_status="paid")
    neighbour_user = factory.user(neighbour.id, email="gente@vizinha.test")
    with app.app_context():
        client = db.session.get(Client, neighbour.id)
        ensure_channel(client)
        contact = Contact(reseller_id=a.id, client_id=neighbour.id, name="Contato A2", phone="5511999990002")
        db.session.add(contact)
        db.session.flush()
        conversation = Conversation(reseller_id=a.id, client_id=neighbour.id, contact_id=contact.id)
        team = Team(reseller_id=a.id, client_id=neighbour.id, name="Equipe A2")
        db.session.add_all([conversation, team])
        db.session.flush()
        chat_message = Message(
            reseller_id=a.id,
            client_id=neighbour.id,
            conversation_id=conversation.id,
            direction=MessageDirection.INBOUND,
            body="foto",
            kind=MessageKind.IMAGE,
            media_key=f"reseller/{a.id}/client/{neighbour.id}/whatsapp/sweep",
            media_type="image/png",
        )
        db.session.add(chat_message)
        db.session.commit()
        desk_a = factory.desk(a.id, name="Mesa A", client_ids=[neighbour.id])
        ticket_a2 = factory.ticket(neighbour.id, desk_id=desk_a.id)
        objects = {
            "desk_id": desk_a.id,
            "ticket_id": ticket_a2.id,
            "attachment_id": ticket_attachment(ticket_a2),
            "client_id": neighbour.id,
            "account_id": neighbour_user.id,
            "conversation_id": conversation.id,
            "chat_message_id": chat_message.id,
            "contact_id": contact.id,
            "team_id": team.id,
            "channel_key": client.channel_key,
        }
    who = principals(app, factory, tenants, make_browser)
    del who["staff"]  # staff of the reseller may see every one of its clients
    # Give the user every workspace power, so only the client boundary can stop them.
    with app.app_context():
        for account in db.session.scalars(select(Account).where(Account.client_id == a.client.id)):
            account.permissions = sorted(perm.CLIENT_USER_PERMISSIONS)
            account.chat_level = 6
        db.session.commit()
    # Ids the workspace does not have (exports, fields, sessions, devices): A's own, harmless.
    objects.update(
        {
            "export_id": 0,
            "message_id": 0,
            "field_id": 0,
            "session_id": 0,
            "device_id": 0,
            "plan_id": a.plan.id,
            "payment_id": 0,
            "deletion_id": 0,
            "host_id": 0,
            "kind": "logo",
            "version": "0" * 16,
            "api_client_id": 0,
            "secret_id": 0,
        }
    )
    # The reseller's own staff and roles: a client user (or staff acting as one) gets 403.
    with app.app_context():
        owner_a = db.session.scalar(
            select(Account).join(Login).where(Login.email == "owner@a.test", Account.kind == STAFF)
        )
        objects.update({"staff_id": owner_a.id, "role_id": owner_a.role_id})
    # The reseller's desks (and the neighbour linked to one): staff pages, 403 as well.
    objects.update(factory.desk_objects(a.id, neighbour.id))
    # The neighbour's domain and the reseller's webmail list: staff pages, 403 as well.
    objects.update(factory.domain_objects(a.id, neighbour.id))
    # A version of the reseller's terms: staff pages, 403 as well. (Its number only: a
    # published version would send the users to the terms before any other page.)
    objects["version_id"] = 0
    # An internal draft of the reseller: staff pages 403, the workspace's a 404.
    objects["article_id"] = factory.article(a.id, visibility="internal", status="draft")
    objects.update(REPORT_DOWNLOAD)
    before = client_digest(app, neighbour.id)
    unknown_arguments, failures, swept = sweep(app, who, objects)
    assert not unknown_arguments
    assert not failures, failures
    assert swept > 40
    assert client_digest(app, neighbour.id) == before


def test_the_terms_pages_without_an_id_show_and_accept_only_the_own_resellers_terms(
    app, factory, tenants, make_browser
):
    """The portal's routes without an id (``/app/terms``, ``/reseller/terms``), as A's staff,
    A's user and A's impersonator, while only B has terms: B's text never shows, B's
    version is never accepted, and nothing of B changes."""
    b_version = factory.terms(tenants.b.id, "# Termos secretos de B")
    before = reseller_b_digest(app, tenants.b.id)
    who = principals(app, factory, tenants, make_browser)
    for name, browser in who.items():
        for path in ("/app/terms", "/reseller/terms"):
            assert "secretos" not in browser.get(path).get_data(as_text=True), (name, path)
        accepted = browser.post("/app/terms", {"version_id": b_version})
        assert accepted.status_code in (302, 403), (name, accepted.status_code)
        published = browser.post("/reseller/terms", {"body": "# Outros termos", "action": "preview"})
        assert "secretos" not in published.get_data(as_text=True)
    assert reseller_b_digest(app, tenants.b.id) == before


def test_staff_of_a_never_see_bs_clients_in_list_search_or_export(tenants, browser):
    browser.login("owner@a.test")
    for path in (
        "/reseller/clients",
        "/reseller/clients?trade_name=Beta",
        f"/reseller/clients?id={tenants.b.client.id}",
        "/reseller/clients?status=all",
    ):
        page = browser.get(path).get_data(as_text=True)
        assert "Beta B" not in page, path

    export = browser.get("/reseller/clients/export.xlsx?status=all")
    assert export.status_code == 200
    data = export.data
    export.close()
    sheet = load_workbook(BytesIO(data), read_only=True).active
    names = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert "Alpha A" in names and "Beta B" not in names


def test_a_session_cookie_of_one_reseller_is_useless_on_another_host(app, tenants, make_browser):
    browser = make_browser()
    browser.login("owner@a.test")
    token = browser.http.get_cookie("rv_session", domain="a.test").value
    other = make_browser("b.test")
    other.http.set_cookie("rv_session", token, domain="b.test")
    assert other.get("/reseller/clients").status_code == 302


def test_sqlite_and_postgres_agree_every_tenant_table_has_reseller_id(app):
    """Every table that belongs to a tenant carries reseller_id (the sweep's digest relies on it)."""
    # Platform tables: the tenants themselves, and Stripe's own events (one account
    # for the platform; each event is routed to its client when it is applied).
    platform_tables = {
        "resellers",
        "reseller_hosts",
        "alembic_version",
        "stripe_events",
        "stripe_object_marks",
    }
    with app.app_context():
        names = inspect(db.engine).get_table_names()
        missing = [
            name
            for name in names
            if name not in platform_tables
            and "reseller_id" not in {c["name"] for c in inspect(db.engine).get_columns(name)}
        ]
        db.session.execute(text("SELECT 1"))
    assert missing == []
