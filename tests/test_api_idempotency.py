"""``Idempotency-Key`` beyond the replay (issue 16): expired answers are removed by a
periodic job for every API client, not only when their key comes back; a login link's
answer lives only as long as the link (60 s); and two concurrent first uses of one key
do the work once: the second is a 409 ``idempotency_key_in_use`` with ``Retry-After``
(PostgreSQL: two threads, the first held inside its work by a row lock)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import delete, select, text

from api.models import ApiIdempotentResponse
from auth import permissions as perm
from core import jobs
from core.extensions import db
from core.models import AuditChainHead, AuditEvent, Reseller
from core.timeutil import utcnow
from desk.states import EntryKind
from desk.ticket_models import Ticket, TicketEntry
from tests.api_setup import Caller, api_client, token
from tests.factories import Factory

SWEEP = "api.tasks.forget_expired_responses"


def caller(app, reseller_id, host: str = "a.test") -> Caller:
    client_id, secret, _ = api_client(app, reseller_id, name="ERP Integrado")
    return Caller(app, token(app, client_id, secret, host=host), host=host)


def stored_keys(app) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(select(ApiIdempotentResponse.key)))


def test_expired_answers_of_every_api_client_are_removed_by_a_periodic_job(app, tenants):
    assert jobs.PERIODIC[SWEEP] <= 3600
    assert jobs.PERIODIC_BYPASS[SWEEP] == "bypass:api-idempotency"
    a_api, b_api = caller(app, tenants.a.id), caller(app, tenants.b.id, host="b.test")
    paths = {
        name: f"/api/v1/clients/{client_id}/{name}"
        for client_id in (tenants.a.client.id,)
        for name in ("suspend", "lift-suspension")
    }
    b_paths = {name: f"/api/v1/clients/{tenants.b.client.id}/{name}" for name in paths}
    reason = {"reason": "Atraso no pagamento"}
    with time_machine.travel(utcnow() - timedelta(hours=24, minutes=5), tick=False):
        old_a, old_b = caller(app, tenants.a.id), caller(app, tenants.b.id, host="b.test")
        old_a.post(paths["suspend"], json=reason, headers={"Idempotency-Key": "velha-a"})
        old_b.post(b_paths["suspend"], json=reason, headers={"Idempotency-Key": "velha-b"})
    a_api.post(paths["lift-suspension"], json=reason, headers={"Idempotency-Key": "nova-a"})
    b_api.post(b_paths["lift-suspension"], json=reason, headers={"Idempotency-Key": "nova-b"})
    assert stored_keys(app) == {"velha-a", "velha-b", "nova-a", "nova-b"}
    with app.app_context():
        jobs.run_periodic(SWEEP)
    assert stored_keys(app) == {"nova-a", "nova-b"}


@pytest.fixture
def link_path(app, factory, tenants):
    factory.staff(tenants.a.id, permissions=[perm.CLIENTS, perm.LOG_IN_AS], email="suporte@a.test")
    user = factory.user(tenants.a.client.id, name="Atendente Alpha")
    return f"/api/v1/clients/{tenants.a.client.id}/users/{user.id}/login-link"


def test_a_login_links_answer_is_kept_only_as_long_as_the_link_lives(app, tenants, link_path):
    api = caller(app, tenants.a.id)
    key = {"Idempotency-Key": "link-1"}
    body = {"staff_email": "suporte@a.test"}
    first = api.post(link_path, json=body, headers=key)
    assert first.status_code == 201, first.get_data(as_text=True)
    with app.app_context():
        stmt = select(ApiIdempotentResponse.kept_seconds).where(ApiIdempotentResponse.key == "link-1")
        kept = db.session.scalar(stmt)
    assert kept == 60
    soon = api.post(link_path, json=body, headers=key)
    assert soon.headers.get("Idempotent-Replayed") == "true" and soon.get_json() == first.get_json()
    with time_machine.travel(utcnow() + timedelta(seconds=61), tick=False):
        later = api.post(link_path, json=body, headers=key)
        assert later.status_code == 201 and "Idempotent-Replayed" not in later.headers
        assert later.get_json()["url"] != first.get_json()["url"]
    with time_machine.travel(utcnow() + timedelta(seconds=125), tick=False), app.app_context():
        jobs.run_periodic(SWEEP)  # the link's answer is gone, a day-long one stays
    assert "link-1" not in stored_keys(app)


@pytest.mark.real_commits
def test_two_concurrent_first_uses_of_a_key_do_the_work_once_and_the_second_is_told_to_retry(app):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("advisory locks are PostgreSQL's; SQLite writes one transaction at a time")
    made = Factory(app, password="x" * 20)
    reseller = made.reseller(name="Concorrência")
    client = made.client(reseller.id, trade_name="Cliente Concorrente")
    desk = made.desk(reseller.id, name="Mesa", client_ids=[client.id])
    ticket = made.ticket(client.id, desk.id)
    path = f"/api/v1/tickets/{ticket.id}/notes"
    key = {"Idempotency-Key": "ao-mesmo-tempo"}
    answers: dict[str, object] = {}
    with app.app_context():
        engine = db.engine
    holder, watcher = engine.connect(), engine.connect()
    try:
        first_api = caller(app, reseller.id, host=reseller.host)
        second_api = Caller(app, first_api.access_token, host=reseller.host)
        # The ticket's row held here: the first request takes the key, then waits for it.
        held = holder.begin()
        holder.execute(text("SELECT id FROM tickets WHERE id = :id FOR UPDATE"), {"id": ticket.id})

        def first() -> None:
            answers["first"] = first_api.post(path, json={"body": "Uma vez só"}, headers=key)

        thread = threading.Thread(target=first)
        thread.start()
        advisory = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")
        for _attempt in range(200):  # the first request holds the key (waiting, not a timed assertion)
            if watcher.execute(advisory).scalar():
                break
            threading.Event().wait(0.05)
        watcher.rollback()
        assert thread.is_alive()

        def second() -> None:
            answers["second"] = second_api.post(path, json={"body": "Uma vez só"}, headers=key)

        other = threading.Thread(target=second)
        other.start()
        other.join(timeout=30)
        held.rollback()
        thread.join(timeout=30)
        refused, done = answers["second"], answers["first"]
        assert refused.status_code == 409, refused.get_data(as_text=True)
        assert refused.get_json()["code"] == "idempotency_key_in_use"
        assert int(refused.headers["Retry-After"]) >= 1
        assert done.status_code == 201, done.get_data(as_text=True)
        replay = second_api.post(path, json={"body": "Uma vez só"}, headers=key)
        assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
        with app.app_context():
            notes = db.session.scalars(
                select(TicketEntry.body).where(
                    TicketEntry.ticket_id == ticket.id, TicketEntry.kind == EntryKind.INTERNAL_NOTE
                )
            ).all()
        assert notes == ["Uma vez só"]
    finally:
        holder.close()
        watcher.close()
        with app.app_context():
            db.session.execute(delete(AuditEvent).where(AuditEvent.reseller_id == reseller.id))
            db.session.execute(delete(AuditChainHead).where(AuditChainHead.reseller_id == reseller.id))
            db.session.execute(delete(Ticket).where(Ticket.reseller_id == reseller.id))
            db.session.delete(db.session.get(Reseller, reseller.id))
            db.session.commit()
