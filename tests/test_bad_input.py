"""No 5xx from any input (QUALITY "Exports and input"): numbers that ``str.isdigit``
accepts but ``int`` does not (superscripts, other scripts' digits), numbers too large
for the database's integer columns, JSON bodies of the wrong shape, NUL bytes in any
text, and concurrent submissions of one login code on SQLite. Each gets a clear 4xx
and changes nothing."""

from __future__ import annotations

import io
import json
import threading

import pytest
from sqlalchemy import delete, func, select

from billing.models import ExtraPack, Plan, StripeEvent
from billing.tasks import drain_stripe_inbox as drain
from core.extensions import db
from core.models import AuditEvent, Reseller
from reseller.resellers import create_reseller
from seeds.documents import make_cnpj
from tenant import inbox
from tenant.inbox_models import Contact, Message, Team, TeamMember
from tenant.models import Client, CustomFieldDefinition
from tests.conftest import PASSWORD, STRIPE_WEBHOOK_SECRET, Browser
from tests.stripe_fake import stripe_event, stripe_signature
from tests.test_identity import last_code
from tests.test_workspace import channel, deliver, make_user, seed_conversations

HUGE = "99999999999999999999"  # beyond 64 bits: SQLite cannot bind it, PostgreSQL's integer overflows
# str.isdigit() is true for each of these, and int() refuses the first two.
NOT_ASCII_NUMBERS = ("²", "①", "٣")
BAD_NUMBERS = (*NOT_ASCII_NUMBERS, HUGE, "2147483648")


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def audit_count(app) -> int:
    return count(app, AuditEvent)


@pytest.fixture
def owner(browser, tenants):
    browser.login("owner@a.test")
    return browser


# --- 1. numbers in query strings and URLs --------------------------------------------


@pytest.mark.parametrize("value", BAD_NUMBERS)
@pytest.mark.parametrize("name", ["id", "plan"])
def test_a_bad_number_in_the_client_list_filters_gets_the_clear_message_on_the_page_htmx_and_export(
    app, owner, tenants, name, value
):
    message = {"id": "ID deve ser um número inteiro", "plan": "Plano desconhecido"}[name]
    everyone = owner.get("/reseller/clients").get_data(as_text=True).count("data-client-id=")

    page = owner.get(f"/reseller/clients?{name}={value}")
    assert page.status_code == 400  # and the page still shows the list, without the bad value
    text = page.get_data(as_text=True)
    assert message in text
    assert text.count("data-client-id=") == everyone  # the bad value is dropped

    partial = owner.get(f"/reseller/clients?{name}={value}", headers={"HX-Request": "true"})
    assert partial.status_code == 200 and message in partial.get_data(as_text=True)

    export = owner.get(f"/reseller/clients/export.xlsx?{name}={value}")
    assert export.status_code == 302 and "export" not in export.headers["Location"]
    assert message in owner.get(export.headers["Location"]).get_data(as_text=True)


def test_every_number_read_from_a_url_query_string_or_form_refuses_bad_values_with_a_4xx(app, owner, tenants):
    client_id = tenants.a.client.id
    audits = audit_count(app)
    for value in BAD_NUMBERS:
        # Ids in the path: a number too large for the column is no object of ours.
        for path in (f"/reseller/clients/{value}/edit", f"/reseller/plans/{value}/edit"):
            assert owner.get(path).status_code == 404, (path, value)
        preview = owner.get(f"/reseller/clients/{client_id}/plan/preview?plan_id={value}")
        assert preview.status_code == 200, value
        for action in ("plan", "plan/change"):
            form = {"plan_id": value, "method": "pix"}
            response = owner.post(f"/reseller/clients/{client_id}/{action}", form)
            assert response.status_code == 302, (action, value)
        packs = owner.post(f"/reseller/clients/{client_id}/extra-packs", {"conversations": value})
        assert packs.status_code == 302, value
    assert count(app, ExtraPack) == 0
    assert audit_count(app) == audits

    # The workspace: team members, assignment.
    manager = make_user(app, tenants, level=6)
    ids = seed_conversations(app, client_id, mine=manager.account_id)
    manager.post("/app/teams", {"name": "Suporte"})
    with app.app_context():
        team_id = db.session.scalar(select(Team.id).where(Team.name == "Suporte"))
        members = db.session.scalar(select(func.count()).select_from(TeamMember))
    for value in BAD_NUMBERS:
        response = manager.post(f"/app/teams/{team_id}/members", {"account_id": value})
        assert 400 <= response.status_code < 500, value
        for field in ("account_id", "team_id"):
            response = manager.post(f"/app/conversations/{ids['queue']}/assign", {field: value})
            assert 400 <= response.status_code < 500, (field, value)
    assert count(app, TeamMember) == members


# --- 2. numbers in forms ---------------------------------------------------------------


@pytest.mark.parametrize("value", BAD_NUMBERS)
def test_a_bad_number_in_a_numeric_form_field_is_refused_with_a_message_and_nothing_saved(
    app, owner, tenants, value
):
    plans = count(app, Plan)
    new = owner.post(
        "/reseller/plans/new", {"name": "Ouro", "price": "99,90", "period": "monthly", "sessions": value}
    )
    assert new.status_code == 422 and "número inteiro de sessões" in new.get_data(as_text=True)
    assert count(app, Plan) == plans
    price = owner.post(
        "/reseller/plans/new", {"name": "Ouro", "price": value, "period": "monthly", "sessions": "10"}
    )
    assert price.status_code == 422 and count(app, Plan) == plans

    plan_id = tenants.a.plan.id
    edit = owner.post(
        f"/reseller/plans/{plan_id}/edit",
        {"name": "Plano A", "price": "99,90", "period": "monthly", "sessions": value},
    )
    assert edit.status_code == 422
    with app.app_context():
        assert db.session.get(Plan, plan_id).sessions_per_period == tenants.a.plan.sessions_per_period

    fields = count(app, CustomFieldDefinition)
    custom = owner.post(
        "/reseller/settings/custom-fields", {"label": "Filial", "field_type": "text", "position": value}
    )
    assert custom.status_code == 200 and "is-invalid" in custom.get_data(as_text=True)
    assert count(app, CustomFieldDefinition) == fields

    with app.app_context():
        before = db.session.get(Reseller, tenants.a.id).extra_pack_conversations
    offer = owner.post("/reseller/plans/extra-pack", {"conversations": value, "price": "49,90"})
    assert offer.status_code == 302
    with app.app_context():
        assert db.session.get(Reseller, tenants.a.id).extra_pack_conversations == before


# --- 3. inbound messages that are not JSON objects --------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        [],
        [{"from": "11987654321", "text": "Oi", "id": "m1"}],
        "Oi",
        42,
        None,
        True,
        {"from": "11987654321", "text": ["Oi"], "id": "m1"},
        {"from": "11987654321", "text": "Oi", "id": {"n": 1}},
        {"from": ["11987654321"], "text": "Oi", "id": "m1"},
        {"from": "11987654321", "text": "Oi", "id": "m1", "name": {"first": "Joana"}},
    ],
)
def test_a_signed_inbound_body_that_is_not_a_message_object_is_400_and_stores_nothing(
    app, tenants, make_browser, body
):
    key, secret = channel(app, tenants.a.client.id)
    response = deliver(make_browser(), key, secret, body)
    assert response.status_code == 400
    assert response.json == {"error": "expected JSON with from (phone), text (≤ 4000) and id"}
    assert count(app, Message) == 0 and count(app, Contact) == 0
    # Deep nesting is refused the same way (Python's parser gives up with RecursionError).
    deep = b"[" * 100_000 + b"]" * 100_000

    response = make_browser().http.post(
        f"http://a.test/inbound/{key}",
        data=deep,
        headers={"Content-Type": "application/json", "X-Signature": inbox.channel_signature(secret, deep)},
    )
    assert response.status_code == 400 and count(app, Message) == 0


# --- 4. Stripe events of the wrong shape ------------------------------------------------


def post_stripe(http, payload) -> object:
    body = json.dumps(payload).encode()
    return http.post(
        "http://a.test/webhooks/stripe",
        data=body,
        headers={
            "Stripe-Signature": stripe_signature(body, STRIPE_WEBHOOK_SECRET),
            "Content-Type": "application/json",
        },
    )


def _without(event: dict, key: str) -> dict:
    return {k: v for k, v in event.items() if k != key}


def test_a_signed_stripe_event_of_the_wrong_shape_is_400_stores_nothing_and_never_stalls_the_drain(
    app, settle
):
    good = stripe_event("customer.created", {"id": "cus_ok", "object": "customer"})
    malformed = [
        [good],
        "evt_1",
        {**good, "data": []},
        {**good, "data": {"object": "cus_1"}},
        {**good, "data": {"object": {"id": {"nested": 1}}}},
        {**good, "data": {"object": {"id": "x" * 101}}},
        {**good, "created": "1700000000"},
        {**good, "created": True},
        {**good, "created": 2**40},
        _without(good, "created"),
        {**good, "id": {"evt": 1}},
        {**good, "id": "evt_" + "x" * 100},
        _without(good, "id"),
        {**good, "type": ["invoice.paid"]},
    ]
    http = app.test_client()
    for payload in malformed:
        response = post_stripe(http, payload)
        assert response.status_code == 400, payload
        assert response.json == {"error": "not an event"}
    assert count(app, StripeEvent) == 0

    # Rows stored before the intake checked the shape: closed as unprocessable by the
    # drain and the sweep, which go on to apply the good event after them.
    with app.app_context():
        old = ["[]", '{"id": "evt_x", "type": "invoice.paid", "data": []}', "not json"]
        for n, payload in enumerate(old):
            db.session.add(
                StripeEvent(event_id=f"evt_old_{n}", type="invoice.paid", created=0, payload=payload)
            )
        db.session.commit()

        drain()
    assert post_stripe(http, good).status_code == 200
    settle()
    with app.app_context():
        rows = db.session.scalars(select(StripeEvent).order_by(StripeEvent.id)).all()
        assert [(r.event_id, r.outcome) for r in rows] == [
            ("evt_old_0", "unprocessable"),
            ("evt_old_1", "unprocessable"),
            ("evt_old_2", "unprocessable"),
            (good["id"], "ignored"),
        ]
        assert all(r.processed_at is not None for r in rows)


# --- 5. NUL bytes ---------------------------------------------------------------------------

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
NUL_MESSAGE = "permitido (NUL)"  # the pt-BR page: "não permitido (NUL)"


def test_a_nul_byte_in_any_text_of_a_request_is_refused_with_400_and_changes_nothing(
    app, owner, tenants, make_browser
):

    audits, plans, clients = audit_count(app), count(app, Plan), count(app, Client)

    # Query strings (page and htmx), form fields, names of fields.
    page = owner.get("/reseller/clients?trade_name=pa%00daria")
    assert page.status_code == 400 and NUL_MESSAGE in page.get_data(as_text=True)
    assert "Reseller A" in page.get_data(as_text=True)  # the reseller's own error page
    partial = owner.get("/reseller/clients?id=1%00", headers={"HX-Request": "true"})
    assert partial.status_code == 400 and "alert" in partial.get_data(as_text=True)
    for form in (
        {"name": "Ou\x00ro", "price": "99,90", "period": "monthly", "sessions": "10"},
        {"name": "Ouro", "price": "99,90", "period": "monthly", "sessions": "10", "x\x00": "1"},
    ):
        response = owner.post("/reseller/plans/new", form)
        assert response.status_code == 400 and NUL_MESSAGE in response.get_data(as_text=True)
    anonymous = make_browser().post("/login", {"email": "owner\x00@a.test", "password": "x" * 12})
    assert anonymous.status_code == 400

    # A multipart form: its text fields are checked, the photo's bytes (NULs and all) are not.
    client_form = {
        "trade_name": "Mercado\x00 Bom",
        "legal_name": "Bom Preço Comércio Ltda",
        "email": "contato@bompreco.test",
        "document_type": "cnpj",
        "document": make_cnpj(424242),
        "sla_level": "standard",
        "responsible_account_id": "",
    }
    with_photo = {**client_form, "photo": (io.BytesIO(PNG), "foto.png", "image/png")}
    refused = owner.post("/reseller/clients/new", with_photo, content_type="multipart/form-data")
    assert refused.status_code == 400
    assert count(app, Client) == clients and count(app, Plan) == plans and audit_count(app) == audits
    with_photo = {
        **client_form,
        "trade_name": "Mercado Bom",
        "photo": (io.BytesIO(PNG), "foto.png", "image/png"),
    }
    saved = owner.post("/reseller/clients/new", with_photo, content_type="multipart/form-data")
    assert saved.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Client.photo_path).where(Client.trade_name == "Mercado Bom"))
    audits, clients = audit_count(app), count(app, Client)

    # JSON bodies (signed inbound messages, signed Stripe events) and a path segment.
    key, secret = channel(app, tenants.a.client.id)
    http = make_browser()
    for payload in (
        {"from": "11987654321", "text": "Oi\x00", "id": "m1"},
        {"from": "11987654321", "text": "Oi", "id": "m1", "extra": [{"k\x00": 1}]},
    ):
        response = deliver(http, key, secret, payload)
        assert response.status_code == 400 and "NUL" in response.json["error"]
    body = json.dumps({"from": "11987654321", "text": "Oi", "id": "m2"}).encode()
    response = http.http.post(
        f"http://a.test/inbound/{key}%00",
        data=body,
        headers={"Content-Type": "application/json", "X-Signature": inbox.channel_signature(secret, body)},
    )
    assert response.status_code == 400 and "NUL" in response.json["error"]
    assert count(app, Message) == 0
    event = stripe_event("customer.created", {"id": "cus_\x00", "object": "customer"})
    assert post_stripe(app.test_client(), event).status_code == 400
    assert post_stripe(app.test_client(), {**event, "id": "evt_\x00"}).status_code == 400
    assert count(app, StripeEvent) == 0
    # An escaped backslash before "u0000" is no NUL: that event is stored.
    fine = stripe_event("customer.created", {"id": "cus_ok", "object": "customer", "note": "\\u0000"})
    assert post_stripe(app.test_client(), fine).status_code == 200
    assert count(app, Client) == clients and audit_count(app) == audits


# --- 6. one login code submitted six times at once on SQLite ------------------------------


@pytest.mark.real_commits
def test_six_concurrent_submissions_of_one_login_code_one_wins_the_others_are_refused(app, mailbox, run_jobs):
    """Through the app (HTTP), with real commits and one connection per request, on
    whichever database the suite runs (the service-level PostgreSQL race is in
    test_identity.py)."""

    with app.test_request_context("/", base_url="http://race.test"):
        reseller, _login = create_reseller(
            name="Corrida",
            host="race.test",
            owner_email="dono@race.test",
            owner_password=PASSWORD,
            require_staff_2fa=False,
        )
        db.session.commit()
        reseller_id = reseller.id
    try:
        browser = Browser(app, host="race.test")
        started = browser.post("/login", {"email": "dono@race.test", "password": PASSWORD})
        assert started.headers["Location"] == "/login/code"
        code = last_code(mailbox, run_jobs, "dono@race.test")
        token = browser.csrf()
        cookie = browser.http.get_cookie(app.config["SESSION_COOKIE_NAME"], domain="race.test").value

        barrier = threading.Barrier(6)
        answers: list[tuple[int, str]] = []

        def submit():
            http = app.test_client()
            http.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie, domain="race.test")
            barrier.wait()
            response = http.post("http://race.test/login/code", data={"code": code, "csrf_token": token})
            answers.append((response.status_code, response.get_data(as_text=True)))

        threads = [threading.Thread(target=submit) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        statuses = sorted(status for status, _text in answers)
        assert statuses == [302, 422, 422, 422, 422, 422], statuses
        refusals = [text for status, text in answers if status == 422]
        assert all("Este código já foi usado" in text for text in refusals)
    finally:
        with app.app_context():
            db.session.execute(delete(AuditEvent).where(AuditEvent.reseller_id == reseller_id))
            db.session.delete(db.session.get(Reseller, reseller_id))
            db.session.commit()


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16", "utf-32"])
def test_a_signed_inbound_body_in_utf16_or_utf32_cannot_smuggle_a_nul(app, tenants, make_browser, encoding):
    """json.loads(bytes) reads UTF-16/32 too, where the NUL guard's byte check sees no
    "\\u0000": the body must be UTF-8 text, so such a body is refused, nothing stored."""

    key, secret = channel(app, tenants.a.client.id)
    body = json.dumps({"from": "11987654321", "text": "a\u0000b", "id": "x1"}).encode(encoding)
    response = make_browser().http.post(
        f"http://a.test/inbound/{key}",
        data=body,
        headers={"Content-Type": "application/json", "X-Signature": inbox.channel_signature(secret, body)},
    )
    assert response.status_code == 400 and count(app, Message) == 0


def test_a_signed_inbound_message_sent_as_a_form_content_type_is_still_verified(app, tenants, make_browser):
    """The NUL guard reads form fields without eating the raw body the signature covers."""

    key, secret = channel(app, tenants.a.client.id)
    body = json.dumps({"from": "11987654321", "text": "Olá", "id": "form-1"}).encode()
    response = make_browser().http.post(
        f"http://a.test/inbound/{key}",
        data=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Signature": inbox.channel_signature(secret, body),
        },
    )
    assert response.status_code == 201 and count(app, Message) == 1
