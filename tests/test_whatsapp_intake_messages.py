"""The webhook's intake on PostgreSQL as production runs it (real commits, no test
transaction around it): the channel's read goes in the message that opens the transaction
in its scope, the event's insert in the message that commits it (``core.scope.begin_with``
and ``commit_with``), nothing else is sent; the row is committed before the 200 and its
drain job queued; a wrong signature stores nothing. And the two helpers decline where
they must: inside a savepoint, after another statement, with something left to flush."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import delete, event, func, select, text
from sqlalchemy.orm import Session

from core import scope
from core.extensions import db
from core.models import AuditEvent, Reseller
from reseller.resellers import create_reseller
from seeds.documents import make_cnpj
from tenant.inbox_models import Message
from tenant.models import Client
from tests.whatsapp_setup import connect, payload, sign
from whatsapp.models import WhatsAppEvent

HOST = "intake-messages.test"
NUMBER = "990011223344"


def postgres_only(app) -> None:
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("the two-message transaction is PostgreSQL's")


@pytest.fixture
def committed_client(app):
    postgres_only(app)
    with app.test_request_context("/", base_url=f"http://{HOST}"):
        reseller, _login = create_reseller(
            name="Intake em duas mensagens",
            host=HOST,
            owner_email=f"dono@{HOST}",
            require_staff_2fa=False,
        )
        client = Client(
            reseller_id=reseller.id,
            trade_name="Mensagens",
            legal_name="Mensagens Ltda",
            email=f"mensagens@{HOST}",
            document_type="cnpj",
            document=make_cnpj(98),
        )
        db.session.add(client)
        db.session.commit()
        reseller_id, client_id = reseller.id, client.id
    connect(app, client_id, phone_number_id=NUMBER, verify_token="verify-token-intake-messages")
    try:
        yield client_id
    finally:
        with app.app_context():
            db.session.execute(delete(AuditEvent).where(AuditEvent.reseller_id == reseller_id))
            db.session.delete(db.session.get(Reseller, reseller_id))
            db.session.commit()


def stored(app, client_id: int) -> list[tuple]:
    """What another connection sees committed."""
    url = app.config["SQLALCHEMY_DATABASE_URI"].replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as other:
        return other.execute(
            "SELECT client_id, phone_number_id, payload, attempts, processed_at FROM whatsapp_events "
            "WHERE client_id = %s",
            (client_id,),
        ).fetchall()


@pytest.mark.real_commits
def test_a_delivery_is_two_messages_committed_before_the_200_then_applied(app, committed_client, run_jobs):
    raw = payload("text", PHONE_NUMBER_ID=NUMBER, WAMID="wamid.two-messages")
    with app.app_context():
        engine = db.engine
    through_sqlalchemy = []

    def seen(_conn, _cursor, statement, *_rest) -> None:
        through_sqlalchemy.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        answer = app.test_client().post(
            f"http://{HOST}/webhooks/whatsapp",
            data=raw,
            headers={"X-Hub-Signature-256": sign(raw), "Content-Type": "application/json"},
        )
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert answer.status_code == 200
    assert through_sqlalchemy == []  # the read and the insert went in the two messages
    assert stored(app, committed_client) == [(committed_client, NUMBER, raw.decode(), 0, None)]
    run_jobs()  # the drain job was queued at the commit
    with app.app_context():
        assert (
            db.session.scalar(select(func.count(Message.id)).where(Message.client_id == committed_client))
            == 1
        )
        assert db.session.scalar(
            select(WhatsAppEvent.processed_at).where(WhatsAppEvent.client_id == committed_client)
        )


@pytest.mark.real_commits
def test_a_wrong_signature_stores_nothing(app, committed_client):
    raw = payload("text", PHONE_NUMBER_ID=NUMBER, WAMID="wamid.wrong-signature")
    answer = app.test_client().post(
        f"http://{HOST}/webhooks/whatsapp",
        data=raw,
        headers={"X-Hub-Signature-256": sign(raw, "not-the-secret"), "Content-Type": "application/json"},
    )
    assert answer.status_code == 401
    assert stored(app, committed_client) == []


@pytest.mark.real_commits
def test_begin_with_opens_the_transaction_in_the_scope_and_commit_with_commits(app):
    postgres_only(app)
    with app.app_context():
        engine = db.engine
    runtime = app.config["DATABASE_RUNTIME_ROLE"]
    session = Session(bind=engine)
    try:
        with scope.scoped(4321):
            result = scope.begin_with(
                session.connection(),
                lambda literal: (
                    b"SELECT current_setting('app.reseller_id', true), current_user, "
                    + literal("it's; -- quoted")
                ),
            )
            assert [result.get_value(0, n).decode() for n in range(3)] == ["4321", runtime, "it's; -- quoted"]
            # the scope is applied: a statement through SQLAlchemy sees it, sends no other
            assert session.execute(text("SELECT current_setting('app.reseller_id', true)")).scalar() == "4321"
        session.commit()
        with scope.bypass("tests", as_owner=True):
            # a real table, not a temporary one: after a commit the session may take another
            # of the pool's connections, which would not see a temporary table
            scope.begin_with(session.connection(), lambda _literal: b"CREATE TABLE two_messages (v text)")
            session.commit()
            assert scope.begin_with(session.connection(), lambda _literal: b"SELECT 1") is not None
            assert scope.commit_with(
                session, lambda literal: b"INSERT INTO two_messages VALUES (" + literal("x") + b")"
            )
            assert session.execute(text("SELECT v FROM two_messages")).scalars().all() == ["x"]
            # another statement ran since begin_with: declined, nothing sent
            assert not scope.commit_with(session, lambda _literal: b"INSERT INTO two_messages VALUES ('y')")
            session.rollback()
            # a failing statement: raised, nothing committed, the session rolls back as usual
            scope.begin_with(session.connection(), lambda _literal: b"SELECT 1")
            with pytest.raises(psycopg.errors.DivisionByZero):
                scope.commit_with(session, lambda _literal: b"INSERT INTO two_messages VALUES ((1/0)::text)")
            session.rollback()
            assert session.execute(text("SELECT v FROM two_messages")).scalars().all() == ["x"]
            session.execute(text("DROP TABLE two_messages"))
            session.commit()
    finally:
        session.rollback()
        with scope.bypass("tests", as_owner=True):
            session.execute(text("DROP TABLE IF EXISTS two_messages"))
            session.commit()
        session.close()


def test_inside_a_savepoint_both_decline(app, ctx):
    postgres_only(app)
    db.session.execute(text("SELECT 1"))  # the test's transaction, its savepoint open
    assert scope.begin_with(db.session.connection(), lambda _literal: b"SELECT 1") is None
    assert not scope.commit_with(db.session(), lambda _literal: b"SELECT 1")
