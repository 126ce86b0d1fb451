"""The audit log's hash chain: each reseller's events chained, edits and deletions found
by ``flask --app wsgi audit verify``, personal data scrubbed without breaking it, and
concurrent writers never forking it."""

from __future__ import annotations

import threading
import time

import pytest
from flask import g
from sqlalchemy import delete, select, text

from core import audit, audit_chain
from core.extensions import db
from core.models import AuditChainHead, AuditEvent, Reseller
from core.states import ActorKind
from tests.factories import Factory


def _write(app, reseller_id: int, n: int, **details) -> list[int]:
    with app.test_request_context("/", base_url="http://a.test", environ_base={"REMOTE_ADDR": "203.0.113.9"}):
        events = [
            audit.record(
                "client.updated",
                details={"n": i, "before": {"name": "Antes"}, "after": {"name": "Depois"}, **details},
                reseller_id=reseller_id,
                client_id=7,
                actor_label="pessoa@a.test",
            )
            for i in range(n)
        ]
        db.session.commit()
        return [event.id for event in events]


def _verify(runner_app, reseller_id: int):
    return runner_app.invoke(args=["audit", "verify", "--reseller", str(reseller_id)])


def test_a_clean_chain_verifies_with_its_count(app, ctx, tenants, runner_app):
    _write(app, tenants.a.id, 5)
    result = _verify(runner_app, tenants.a.id)
    assert result.exit_code == 0, result.output
    count = db.session.scalar(
        select(db.func.count()).select_from(AuditEvent).where(AuditEvent.reseller_id == tenants.a.id)
    )
    assert f"OK {count} events" in result.output
    assert count >= 5


def test_each_event_links_to_the_one_before_in_its_resellers_chain(app, ctx, tenants):
    ids = _write(app, tenants.a.id, 3)
    _write(app, tenants.b.id, 1)
    rows = db.session.scalars(select(AuditEvent).where(AuditEvent.id.in_(ids)).order_by(AuditEvent.id)).all()
    assert [r.seq for r in rows] == [rows[0].seq, rows[0].seq + 1, rows[0].seq + 2]
    assert rows[1].prev_digest == rows[0].digest and rows[2].prev_digest == rows[1].digest
    head = db.session.get(AuditChainHead, tenants.a.id)
    assert (head.seq, head.digest) == (rows[2].seq, rows[2].digest)


@pytest.mark.parametrize(
    "change",
    [
        "action = 'auth.login'",
        "details = '{\"n\": 99}'",
        "client_id = 8",
        "created_at = created_at - interval '1 day'",
        "ip = '198.51.100.1'",
        "actor_label = 'outra@a.test'",
    ],
)
def test_an_edited_row_is_caught_at_that_row(app, ctx, tenants, runner_app, change):
    ids = _write(app, tenants.a.id, 4)
    if "interval" in change and db.engine.dialect.name == "sqlite":
        change = "created_at = '2020-01-01 00:00:00.000000'"
    db.session.execute(text(f"UPDATE audit_events SET {change} WHERE id = :id"), {"id": ids[2]})  # noqa: S608
    db.session.commit()
    seq = db.session.scalar(select(AuditEvent.seq).where(AuditEvent.id == ids[2]))
    result = _verify(runner_app, tenants.a.id)
    assert result.exit_code == 1
    assert f"BROKEN reseller={tenants.a.id} seq={seq} event={ids[2]}" in result.output


def test_a_deleted_middle_row_is_caught(app, ctx, tenants, runner_app):
    ids = _write(app, tenants.a.id, 4)
    seq = db.session.scalar(select(AuditEvent.seq).where(AuditEvent.id == ids[1]))
    db.session.execute(delete(AuditEvent).where(AuditEvent.id == ids[1]))
    db.session.commit()
    result = _verify(runner_app, tenants.a.id)
    assert result.exit_code == 1
    assert f"BROKEN reseller={tenants.a.id} seq={seq} " in result.output and "missing" in result.output


def test_a_deleted_last_row_is_caught_by_the_head(app, ctx, tenants, runner_app):
    ids = _write(app, tenants.a.id, 3)
    db.session.execute(delete(AuditEvent).where(AuditEvent.id == ids[-1]))
    db.session.commit()
    assert _verify(runner_app, tenants.a.id).exit_code == 1


def test_the_oldest_rows_purged_leave_a_chain_that_verifies_from_its_anchor(app, ctx, tenants, runner_app):
    ids = _write(app, tenants.a.id, 4)
    db.session.execute(
        delete(AuditEvent).where(AuditEvent.reseller_id == tenants.a.id, AuditEvent.id < ids[1])
    )
    db.session.commit()
    result = _verify(runner_app, tenants.a.id)
    assert result.exit_code == 0, result.output
    assert "OK 3 events" in result.output


def test_scrubbed_personal_data_keeps_the_chain_verifiable(app, ctx, tenants, runner_app):
    ids = _write(app, tenants.a.id, 3, email="cliente@exemplo.test")
    event = db.session.get(AuditEvent, ids[1])
    audit_chain.scrub(event)
    db.session.commit()
    db.session.expire_all()
    event = db.session.get(AuditEvent, ids[1])
    assert event.ip is None and event.actor_label is None and event.user_agent is None
    assert event.details["email"] is None and event.details["before"] == {"name": None}
    assert event.details["n"] == 1  # what happened stays
    result = _verify(runner_app, tenants.a.id)
    assert result.exit_code == 0, result.output


def test_the_platform_chain_holds_events_without_a_reseller(app, ctx, runner_app):
    with app.app_context():
        audit.record("platform.checked", details={"ok": True})
        db.session.commit()
    result = _verify(runner_app, audit_chain.PLATFORM_CHAIN)
    assert result.exit_code == 0, result.output
    assert db.session.get(AuditChainHead, audit_chain.PLATFORM_CHAIN).seq >= 1


def test_the_actor_kind_says_who_acted(app, ctx, tenants):
    with app.test_request_context("/", base_url="http://a.test"):
        g.reseller = db.session.get(Reseller, tenants.a.id)
        anonymous = audit.record("auth.login_failed")
        g.actor_account_id, g.actor_kind = 5, ActorKind.STAFF
        staff = audit.record("client.updated")
        g.api_client_id = 3
        api = audit.record("client.updated")
        db.session.commit()
        assert (anonymous.actor_kind, staff.actor_kind) == (ActorKind.ANONYMOUS, ActorKind.STAFF)
        assert (api.actor_kind, api.api_client_id) == (ActorKind.API_CLIENT, 3)
    with app.app_context():
        assert audit.record("x.y", reseller_id=tenants.a.id).actor_kind == ActorKind.SYSTEM
        db.session.rollback()


def test_an_event_written_before_the_commit_is_chained_at_it(app, ctx, tenants, runner_app):
    """A flush before the commit (an autoflush, an id needed) writes the event at once,
    readable by the transaction; the commit gives it its place in the chain."""
    _write(app, tenants.a.id, 1)
    with app.test_request_context("/", base_url="http://a.test"):
        early = audit.record("client.updated", details={"n": 1}, reseller_id=tenants.a.id)
        db.session.flush()
        assert early.id is not None and early.seq is None
        assert (
            db.session.scalar(select(AuditEvent.action).where(AuditEvent.id == early.id)) == "client.updated"
        )
        late = audit.record("client.updated", details={"n": 2}, reseller_id=tenants.a.id)
        db.session.commit()
    assert late.seq == early.seq + 1 and late.prev_digest == early.digest
    head = db.session.get(AuditChainHead, tenants.a.id)
    assert (head.seq, head.digest) == (late.seq, late.digest)
    # The last of the chain written early too: the head still follows it.
    with app.test_request_context("/", base_url="http://a.test"):
        alone = audit.record("client.updated", details={"n": 3}, reseller_id=tenants.a.id)
        db.session.flush()
        db.session.commit()
    db.session.refresh(head)
    assert (head.seq, head.digest) == (alone.seq, alone.digest)
    result = _verify(runner_app, tenants.a.id)
    assert result.exit_code == 0, result.output


@pytest.mark.real_commits
def test_concurrent_writers_keep_one_unbroken_chain(app, runner_app):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("row locks are PostgreSQL's; SQLite writes one transaction at a time")
    made = Factory(app, password="x" * 20)
    reseller = made.reseller(name="Cadeia")
    errors: list[str] = []
    start = threading.Barrier(6, timeout=10)

    def write(n: int) -> None:
        with app.test_request_context("/", base_url=f"http://{reseller.host}"):
            try:
                start.wait()
                for i in range(10):
                    audit.record("client.updated", details={"writer": n, "i": i}, reseller_id=reseller.id)
                    db.session.commit()
            except Exception as error:  # noqa: BLE001 - any failure is the finding
                db.session.rollback()
                errors.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        with app.app_context():
            seqs = db.session.scalars(
                select(AuditEvent.seq).where(AuditEvent.reseller_id == reseller.id).order_by(AuditEvent.seq)
            ).all()
            assert seqs == list(range(seqs[0], seqs[0] + len(seqs))) and len(seqs) >= 60
        result = _verify(runner_app, reseller.id)
        assert result.exit_code == 0, result.output
    finally:
        with app.app_context():
            db.session.execute(delete(AuditEvent).where(AuditEvent.reseller_id == reseller.id))
            db.session.execute(delete(AuditChainHead).where(AuditChainHead.reseller_id == reseller.id))
            db.session.delete(db.session.get(Reseller, reseller.id))
            db.session.commit()


def test_an_event_added_without_record_still_chains_what_is_stored(app, ctx, tenants, runner_app):
    db.session.add(AuditEvent(action="plan.created", reseller_id=tenants.a.id))
    db.session.commit()
    result = _verify(runner_app, tenants.a.id)
    assert result.exit_code == 0, result.output


@pytest.mark.real_commits
def test_the_chains_lock_is_taken_last_so_crossing_writers_do_not_deadlock(app, runner_app):
    """One writer records (and flushes) an event, then needs a row another writer holds;
    that one records and commits. Were the chain's head locked at the first flush, each
    would wait for the other (PostgreSQL would kill one); it is locked at the commit."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("row locks are PostgreSQL's; SQLite writes one transaction at a time")
    made = Factory(app, password="x" * 20)
    reseller = made.reseller(name="Cruzados")
    errors: list[str] = []
    row_held, first_flushed = threading.Event(), threading.Event()
    # A row both need (NO KEY: the events' foreign key to it still goes through).
    lock_row = text("SELECT id FROM resellers WHERE id = :id FOR NO KEY UPDATE")

    def first() -> None:
        with app.test_request_context("/", base_url=f"http://{reseller.host}"):
            try:
                row_held.wait(10)
                audit.record("client.updated", details={"writer": 1}, reseller_id=reseller.id)
                db.session.flush()
                first_flushed.set()
                db.session.execute(lock_row, {"id": reseller.id})  # waits for the second's commit
                db.session.commit()
            except Exception as error:  # noqa: BLE001 - any failure is the finding
                db.session.rollback()
                errors.append(repr(error))
            finally:
                first_flushed.set()
                db.session.remove()

    def second() -> None:
        with app.test_request_context("/", base_url=f"http://{reseller.host}"):
            try:
                db.session.execute(lock_row, {"id": reseller.id})
                row_held.set()
                first_flushed.wait(10)
                time.sleep(0.2)  # the first is now waiting for the row
                audit.record("client.updated", details={"writer": 2}, reseller_id=reseller.id)
                db.session.commit()
            except Exception as error:  # noqa: BLE001
                db.session.rollback()
                errors.append(repr(error))
            finally:
                row_held.set()
                db.session.remove()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert errors == []
        result = _verify(runner_app, reseller.id)
        assert result.exit_code == 0, result.output
        with app.app_context():
            writers = db.session.scalars(
                select(AuditEvent.details)
                .where(AuditEvent.reseller_id == reseller.id)
                .order_by(AuditEvent.seq)
            ).all()
            assert [d["writer"] for d in writers if "writer" in d] == [2, 1]
    finally:
        with app.app_context():
            db.session.execute(delete(AuditEvent).where(AuditEvent.reseller_id == reseller.id))
            db.session.execute(delete(AuditChainHead).where(AuditChainHead.reseller_id == reseller.id))
            db.session.delete(db.session.get(Reseller, reseller.id))
            db.session.commit()
