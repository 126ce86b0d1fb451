"""A request's transaction that only read ends with COMMIT, so psycopg keeps its prepared
statements (core/transactions.py); anything that may have written still ends with
ROLLBACK unless the code committed it."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from core import transactions
from core.extensions import db
from core.models import Reseller

_URL = os.environ.get("TEST_DATABASE_URL", "sqlite")

pytestmark = [
    pytest.mark.skipif(
        not _URL.startswith("postgresql"), reason="psycopg's prepared statements: PostgreSQL only"
    ),
    # Real transactions: the per-test outer transaction would hide how they end.
    pytest.mark.real_commits,
]


@pytest.fixture
def engine():
    engine = create_engine(_URL.replace("postgresql://", "postgresql+psycopg://"), poolclass=None)
    transactions.install(engine)
    yield engine
    engine.dispose()


def _prepared(session: Session) -> int:
    return session.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar_one()


def test_a_transaction_that_only_read_is_committed_and_keeps_the_prepared_statements(engine):
    with Session(engine) as session:
        for _ in range(6):  # psycopg prepares a statement on its fifth run
            session.execute(text("SELECT 1 WHERE 1 = :one"), {"one": 1}).all()
            assert transactions.commit_if_read_only(session) is True
        assert not session.in_transaction()
        # The usual end of a request (a rollback) now finds nothing to roll back.
        session.rollback()
        assert _prepared(session) >= 1
        # Whereas a transaction rolled back makes psycopg forget them all.
        session.rollback()
        assert _prepared(session) == 0


def test_a_statement_that_may_write_leaves_the_transaction_to_be_rolled_back(engine):
    with Session(engine) as session:
        session.execute(text("CREATE TEMPORARY TABLE scratch (n int)"))
        session.execute(text("SELECT 1")).all()  # a read after the write changes nothing
        assert transactions.commit_if_read_only(session) is False
        session.rollback()
        present = session.execute(text("SELECT to_regclass('pg_temp.scratch') IS NOT NULL")).scalar_one()
        assert present is False


def test_pending_changes_are_never_committed_by_the_end_of_a_request(engine):
    with Session(engine) as session:
        session.execute(text("SELECT 1")).all()
        session.add(Reseller(name="Never committed"))
        assert transactions.commit_if_read_only(session) is False
        session.rollback()
        assert (
            session.execute(text("SELECT count(*) FROM resellers WHERE name = 'Never committed'")).scalar()
            == 0
        )


def test_a_failed_transaction_is_not_committed(engine):
    with Session(engine) as session:
        with pytest.raises(Exception, match="division by zero"):
            session.execute(text("SELECT 1 / 0")).all()
        assert transactions.commit_if_read_only(session) is False
        session.rollback()


def test_a_read_only_request_ends_its_transaction_with_commit(app):
    """Through the app: GET /healthz six times, then its connection still holds the
    statements psycopg prepared (a ROLLBACK at the end of each would have dropped them)."""
    http = app.test_client()
    with app.app_context():
        db.engine.dispose()  # one connection from here on: the requests' and the check's
    for _ in range(6):
        assert http.get("/healthz").status_code == 200
    with app.app_context():
        assert db.engine.pool.checkedout() == 0
        with db.engine.connect() as connection:
            statements = (
                connection.execute(text("SELECT statement FROM pg_prepared_statements")).scalars().all()
            )
    assert any("SELECT 1" in statement for statement in statements), statements
