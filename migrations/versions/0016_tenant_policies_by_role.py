"""Row-level security by role: one plain equality per scope, no OR.

Migration 0011 gave every tenant table one policy for every runtime use,
``(reseller_id = <setting> AND <client part>) OR <bypass setting>``. PostgreSQL could do
nothing with it but evaluate it on each row: the client list's COUNT over 95,000 clients
cost 1.2 ms more (28 %), and every request paid it on each of its queries.

Each kind of scope now has its own role, and each role its own policy:

- ``revenda_app`` (a reseller's staff, its jobs): ``reseller_id = <app.reseller_id>``;
- ``revenda_app_client`` (a client user's workspace): the same, and on tables of one
  client ``client_id = <app.client_id>``;
- ``revenda_app_bypass`` (the sweeps named in core.scope.BYPASSES) and the tables'
  owner (migrations, operator commands): every row, while ``app.bypass`` names a reason.

A plain equality with the setting read in a sub-SELECT (an InitPlan) is what the planner
knows best: when the query says ``reseller_id = 7`` itself, both land in one equivalence
class and the policy becomes a one-time check ``$0 = 7``, read once per query with no
cost per row and no change to the row estimates; when a query forgets its predicate, the
policy is the index condition. None of the roles owns a table, logs in, or bypasses RLS.

Revision ID: 0016_tenant_policies_by_role
Revises: 0015_accent_sort
Create Date: 2026-12-01 07:00:00

"""

from alembic import op

from migrations.tenancy import ROLES, drop_policies, protect, tenant_tables

revision = "0016_tenant_policies_by_role"
down_revision = "0015_accent_sort"
branch_labels = None
depends_on = None

# 0011's single policy, for the downgrade.
_BYPASS = "(SELECT current_setting('app.bypass', true) = 'on')"
_RESELLER = "reseller_id = (SELECT NULLIF(current_setting('app.reseller_id', true), '')::integer)"
_CLIENT_ID = "(SELECT NULLIF(current_setting('app.client_id', true), '')::integer)"


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    if not _postgres():
        return
    for role in ROLES[1:]:
        op.execute(
            f"""
            DO $$
            BEGIN
                IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
                    CREATE ROLE {role} NOLOGIN NOBYPASSRLS;
                END IF;
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;  -- another database of this cluster created it meanwhile
            END
            $$
            """
        )
        op.execute(f"GRANT {role} TO CURRENT_USER")
        op.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}")
        op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")
        op.execute(
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}"
        )
        op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {role}")
    for table, by_client in tenant_tables(op.get_bind()).items():
        drop_policies(table)
        protect(table, by_client=by_client)


def downgrade():
    if not _postgres():
        return
    for table, by_client in tenant_tables(op.get_bind()).items():
        drop_policies(table)
        client = f" AND ({_CLIENT_ID} IS NULL OR client_id = {_CLIENT_ID})" if by_client else ""
        rule = f"(CASE WHEN ({_RESELLER}{client}) OR {_BYPASS} THEN true END) IS NOT NULL"
        op.execute(f"CREATE POLICY tenant_scope ON {table} USING ({rule}) WITH CHECK ({rule})")
    # The roles belong to the whole cluster (other databases may use them): they stay,
    # with their grants here taken back.
    for role in ROLES[1:]:
        op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE USAGE, SELECT ON SEQUENCES FROM {role}")
        op.execute(
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA public "
            f"REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM {role}"
        )
        op.execute(f"REVOKE USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public FROM {role}")
        op.execute(f"REVOKE SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public FROM {role}")
        op.execute(f"REVOKE USAGE ON SCHEMA public FROM {role}")
