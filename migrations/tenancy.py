"""The row-level security policies of a tenant table, for the migrations that create one.

Every table carrying ``reseller_id`` is protected (``tests/test_row_level_security.py``
checks it): a migration that creates one calls ``protect("new_table", by_client=...)``
after creating it. What the policies are and why: migration 0016.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

# The runtime roles, in core.scope's order: a reseller's scope, a client's, a named bypass.
# (core.scope derives the last two from DATABASE_RUNTIME_ROLE with these suffixes.)
ROLES = ("revenda_app", "revenda_app_client", "revenda_app_bypass")
RESELLER_ROLE, CLIENT_ROLE, BYPASS_ROLE = ROLES

# Tables that carry client_id but that a client user reads across its reseller's clients:
# a login lists its accounts in every client (to switch), and audit events may name none.
CLIENT_WIDE = frozenset({"accounts", "audit_events"})

POLICIES = ("tenant_scope", "client_scope", "named_bypass")

# Settings are read in a sub-SELECT (an InitPlan: once per query, not once per row).
RESELLER = "reseller_id = (SELECT NULLIF(current_setting('app.reseller_id', true), '')::integer)"
CLIENT = "client_id = (SELECT NULLIF(current_setting('app.client_id', true), '')::integer)"
BYPASS = "(SELECT coalesce(current_setting('app.bypass', true), '') <> '')"


def tenant_tables(bind) -> dict[str, bool]:
    """Every table of the schema carrying ``reseller_id``, and whether a client user's
    scope narrows it to one client."""
    rows = bind.execute(
        text(
            "SELECT table_name, bool_or(column_name = 'client_id') FROM information_schema.columns "
            "WHERE table_schema = 'public' AND column_name IN ('reseller_id', 'client_id') "
            "GROUP BY table_name HAVING bool_or(column_name = 'reseller_id') ORDER BY table_name"
        )
    ).all()
    return {table: has_client and table not in CLIENT_WIDE for table, has_client in rows}


def _policy(name: str, table: str, role: str, rule: str) -> None:
    op.execute(f"CREATE POLICY {name} ON {table} TO {role} USING ({rule}) WITH CHECK ({rule})")


def protect(table: str, *, by_client: bool) -> None:
    """Turn on (and force) row-level security on ``table``, with its three policies."""
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    # The owner too: with DATABASE_RUNTIME_ROLE blank the application stays the owner.
    _policy("tenant_scope", table, f"{RESELLER_ROLE}, CURRENT_USER", RESELLER)
    _policy("client_scope", table, CLIENT_ROLE, f"{RESELLER} AND {CLIENT}" if by_client else RESELLER)
    # The owner (migrations, operator commands) passes only under a named bypass too.
    _policy("named_bypass", table, f"{BYPASS_ROLE}, CURRENT_USER", BYPASS)


def drop_policies(table: str) -> None:
    for name in POLICIES:
        op.execute(f"DROP POLICY IF EXISTS {name} ON {table}")
