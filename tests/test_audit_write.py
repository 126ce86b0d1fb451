"""Writing audit events (issue 16: ≤ 1 ms an event): version 2 digests, the one statement
that moves the chain's head on and inserts the event on PostgreSQL, chains holding
version 1 and version 2 rows, and concurrent writers of one chain."""

from __future__ import annotations

import hashlib
import threading

import pytest
from sqlalchemy import delete, inspect, select, text, update
from sqlalchemy import event as sa_event
from sqlalchemy.exc import DBAPIError

from core import audit, audit_chain
from core.extensions import db
from core.models import AuditChainHead, AuditEvent, Reseller
from tests.factories import Factory


def _record(reseller_id: int, n: int, **details) -> AuditEvent:
    return audit.record(
        "client.updated",
        details={"n": n, "after": {"name": "Depois"}, **details},
        reseller_id=reseller_id,
        client_id=7,
        actor_label="pessoa@a.test",
    )


def _write(app, reseller_id: int, n: int) -> list[int]:
    with app.test_request_context("/", base_url="http://a.test", environ_base={"REMOTE_ADDR": "203.0.113.9"}):
        events = [_record(reseller_id, i) for i in range(n)]
        db.session.commit()
        return [event.id for event in events]


def _chain(reseller_id: int) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.reseller_id == reseller_id, AuditEvent.seq.is_not(None))
            .order_by(AuditEvent.seq)
            .execution_options(populate_existing=True)
        )
    )


def _verify(runner_app, reseller_id: int):
    return runner_app.invoke(args=["audit", "verify", "--reseller", str(reseller_id)])


def test_a_new_event_has_a_version_2_digest_of_its_body_seq_and_previous_digest(app, ctx, tenants):
    ids = _write(app, tenants.a.id, 2)
    before, row = (db.session.get(AuditEvent, i) for i in ids)
    assert row.digest_version == 2 and row.seq == before.seq + 1 and row.prev_digest == before.digest
    body = audit_chain.body_digest(row)
    expected = hashlib.sha256(f"{before.digest}:{row.seq}:{body}".encode()).hexdigest()
    assert row.digest == expected
    # The body leaves out the place in the chain; version 1 covered everything at once.
    assert audit_chain.event_digest_v1(row, row.prev_digest) != row.digest
    head = db.session.get(AuditChainHead, tenants.a.id)
    assert (head.seq, head.digest, head.prev_digest) == (row.seq, row.digest, row.prev_digest)


def test_the_event_object_is_persistent_with_its_place_after_the_commit(app, ctx, tenants):
    with app.test_request_context("/", base_url="http://a.test"):
        first = _record(tenants.a.id, 1)
        second = _record(tenants.a.id, 2)
        db.session.commit()
        assert inspect(first).persistent and inspect(second).persistent
        assert db.session.get(AuditEvent, second.id) is second
        assert second.seq == first.seq + 1 and second.prev_digest == first.digest
        stored = db.session.execute(
            select(AuditEvent.seq, AuditEvent.digest).where(AuditEvent.id == second.id)
        ).one()
        assert tuple(stored) == (second.seq, second.digest)
        assert second.details == {"n": 2, "after": {"name": "Depois"}}


def test_events_of_two_chains_in_one_transaction_each_take_their_own_place(app, ctx, tenants, runner_app):
    with app.test_request_context("/", base_url="http://a.test"):
        b1, a1, b2, a2 = (_record(r, i) for i, r in enumerate([tenants.b.id, tenants.a.id] * 2))
        db.session.commit()
    assert (a2.seq, a2.prev_digest) == (a1.seq + 1, a1.digest)
    assert (b2.seq, b2.prev_digest) == (b1.seq + 1, b1.digest)
    for reseller in (tenants.a, tenants.b):
        result = _verify(runner_app, reseller.id)
        assert result.exit_code == 0, result.output


def test_an_event_written_early_and_new_ones_share_one_transactions_chain(app, ctx, tenants, runner_app):
    with app.test_request_context("/", base_url="http://a.test"):
        early = _record(tenants.a.id, 1)
        db.session.flush()
        late = _record(tenants.a.id, 2)
        db.session.commit()
    assert early.digest_version == late.digest_version == 2
    assert (late.seq, late.prev_digest) == (early.seq + 1, early.digest)
    result = _verify(runner_app, tenants.a.id)
    assert result.exit_code == 0, result.output


def test_a_commit_with_one_event_sends_one_statement_for_it(app, ctx, tenants):
    """On PostgreSQL the head's UPDATE and the event's INSERT are one statement."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite computes the digests in Python and writes in several statements")
    _write(app, tenants.a.id, 1)  # the chain's head exists
    statements: list[str] = []

    def note(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    sa_event.listen(db.engine, "before_cursor_execute", note)
    try:
        with app.test_request_context("/", base_url="http://a.test"):
            event = _record(tenants.a.id, 1)
            db.session.commit()
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", note)
    audit_statements = [s for s in statements if "audit_" in s]
    assert len(audit_statements) == 1, audit_statements
    assert (
        "UPDATE audit_chain_heads" in audit_statements[0]
        and "INSERT INTO audit_events" in audit_statements[0]
    )
    assert event.id is not None and event.seq is not None


def test_the_first_event_of_a_chain_creates_its_head(app, ctx, tenants, runner_app):
    db.session.execute(delete(AuditEvent).where(AuditEvent.reseller_id == tenants.b.id))
    db.session.execute(delete(AuditChainHead).where(AuditChainHead.reseller_id == tenants.b.id))
    db.session.commit()
    (event_id,) = _write(app, tenants.b.id, 1)
    event = db.session.get(AuditEvent, event_id)
    assert (event.seq, event.prev_digest) == (1, "")
    head = db.session.get(AuditChainHead, tenants.b.id)
    assert (head.seq, head.digest) == (1, event.digest)
    assert _verify(runner_app, tenants.b.id).exit_code == 0


def test_a_value_too_long_is_refused_not_cut_and_the_rollback_leaves_no_ghost(app, ctx, tenants):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite does not enforce a column's length")
    seq = db.session.get(AuditChainHead, tenants.a.id).seq
    with app.test_request_context("/", base_url="http://a.test"):
        inserted = _record(tenants.a.id, 1)
        audit.record("client.updated", reseller_id=tenants.a.id, actor_label="x" * 300)
        with pytest.raises(DBAPIError):
            db.session.commit()
        db.session.rollback()
        # The first event's row went with the transaction: its object is no longer the
        # session's (it would claim a row that is not there).
        assert inspect(inserted).transient and inserted not in db.session
    db.session.expire_all()
    assert db.session.get(AuditChainHead, tenants.a.id).seq == seq


@pytest.mark.parametrize(
    "change",
    [
        "action = 'auth.login'",
        "details = '{\"n\": 99}'",
        "seq = seq + 1000",
        "prev_digest = digest",
        "digest_version = 1",
        "digest_version = 3",
    ],
)
def test_an_edited_version_2_row_is_caught_at_that_row(app, ctx, tenants, runner_app, change):
    ids = _write(app, tenants.a.id, 3)
    seq = db.session.scalar(select(AuditEvent.seq).where(AuditEvent.id == ids[1]))
    db.session.execute(text(f"UPDATE audit_events SET {change} WHERE id = :id"), {"id": ids[1]})  # noqa: S608
    db.session.commit()
    result = _verify(runner_app, tenants.a.id)
    assert result.exit_code == 1
    assert f"BROKEN reseller={tenants.a.id} seq={seq} " in result.output


def test_a_deleted_version_2_row_and_a_deleted_last_row_are_caught(app, ctx, tenants, runner_app):
    ids = _write(app, tenants.a.id, 4)
    db.session.execute(delete(AuditEvent).where(AuditEvent.id == ids[-1]))
    db.session.commit()
    result = _verify(runner_app, tenants.a.id)
    assert result.exit_code == 1 and "missing" in result.output
    db.session.execute(delete(AuditEvent).where(AuditEvent.id == ids[1]))
    db.session.commit()
    assert _verify(runner_app, tenants.a.id).exit_code == 1


def _rewrite_as_version_1(reseller_id: int) -> list[int]:
    """The chain's rows as migration 0041 found them: version 1 digests, linked."""
    rows = _chain(reseller_id)
    prev = rows[0].prev_digest
    for row in rows:
        row.digest_version, row.prev_digest = 1, prev
        prev = row.digest = audit_chain.event_digest_v1(row, prev)
    db.session.execute(
        update(AuditChainHead)
        .where(AuditChainHead.reseller_id == reseller_id)
        .values(digest=prev, prev_digest=rows[-1].prev_digest)
    )
    db.session.commit()
    return [row.id for row in rows]


def test_a_chain_of_version_1_rows_then_version_2_rows_verifies(app, ctx, tenants, runner_app):
    _write(app, tenants.a.id, 3)
    old = _rewrite_as_version_1(tenants.a.id)
    new = _write(app, tenants.a.id, 2)
    rows = _chain(tenants.a.id)
    assert [r.digest_version for r in rows] == [1] * len(old) + [2] * len(new)
    assert rows[len(old)].prev_digest == rows[len(old) - 1].digest
    result = _verify(runner_app, tenants.a.id)
    assert result.exit_code == 0, result.output
    assert f"OK {len(rows)} events" in result.output


@pytest.mark.parametrize("which", ["version 1", "version 2"])
def test_an_edit_in_a_mixed_chain_is_caught_in_either_version(app, ctx, tenants, runner_app, which):
    _write(app, tenants.a.id, 3)
    old = _rewrite_as_version_1(tenants.a.id)
    new = _write(app, tenants.a.id, 3)
    target = old[-2] if which == "version 1" else new[1]
    seq = db.session.scalar(select(AuditEvent.seq).where(AuditEvent.id == target))
    db.session.execute(update(AuditEvent).where(AuditEvent.id == target).values(client_id=8))
    db.session.commit()
    result = _verify(runner_app, tenants.a.id)
    assert result.exit_code == 1
    assert f"BROKEN reseller={tenants.a.id} seq={seq} event={target}" in result.output


@pytest.mark.real_commits
def test_six_writers_of_one_chain_each_writing_early_and_late_events_keep_it_whole(app, runner_app):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("row locks are PostgreSQL's; SQLite writes one transaction at a time")
    made = Factory(app, password="x" * 20)
    reseller = made.reseller(name="Seis")
    errors: list[str] = []
    start = threading.Barrier(6, timeout=10)

    def write(n: int) -> None:
        with app.test_request_context("/", base_url=f"http://{reseller.host}"):
            try:
                start.wait()
                for i in range(6):
                    _record(reseller.id, i, writer=n)
                    if i % 2:
                        db.session.flush()  # written early: chained by its UPDATE
                    _record(reseller.id, i, writer=n, late=True)
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
            rows = _chain(reseller.id)
            mine = [r for r in rows if "writer" in r.details]
            assert len(mine) == 72
            assert [r.seq for r in rows] == list(range(rows[0].seq, rows[0].seq + len(rows)))
            head = db.session.get(AuditChainHead, reseller.id)
            assert (head.seq, head.digest) == (rows[-1].seq, rows[-1].digest)
        result = _verify(runner_app, reseller.id)
        assert result.exit_code == 0, result.output
    finally:
        with app.app_context():
            db.session.execute(delete(AuditEvent).where(AuditEvent.reseller_id == reseller.id))
            db.session.execute(delete(AuditChainHead).where(AuditChainHead.reseller_id == reseller.id))
            db.session.delete(db.session.get(Reseller, reseller.id))
            db.session.commit()
