"""A client's lifecycle through the API (issue 16): inactivate and reactivate,
suspend and lift (with a reason), delete in two steps with a confirmation token bound to
the client and the API client, single use and short-lived; every change by the panel's
rules and audited with the API client; refusals as problems with the panel's message."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import func, select

from billing.models import SuspensionEvent
from core.extensions import db
from core.models import AuditEvent
from core.timeutil import utcnow
from reseller.models import ClientDeletion
from tenant.models import Client
from tests.api_setup import Caller, api_client, token


def caller(app, reseller_id, scopes=None) -> Caller:
    client_id, secret, _ = api_client(app, reseller_id, scopes)
    return Caller(app, token(app, client_id, secret))


def row(app, client_id: int) -> Client:
    with app.app_context():
        client = db.session.get(Client, client_id)
        db.session.expunge(client)
        return client


def audited(app, client_id: int, action: str) -> AuditEvent:
    with app.app_context():
        return db.session.scalar(
            select(AuditEvent)
            .where(AuditEvent.client_id == client_id, AuditEvent.action == action)
            .order_by(AuditEvent.id.desc())
        )


def test_inactivate_and_reactivate_by_the_panels_rules_audited_with_the_api_client(app, factory, tenants):
    client = factory.client(tenants.a.id, trade_name="Pode Sair")
    api = caller(app, tenants.a.id)
    done = api.post(f"/api/v1/clients/{client.id}/inactivate")
    assert done.status_code == 200, done.get_data(as_text=True)
    assert done.get_json()["inactivated_at"].endswith("Z")
    event = audited(app, client.id, "client.inactivated")
    assert event.actor_label == "ERP" and event.actor_account_id is None
    back = api.post(f"/api/v1/clients/{client.id}/reactivate")
    assert back.status_code == 200 and back.get_json()["inactivated_at"] is None
    assert audited(app, client.id, "client.reactivated").actor_label == "ERP"


def test_open_tickets_and_a_plan_refuse_inactivation_with_the_panels_message(app, factory, tenants):
    plan = factory.plan(tenants.a.id, name="Prata")
    blocked = factory.client(tenants.a.id, trade_name="Ocupada", plan_id=plan.id, open_tickets=2)
    refused = caller(app, tenants.a.id).post(
        f"/api/v1/clients/{blocked.id}/inactivate", headers={"Accept-Language": "pt-BR"}
    )
    assert refused.status_code == 409
    body = refused.get_json()
    assert body["code"] == "client_has_blockers"
    assert "Não é possível inativar Ocupada" in body["detail"] and "Prata" in body["detail"]
    assert row(app, blocked.id).inactivated_at is None


def test_suspend_and_lift_need_a_reason_and_keep_the_history(app, tenants):
    api = caller(app, tenants.a.id)
    path = f"/api/v1/clients/{tenants.a.client.id}"
    missing = api.post(f"{path}/suspend", json={})
    assert missing.status_code == 422 and missing.get_json()["param"] == "reason"
    short = api.post(f"{path}/suspend", json={"reason": "x"}, headers={"Accept-Language": "pt-BR"})
    assert short.status_code == 422 and short.get_json()["param"] == "reason"
    assert "Escreva o motivo" in short.get_json()["detail"]
    assert row(app, tenants.a.client.id).suspended is False
    done = api.post(f"{path}/suspend", json={"reason": "Contrato em revisão"})
    assert done.status_code == 200 and done.get_json()["suspended"] is True
    assert done.get_json()["suspension_reason"] == "Contrato em revisão"
    again = api.post(f"{path}/suspend", json={"reason": "De novo"})
    assert again.status_code == 409 and again.get_json()["code"] == "conflict"
    lifted = api.post(f"{path}/lift-suspension", json={"reason": "Revisado"})
    assert lifted.status_code == 200 and lifted.get_json()["suspended"] is False
    not_suspended = api.post(f"{path}/lift-suspension", json={"reason": "Revisado"})
    assert not_suspended.status_code == 409
    with app.app_context():
        history = db.session.scalars(
            select(SuspensionEvent.reason)
            .where(SuspensionEvent.client_id == tenants.a.client.id)
            .order_by(SuspensionEvent.id)
        ).all()
    assert history == ["Contrato em revisão", "Revisado"]
    assert audited(app, tenants.a.client.id, "client.suspended").actor_label == "ERP"


def test_a_lifecycle_post_replays_with_its_idempotency_key(app, tenants):
    api = caller(app, tenants.a.id)
    path = f"/api/v1/clients/{tenants.a.client.id}/suspend"
    key = {"Idempotency-Key": "suspende-1"}
    first = api.post(path, json={"reason": "Inadimplência"}, headers=key)
    again = api.post(path, json={"reason": "Inadimplência"}, headers=key)
    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    with app.app_context():
        kept = db.session.scalar(select(func.count()).where(SuspensionEvent.client_id == tenants.a.client.id))
    assert kept == 1


def test_the_lifecycle_needs_clients_write_and_another_resellers_client_is_a_404(app, tenants):
    reader = caller(app, tenants.a.id, ["clients:read"])
    path = f"/api/v1/clients/{tenants.a.client.id}"
    for action, body in (("inactivate", None), ("suspend", {"reason": "Motivo"}), ("deletion/confirm", {})):
        refused = reader.post(f"{path}/{action}", json=body)
        assert refused.status_code == 403 and refused.get_json()["code"] == "insufficient_scope"
    assert reader.call("DELETE", path).status_code == 403
    api = caller(app, tenants.a.id)
    other = f"/api/v1/clients/{tenants.b.client.id}"
    assert api.post(f"{other}/suspend", json={"reason": "Roubado"}).status_code == 404
    assert api.call("DELETE", other).status_code == 404
    assert row(app, tenants.b.client.id).suspended is False


def delete_step(api, client_id: int) -> dict:
    warning = api.call("DELETE", f"/api/v1/clients/{client_id}", headers={"Accept-Language": "pt-BR"})
    assert warning.status_code == 202, warning.get_data(as_text=True)
    return warning.get_json()


def test_delete_warns_then_the_token_deletes_once(app, factory, tenants):
    client = factory.client(tenants.a.id, trade_name="Some Daqui")
    factory.user(client.id)
    api = caller(app, tenants.a.id)
    warning = delete_step(api, client.id)
    assert warning["counts"]["users"] == 2  # the responsible user and one more
    assert warning["labels"]["users"].startswith("Usuários")
    assert row(app, client.id).deleted_at is None
    confirm = f"/api/v1/clients/{client.id}/deletion/confirm"
    wrong = api.post(confirm, json={"confirmation_token": "nada"})
    assert wrong.status_code == 422 and wrong.get_json()["param"] == "confirmation_token"
    assert row(app, client.id).deleted_at is None
    done = api.post(confirm, json={"confirmation_token": warning["confirmation_token"]})
    assert done.status_code == 200, done.get_data(as_text=True)
    assert done.get_json()["status"] == "pending" and done.get_json()["counts"]["users"] == 2
    assert row(app, client.id).deleted_at is not None
    event = audited(app, client.id, "client.deletion_confirmed")
    assert event.actor_label == "ERP" and event.actor_account_id is None
    # Gone: the same token has nothing left to delete.
    assert api.post(confirm, json={"confirmation_token": warning["confirmation_token"]}).status_code == 404
    assert api.get(f"/api/v1/clients/{client.id}").status_code == 404


def test_a_token_is_single_use_even_after_the_deletion_is_cancelled(app, factory, tenants):
    client = factory.client(tenants.a.id, trade_name="Volta")
    api = caller(app, tenants.a.id)
    token_ = delete_step(api, client.id)["confirmation_token"]
    confirm = f"/api/v1/clients/{client.id}/deletion/confirm"
    assert api.post(confirm, json={"confirmation_token": token_}).status_code == 200
    with app.app_context():
        deletion = db.session.scalar(select(ClientDeletion).where(ClientDeletion.client_id == client.id))
        deletion.cancelled_at = utcnow()
        deletion.status = "cancelled"
        db.session.get(Client, client.id).deleted_at = None
        db.session.commit()
    spent = api.post(confirm, json={"confirmation_token": token_})
    assert spent.status_code == 422 and spent.get_json()["code"] == "invalid_confirmation_token"
    assert row(app, client.id).deleted_at is None


def test_a_token_is_bound_to_its_client_and_its_api_client_and_expires(app, factory, tenants):
    one = factory.client(tenants.a.id, trade_name="Um")
    two = factory.client(tenants.a.id, trade_name="Dois")
    api = caller(app, tenants.a.id)
    other_api = caller(app, tenants.a.id)
    token_ = delete_step(api, one.id)["confirmation_token"]
    other_client = api.post(f"/api/v1/clients/{two.id}/deletion/confirm", json={"confirmation_token": token_})
    assert other_client.status_code == 422
    confirm = f"/api/v1/clients/{one.id}/deletion/confirm"
    assert other_api.post(confirm, json={"confirmation_token": token_}).status_code == 422
    with time_machine.travel(utcnow() + timedelta(minutes=11), tick=False):
        late = api.post(confirm, json={"confirmation_token": token_})
    assert late.status_code == 422 and late.get_json()["code"] == "confirmation_token_expired"
    assert row(app, one.id).deleted_at is None and row(app, two.id).deleted_at is None


def test_the_deleted_clients_page_names_the_api_client_that_asked(app, factory, tenants, make_browser):
    client = factory.client(tenants.a.id, trade_name="Apagada Pela API")
    api = caller(app, tenants.a.id)
    warning = delete_step(api, client.id)
    done = api.post(
        f"/api/v1/clients/{client.id}/deletion/confirm",
        json={"confirmation_token": warning["confirmation_token"]},
    )
    assert done.status_code == 200, done.get_data(as_text=True)
    with app.app_context():
        deletion = db.session.scalar(select(ClientDeletion).where(ClientDeletion.client_id == client.id))
        assert (deletion.requested_by_account_id, deletion.requested_by_label) == (None, "ERP")
    owner = make_browser()
    owner.login(tenants.a.owner_email)
    page = owner.get("/reseller/clients/deletions").get_data(as_text=True)
    row_html = page[page.index(f'id="deletion-{deletion.id}"') :].split("</tr>", 1)[0]
    assert "Apagada Pela API" in row_html
    assert '<td class="small">ERP</td>' in row_html
