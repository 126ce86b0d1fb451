"""Row-level security, PostgreSQL's second tenancy wall: a runtime role that owns no
table, and on every table carrying reseller_id a policy comparing the row with the
transaction's scope (core.scope sets app.reseller_id, app.client_id or app.bypass).

SQLite has no such thing: it keeps the application-level scoping only.

Revision ID: 0011_row_level_security
Revises: 0009
Create Date: 2026-12-01 03:30:00

"""

from alembic import op

revision = "0011_row_level_security"
down_revision = "0010_one_phone_format"
branch_labels = None
depends_on = None

# The role the application switches to in each transaction (DATABASE_RUNTIME_ROLE).
# Roles belong to the whole cluster: the downgrade leaves it (other databases use it).
RUNTIME_ROLE = "revenda_app"

# Tables carrying reseller_id, and whether the client scope (a client user in the
# workspace) narrows them too. Not by client: accounts (a login lists its accounts in
# every client, to switch) and audit_events (client_id may be empty).
TENANT_TABLES = {
    "accounts": False,
    "audit_events": False,
    "auth_sessions": False,
    "client_deletion_codes": True,
    "client_deletions": True,
    "clients": False,
    "contacts": True,
    "conversations": True,
    "custom_field_definitions": False,
    "custom_field_values": True,
    "export_jobs": False,
    "extra_packs": True,
    "login_challenges": False,
    "logins": False,
    "messages": True,
    "payments": True,
    "plans": False,
    "recovery_codes": False,
    "reseller_hosts": False,
    "roles": False,
    "session_windows": True,
    "subscriptions": True,
    "suspension_events": True,
    "team_members": True,
    "teams": True,
    "tickets": True,
    "trusted_devices": False,
}

# Each setting is read in a sub-SELECT, so PostgreSQL reads it once per query (an
# InitPlan), not once per row: the client list's COUNT over 28,000 clients took 4.5 ms
# with current_setting() per row, 2.2 ms so (1.1 ms without the policy).
BYPASS = "(SELECT current_setting('app.bypass', true) = 'on')"
RESELLER_ID = "(SELECT NULLIF(current_setting('app.reseller_id', true), '')::integer)"
CLIENT_ID = "(SELECT NULLIF(current_setting('app.client_id', true), '')::integer)"
RESELLER = f"reseller_id = {RESELLER_ID}"
CLIENT = f"({CLIENT_ID} IS NULL OR client_id = {CLIENT_ID})"


def visible(rule: str) -> str:
    """The policy's expression: ``rule`` (true, or false/NULL: hidden), written as
    ``(CASE WHEN rule THEN true END) IS NOT NULL``, which means the same.

    The planner estimates ``rule`` itself like any WHERE clause, and multiplies it into
    the query's own: ``bypass OR reseller_id = <a setting>`` comes out at 1/2 + 1/2 ×
    1/(number of resellers), however the query is scoped. The client list's row counts
    so shrank by a third (on 3 resellers; by half on many) and its plans turned: the
    legal-name search's middle page sorted all matches (38 ms) instead of walking the
    sort index (30 ms, as without the policy). An IS NOT NULL over an expression has no
    statistics and counts as 0.995, so the policy no longer skews the estimates; it
    was never an index condition anyway (the OR), the query's own reseller_id is.
    """
    return f"(CASE WHEN {rule} THEN true END) IS NOT NULL"


# LIKE (the client list's name searches) is not marked leakproof, so under a policy the
# planner may not use it as an index condition: the trigram indexes went unused and the
# search read every client of the reseller (36,000 clients: 1.3 ms became 68 ms). Its
# only error depends on the pattern, never on a row, and the runtime role runs the
# application's SQL only (the wall is against a forgotten predicate, not a hostile
# query): marking it LEAKPROOF lets the indexes serve it again. Only a superuser may;
# otherwise the search stays correct, only slower.
LEAKPROOF_FUNCTIONS = ("pg_catalog.textlike(text, text)",)
IF_SUPERUSER = "IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN {} END IF;"


def _leakproof(flag: str) -> None:
    body = " ".join(f"ALTER FUNCTION {f} {flag};" for f in LEAKPROOF_FUNCTIONS)
    op.execute("DO $$ BEGIN " + IF_SUPERUSER.format(body) + " END $$")


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    if not _postgres():
        return
    op.execute(
        f"""
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{RUNTIME_ROLE}') THEN
                CREATE ROLE {RUNTIME_ROLE} NOLOGIN NOBYPASSRLS;
            END IF;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;  -- another database of this cluster created it meanwhile
        END
        $$
        """
    )
    op.execute(f"GRANT {RUNTIME_ROLE} TO CURRENT_USER")
    op.execute(f"GRANT USAGE ON SCHEMA public TO {RUNTIME_ROLE}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {RUNTIME_ROLE}")
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {RUNTIME_ROLE}")
    # Tables and sequences of later migrations too.
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {RUNTIME_ROLE}"
    )
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {RUNTIME_ROLE}"
    )
    _leakproof("LEAKPROOF")
    for table, by_client in TENANT_TABLES.items():
        # The tenant's comparison first: in a tenant scope (nearly every query) the OR
        # stops at it, without reading the bypass setting for each row.
        rule = visible(f"({RESELLER}" + (f" AND {CLIENT})" if by_client else ")") + f" OR {BYPASS}")
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY tenant_scope ON {table} USING ({rule}) WITH CHECK ({rule})")


def downgrade():
    if not _postgres():
        return
    for table in TENANT_TABLES:
        op.execute(f"DROP POLICY IF EXISTS tenant_scope ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE USAGE, SELECT ON SEQUENCES FROM {RUNTIME_ROLE}"
    )
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM {RUNTIME_ROLE}"
    )
    op.execute(f"REVOKE USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public FROM {RUNTIME_ROLE}")
    op.execute(f"REVOKE SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public FROM {RUNTIME_ROLE}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {RUNTIME_ROLE}")
    _leakproof("NOT LEAKPROOF")
