"""PostgreSQL's second tenancy wall (migration 0011, core.scope): a query that forgets
its reseller predicate still sees one reseller only. SQLite keeps the application-level
scoping only, so most of these run on PostgreSQL alone."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import ProgrammingError

from billing.models import Subscription
from core import jobs, scope
from core.extensions import db
from tenant.models import Client

pytestmark = pytest.mark.usefixtures("ctx")


@pytest.fixture
def postgres(app):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("row-level security is PostgreSQL's; SQLite scopes in the application only")


def _tenant_tables() -> list[str]:
    return sorted(t.name for t in db.metadata.sorted_tables if "reseller_id" in t.c)


def test_a_query_without_its_predicate_sees_only_the_scoped_reseller(postgres, tenants):
    a, b = tenants.a, tenants.b
    with scope.scoped(a.id):
        seen = db.session.scalars(select(Client)).all()  # no reseller predicate, on purpose
        assert seen and {c.reseller_id for c in seen} == {a.id}
        other = select(func.count()).select_from(Client).where(Client.id == b.client.id)
        assert db.session.scalar(other) == 0
    with scope.scoped(b.id):
        assert {c.reseller_id for c in db.session.scalars(select(Client))} == {b.id}


def test_without_any_scope_tenant_tables_read_as_empty(postgres, tenants):
    with scope.entered(scope.NOTHING):
        for table in _tenant_tables():
            count = text(f"SELECT count(*) FROM {table}")  # noqa: S608 - names from the metadata
            assert db.session.scalar(count) == 0, table
    assert db.session.scalar(select(func.count()).select_from(Client)) >= 2  # the named "tests" bypass


def test_a_row_of_another_reseller_cannot_be_written(postgres, tenants):
    a, b = tenants.a, tenants.b
    with scope.scoped(a.id):
        hidden = db.session.execute(update(Client).where(Client.id == b.client.id).values(trade_name="x"))
        assert hidden.rowcount == 0
        with pytest.raises(ProgrammingError, match="row-level security"), db.session.begin_nested():
            db.session.execute(update(Client).where(Client.id == a.client.id).values(reseller_id=b.id))


def test_the_client_scope_narrows_client_rows(postgres, tenants, factory):
    a = tenants.a
    other = factory.client(a.id, plan_id=a.plan.id, payment_status="paid", trade_name="Other A")
    with scope.bypass("tests"):
        of_a = select(Subscription.client_id).where(Subscription.reseller_id == a.id)
        owners = set(db.session.scalars(of_a))
    assert {a.client.id, other.id} <= owners
    with scope.scoped(a.id, a.client.id):
        assert set(db.session.scalars(select(Subscription.client_id))) == {a.client.id}


def test_every_tenant_table_has_forced_row_level_security_and_the_runtime_role_owns_none(postgres, app):
    role = app.config["DATABASE_RUNTIME_ROLE"]
    rows = db.session.execute(
        text(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, pg_get_userbyid(c.relowner), "
            "EXISTS (SELECT FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = 'tenant_scope') "
            "FROM pg_class c WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace"
        )
    ).all()
    state = {name: (enabled, forced, has_policy) for name, enabled, forced, _owner, has_policy in rows}
    for table in _tenant_tables():
        assert state[table] == (True, True, True), table
    assert role not in {owner for *_rest, owner, _p in rows}
    with scope.scoped(1):
        assert db.session.scalar(text("SELECT current_user")) == role
        powers = text("SELECT rolbypassrls OR rolsuper FROM pg_roles WHERE rolname = current_user")
        assert db.session.scalar(powers) is False


def test_every_bypass_is_named_in_one_list():
    with pytest.raises(ValueError, match="unknown tenancy bypass"):
        scope.bypass("no-such-reason")
    assert set(jobs.PERIODIC) == set(jobs.PERIODIC_BYPASS)
    for encoded in jobs.PERIODIC_BYPASS.values():
        assert scope.Scope.decode(encoded).bypass in scope.BYPASSES


def test_a_job_carries_the_scope_it_was_queued_in():
    scopes = (scope.Scope(reseller_id=7), scope.Scope(reseller_id=7, client_id=9), scope.Scope(bypass="cli"))
    for original in scopes:
        assert scope.Scope.decode(original.encode()) == original
    # A job queued by the previous release has no scope: it runs under a named bypass.
    assert scope.Scope.decode(None).bypass == "previous-release-job"


def test_a_queued_job_runs_in_the_scope_of_the_code_that_queued_it(app, tenants, monkeypatch):
    with scope.scoped(tenants.a.id, tenants.a.client.id):
        jobs.enqueue("core.mail.deliver", {}, queue="mail")
        spec = db.session.info[jobs._PENDING_KEY].pop()
    assert scope.Scope.decode(spec.scope) == scope.Scope(
        reseller_id=tenants.a.id, client_id=tenants.a.client.id
    )

    seen = []
    monkeypatch.setattr(jobs, "call", lambda *_args: seen.append(scope.current_scope()))
    jobs.execute("core.mail.deliver", {}, tenancy_scope=spec.scope)  # as the RQ worker does
    jobs.run_periodic("billing.deadlines.sweep_deadlines")
    jobs.execute("core.mail.deliver", {})  # queued by the previous release
    assert [(s.reseller_id, s.client_id, s.bypass) for s in seen] == [
        (tenants.a.id, tenants.a.client.id, None),
        (None, None, "billing-deadlines"),
        (None, None, "previous-release-job"),
    ]


def _estimated_rows(sql: str) -> float:
    plan = db.session.scalar(text(f"EXPLAIN (FORMAT JSON) {sql}"))
    return plan[0]["Plan"]["Plan Rows"]


def test_the_policies_do_not_shrink_the_planners_row_estimates(postgres, tenants):
    # The planner multiplies a policy's estimated selectivity into the query's own: the
    # bare ``bypass OR reseller_id = <setting>`` counted as about a half, and the client
    # list's plans turned (migration 0011, visible()). Each policy, applied to a table
    # without policies of 100 resellers, must keep (nearly) every row of the estimate.
    with scope.bypass("tests", as_owner=True):
        db.session.execute(
            text(
                "CREATE TEMP TABLE policy_probe ON COMMIT DROP AS SELECT n % 100 + 1 AS reseller_id, "
                "n % 1000 + 1 AS client_id FROM generate_series(1, 20000) AS n"
            )
        )
        db.session.execute(text("ANALYZE policy_probe"))
        policies = db.session.execute(
            text(
                "SELECT c.relname, pg_get_expr(p.polqual, p.polrelid), "
                "pg_get_expr(p.polwithcheck, p.polrelid) "
                "FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid WHERE p.polname = 'tenant_scope'"
            )
        ).all()
        assert {table for table, *_ in policies} == set(_tenant_tables())
        everything = _estimated_rows("SELECT * FROM policy_probe")
        for table, using, check in policies:
            assert check == using, table
            kept = _estimated_rows(f"SELECT * FROM policy_probe WHERE {using}")  # noqa: S608 - the catalog's
            assert kept >= 0.9 * everything, (table, kept, everything)
