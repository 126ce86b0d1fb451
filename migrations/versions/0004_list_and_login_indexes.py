"""Indexes found by the benchmarks: accounts by login, covering count of live clients

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 21:20:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

LIVE = "deleted_at IS NULL AND inactivated_at IS NULL"
INACTIVATED = "deleted_at IS NULL AND inactivated_at IS NOT NULL"


def upgrade():
    op.create_index("ix_accounts_login", "accounts", ["login_id"])
    op.create_index(
        "ix_clients_live_filters",
        "clients",
        ["reseller_id", "status", "plan_id", "suspended", "payment_type", "payment_status"],
        postgresql_where=sa.text(LIVE),
        sqlite_where=sa.text(LIVE),
    )
    op.create_index(
        "ix_clients_inactivated",
        "clients",
        ["reseller_id", "created_at", "id"],
        postgresql_where=sa.text(INACTIVATED),
        sqlite_where=sa.text(INACTIVATED),
    )


def downgrade():
    op.drop_index("ix_clients_inactivated", table_name="clients")
    op.drop_index("ix_clients_live_filters", table_name="clients")
    op.drop_index("ix_accounts_login", table_name="accounts")
