"""Add / edit client: CNPJ/CPF validation, clear messages that change nothing, the
responsible user, shared e-mails, custom fields, mass assignment, the photo."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from auth.models import Account, Login
from core.extensions import db
from seeds.documents import make_cnpj, make_cpf
from tenant.clients import ClientRejected, _store_photo
from tenant.models import Client, CustomFieldDefinition, CustomFieldValue

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


def valid_form(**changes) -> dict:
    data = {
        "trade_name": "Mercado Bom Preço",
        "legal_name": "Bom Preço Comércio Ltda",
        "email": "contato@bompreco.test",
        "document_type": "cnpj",
        "document": make_cnpj(424242),
        "sla_level": "standard",
        "phone": "(11) 98765-4321",
        "postal_code": "01310-100",
        "state": "SP",
        "responsible_account_id": "",
        "responsible_email": "",
        "responsible_name": "",
    }
    data.update(changes)
    return data


def client_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Client))


@pytest.fixture
def owner(browser, tenants):
    browser.login("owner@a.test")
    return browser


def test_a_valid_cnpj_client_is_stored_normalised_with_its_responsible_user(app, owner, tenants):
    cnpj = make_cnpj(424242)
    formatted = f"{cnpj[:2]}.{cnpj[2:5]}.{cnpj[5:8]}/{cnpj[8:12]}-{cnpj[12:]}"
    response = owner.post("/reseller/clients/new", valid_form(document=formatted))
    assert response.status_code == 302
    with app.app_context():
        client = db.session.scalar(select(Client).where(Client.trade_name == "Mercado Bom Preço"))
        assert client.reseller_id == tenants.a.id
        assert (
            client.document == cnpj and client.phone == "+5511987654321" and client.postal_code == "01310100"
        )
        # The responsible user was created from the main e-mail, with the SPEC defaults.
        responsible = db.session.get(Account, client.responsible_account_id)
        assert responsible.login.email == "contato@bompreco.test"
        assert responsible.chat_level == 6 and responsible.view_phones is True


def test_a_cpf_client_is_accepted(app, owner):
    assert (
        owner.post("/reseller/clients/new", valid_form(document_type="cpf", document=make_cpf(7))).status_code
        == 302
    )


@pytest.mark.parametrize(
    ("changes", "field_message"),
    [
        ({"document": "11.111.111/1111-11"}, "Este CNPJ não é válido."),
        ({"document": make_cnpj(5)[:-1] + "9"}, "Este CNPJ não é válido."),
        ({"document_type": "cpf", "document": "123.456.789-00"}, "Este CPF não é válido."),
        ({"document_type": "passport"}, "CNPJ"),
        ({"trade_name": ""}, "Campo obrigatório."),
        ({"trade_name": "x" * 500}, "não podem ter mais do que 120 caracteres"),
        ({"email": "not-an-email"}, "e-mail"),
        ({"phone": "123"}, "DDD"),
        ({"postal_code": "123"}, "8 dígitos"),
        ({"state": "XX"}, "estado"),
    ],
)
def test_bad_input_gets_a_clear_message_and_changes_nothing(app, owner, changes, field_message):
    before = client_count(app)
    response = owner.post("/reseller/clients/new", valid_form(**changes))
    assert response.status_code == 422
    assert field_message in response.get_data(as_text=True)
    assert client_count(app) == before


def test_editing_with_bad_input_keeps_the_stored_row(app, owner, tenants):
    client_id = tenants.a.client.id
    with app.app_context():
        before = db.session.get(Client, client_id).document
    response = owner.post(f"/reseller/clients/{client_id}/edit", valid_form(document="00.000.000/0000-00"))
    assert response.status_code == 422
    with app.app_context():
        client = db.session.get(Client, client_id)
        assert client.document == before and client.trade_name == "Alpha A"


def test_two_clients_may_share_an_email_and_its_login(app, owner):
    owner.post("/reseller/clients/new", valid_form())
    second = owner.post(
        "/reseller/clients/new", valid_form(trade_name="Filial Norte", document=make_cnpj(5151))
    )
    assert second.status_code == 302
    with app.app_context():
        logins = db.session.scalar(
            select(func.count()).select_from(Login).where(Login.email == "contato@bompreco.test")
        )
        accounts = db.session.scalar(
            select(func.count())
            .select_from(Account)
            .join(Login)
            .where(Login.email == "contato@bompreco.test")
        )
    assert (logins, accounts) == (1, 2)


def test_mass_assignment_fields_are_ignored(app, owner, tenants):
    form = valid_form(
        reseller_id=str(tenants.b.id),
        client_id="1",
        id="999",
        role="owner",
        permissions="log_in_as",
        status="active",
        sessions_quota="100000",
        extra_balance="100000",
        suspended="y",
        plan_id="1",
    )
    assert owner.post("/reseller/clients/new", form).status_code == 302
    with app.app_context():
        client = db.session.scalar(select(Client).where(Client.trade_name == "Mercado Bom Preço"))
        assert client.reseller_id == tenants.a.id and client.id != 999
        assert client.sessions_quota == 0 and client.extra_balance == 0
        assert client.suspended is False and client.plan_id is None and client.status == "without_plan"
    edited = owner.post(
        f"/reseller/clients/{tenants.a.client.id}/edit",
        valid_form(document=make_cnpj(777), reseller_id=str(tenants.b.id), extra_balance="5000"),
    )
    assert edited.status_code == 302
    with app.app_context():
        client = db.session.get(Client, tenants.a.client.id)
        assert client.reseller_id == tenants.a.id and client.extra_balance == 0


def test_custom_fields_are_saved_and_validated(app, owner, tenants):
    with app.app_context():
        field = CustomFieldDefinition(
            reseller_id=tenants.a.id,
            key="contrato",
            label="Início do contrato",
            field_type="date",
            required=True,
        )
        db.session.add(field)
        db.session.commit()
        field_id = field.id
    missing = owner.post("/reseller/clients/new", valid_form())
    assert missing.status_code == 422
    broken = owner.post("/reseller/clients/new", valid_form(**{f"cf_{field_id}": "2026-02-31"}))
    assert broken.status_code == 422 and "Informe uma data válida." in broken.get_data(as_text=True)
    assert (
        owner.post("/reseller/clients/new", valid_form(**{f"cf_{field_id}": "2026-02-28"})).status_code == 302
    )
    with app.app_context():
        value = db.session.scalar(
            select(CustomFieldValue.value).where(CustomFieldValue.definition_id == field_id)
        )
    assert value == "2026-02-28"


def test_photo_accepts_an_image_and_refuses_other_files(app, owner, tenants):
    client_id = tenants.a.client.id
    ok = owner.post(
        f"/reseller/clients/{client_id}/edit",
        {**valid_form(document=make_cnpj(31)), "photo": (io.BytesIO(PNG), "logo.png")},
        content_type="multipart/form-data",
    )
    assert ok.status_code == 302
    with owner.get(f"/reseller/clients/{client_id}/photo") as photo:
        assert photo.status_code == 200 and photo.get_data().startswith(b"\x89PNG")
    refused = owner.post(
        f"/reseller/clients/{client_id}/edit",
        {
            **valid_form(document=make_cnpj(31)),
            "photo": (io.BytesIO(b"<script>alert(1)</script>"), "evil.png"),
        },
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422 and "PNG, JPEG ou WebP" in refused.get_data(as_text=True)


def test_a_photo_over_2_mb_is_refused(app, tenants):
    # Checked on the service: a multipart body this big would make the test client
    # spool it to a temporary file it never closes.

    with app.app_context(), pytest.raises(ClientRejected) as refused:
        _store_photo(tenants.a.id, io.BytesIO(PNG + b"\0" * (2 * 1024 * 1024)))
    assert "photo" in refused.value.errors
