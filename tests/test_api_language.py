"""The API's language (issue 16): problems' ``title`` and ``detail`` are in English by
default and in pt-BR when the request sends ``Accept-Language: pt-BR``, whether the
message is the API's own check, a schema's check or a rule of the domain's; the HTML
pages keep Portuguese as their default."""

from __future__ import annotations

import pytest

from tests.api_setup import Caller, api_client, token

PT = {"Accept-Language": "pt-BR"}


@pytest.fixture
def api(app, tenants) -> Caller:
    client_id, secret, _ = api_client(app, tenants.a.id)
    return Caller(app, token(app, client_id, secret))


@pytest.fixture
def ticket(factory, tenants):
    desk = factory.desk(tenants.a.id, name="Suporte", client_ids=[tenants.a.client.id])
    return factory.ticket(tenants.a.client.id, desk.id)


def problem(response) -> tuple[int, str, str]:
    body = response.get_json()
    return response.status_code, body["title"], body["detail"]


def test_a_missing_object_is_english_by_default_and_portuguese_on_request(api):
    assert problem(api.get("/api/v1/clients/999999")) == (
        404,
        "Not Found",
        "Nothing of yours is at this address.",
    )
    assert problem(api.get("/api/v1/clients/999999", headers=PT)) == (
        404,
        "Não encontrado",
        "Nada seu está neste endereço.",
    )
    english_first = {"Accept-Language": "en-US,pt-BR;q=0.5"}
    assert problem(api.get("/api/v1/clients/999999", headers=english_first))[1] == "Not Found"


def test_a_domain_rules_refusal_follows_the_request(api, ticket):
    path = f"/api/v1/tickets/{ticket.id}/replies"
    assert problem(api.post(path, json={"body": " "})) == (422, "Unprocessable Entity", "Reply is required.")
    assert problem(api.post(path, json={"body": " "}, headers=PT)) == (
        422,
        "Parâmetro inválido",
        "Resposta é obrigatório.",
    )


def test_the_apis_own_and_the_schemas_checks_follow_the_request(app, api, ticket):
    path = f"/api/v1/tickets/{ticket.id}/notes"
    key = {"Idempotency-Key": " "}
    assert problem(api.post(path, json={"body": "x"}, headers=key))[2] == (
        "Use a key of 1 to 255 printable characters."
    )
    assert problem(api.post(path, json={"body": "x"}, headers={**key, **PT}))[2] == (
        "Use uma chave de 1 a 255 caracteres imprimíveis."
    )
    assert problem(api.post(path, json={}))[2] == "Missing data for required field."
    assert problem(api.post(path, json={}, headers=PT))[2] == "Campo obrigatório ausente."
    assert problem(api.post(path, json={"body": "x", "extra": 1}, headers=PT))[2] == "Campo desconhecido."
    anonymous = app.test_client().get("http://a.test/api/v1/clients", headers=PT)
    assert problem(anonymous) == (
        401,
        "Não autorizado",
        "O token de acesso está ausente, expirado, revogado ou é desconhecido.",
    )
    assert problem(app.test_client().get("http://a.test/api/v1/clients"))[2] == (
        "The access token is missing, expired, revoked or unknown."
    )


def test_mail_an_api_call_causes_is_in_the_products_language_whatever_the_call_asked(
    api, ticket, mailbox, run_jobs
):
    """A program's ``Accept-Language`` is no recipient's: the reply's e-mail is written in
    Portuguese, the product's language, while the call's own problems are English."""
    run_jobs()
    mailbox.clear()
    path = f"/api/v1/tickets/{ticket.id}/replies"
    assert problem(api.post(path, json={"body": ""}))[2] == "Reply is required."
    english = {"Accept-Language": "en"}
    assert api.post(path, json={"body": "Reinicie a impressora."}, headers=english).status_code == 201
    run_jobs()
    (message,) = mailbox.messages
    assert "Nova resposta no chamado" in message["text"] and "New reply" not in message["text"]


def test_the_html_pages_keep_portuguese_as_their_default(app, tenants):
    page = app.test_client().get("http://a.test/login").get_data(as_text=True)
    assert '<html lang="pt-BR">' in page
