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


def _plan(sql: str) -> dict:
    return db.session.scalar(text(f"EXPLAIN (FORMAT JSON) {sql}"))[0]["Plan"]


def _nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


def test_a_query_naming_its_reseller_pays_no_policy_per_row(postgres, tenants):
    # Migration 0016: each policy is a plain equality, so the planner folds it into the
    # query's own predicate: a one-time check per query, the row estimates untouched
    # (0011's ``... OR bypass`` was evaluated on every row and halved the estimates).
    a = tenants.a
    for table in _tenant_tables():
        # In a client user's scope the query names its client too, as the workspace's do.
        has_client = "client_id" in db.metadata.tables[table].c
        of_client = f" AND client_id = {a.client.id}" if has_client else ""
        for narrowed, predicate in ((scope.scoped(a.id), ""), (scope.scoped(a.id, a.client.id), of_client)):
            sql = f"SELECT * FROM {table} WHERE reseller_id = {a.id}{predicate}"  # noqa: S608 - the metadata's
            with scope.bypass("tests", as_owner=True):
                unguarded = _plan(sql)["Plan Rows"]
            with narrowed:
                plan = _plan(sql)
            per_row = " ".join(str(n.get("Filter", "")) for n in _nodes(plan))
            assert "current_setting" not in per_row and "$" not in per_row, (table, per_row)
            assert any("One-Time Filter" in n for n in _nodes(plan)), table
            scanned = [n["Plan Rows"] for n in _nodes(plan) if n.get("Relation Name") == table]
            assert scanned == [unguarded], table


def test_each_runtime_role_has_its_policy_on_every_tenant_table(postgres, app):
    role = app.config["DATABASE_RUNTIME_ROLE"]
    rows = db.session.execute(
        text(
            "SELECT c.relname, p.polname, array(SELECT rolname FROM pg_roles WHERE oid = ANY(p.polroles)) "
            "FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid"
        )
    ).all()
    policies = {(table, name): set(roles) for table, name, roles in rows}
    for table in _tenant_tables():
        assert role in policies[(table, "tenant_scope")], table
        assert f"{role}_client" in policies[(table, "client_scope")], table
        assert f"{role}_bypass" in policies[(table, "named_bypass")], table
    with scope.scoped(1, 2):
        assert db.session.scalar(text("SELECT current_user")) == f"{role}_client"
    with scope.bypass("tests"):
        assert db.session.scalar(text("SELECT current_user")) == f"{role}_bypass"
        powers = text("SELECT rolbypassrls OR rolsuper FROM pg_roles WHERE rolname = current_user")
        assert db.session.scalar(powers) is False
