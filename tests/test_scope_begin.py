"""A transaction opens in its tenancy scope in one message (core.scope._begin_in_scope):
BEGIN and the scope's settings together, the settings local to that transaction, and a
scope PostgreSQL refuses raised as the database's error, the connection still usable."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from core import scope
from core.extensions import db

SETTINGS = text(
    "SELECT current_setting('app.reseller_id', true), current_setting('app.bypass', true), "
    "current_user, current_setting('jit'), now() = statement_timestamp()"
)


@pytest.fixture
def postgres(app):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the scope is set on PostgreSQL only")
        yield db.engine


def test_a_new_transaction_runs_in_its_scope_and_the_next_one_in_its_own(app, postgres):
    runtime = app.config["DATABASE_RUNTIME_ROLE"]
    with postgres.connect() as connection:
        with scope.scoped(4321):
            reseller, bypass, role, jit, same_statement = connection.execute(SETTINGS).one()
            assert (reseller, bypass, role, jit) == ("4321", "", runtime, "off")
            # A transaction was open before this statement: BEGIN went with the settings.
            assert same_statement is False
        connection.commit()
        with scope.bypass("tests"):
            reseller, bypass, role, _jit, _same = connection.execute(SETTINGS).one()
            assert (reseller, bypass, role) == ("", "tests", f"{runtime}_bypass")
        connection.rollback()


def test_a_scope_the_database_refuses_raises_and_leaves_the_connection_usable(app, postgres):
    engine = create_engine(postgres.url)
    scope.install(engine, "role_that_does_not_exist")
    try:
        with engine.connect() as connection:
            with scope.scoped(1), pytest.raises(DBAPIError, match="role_that_does_not_exist"):
                connection.execute(text("SELECT 1"))
            connection.rollback()
            with scope.entered(scope.Scope(bypass="tests", as_owner=True)):
                assert connection.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()
