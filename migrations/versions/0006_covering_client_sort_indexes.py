"""Client list: sort indexes carry the filter columns, so deep pages skip rows index-only

Found by bench/bench_client_list.py: a middle page of 100,000 clients read ~47,000
heap rows only to skip them (about 25 ms); with the filter columns in the sort index
the skip is an index-only scan (about 5 ms) and only the page's 25 rows are read.
PostgreSQL only: SQLite has no INCLUDE, its indexes stay as they are.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 22:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

LIVE = "deleted_at IS NULL"
SORTS = (
    "trade_name",
    "legal_name",
    "plan_name",
    "status",
    "sessions_remaining",
    "suspended",
    "due_date",
    "last_payment_date",
    "created_at",
)
FILTERS = ("inactivated_at", "status", "plan_id", "suspended", "payment_type", "payment_status", "created_at")


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _recreate(include: bool) -> None:
    for col in SORTS:
        name = f"ix_clients_sort_{col}"
        op.drop_index(name, table_name="clients")
        op.create_index(
            name,
            "clients",
            ["reseller_id", col, "id"],
            postgresql_where=sa.text(LIVE),
            postgresql_include=[c for c in FILTERS if c != col] if include else [],
        )
    op.drop_index("ix_clients_reseller_id_live", table_name="clients")
    op.create_index(
        "ix_clients_reseller_id_live",
        "clients",
        ["reseller_id", "id"],
        postgresql_where=sa.text(LIVE),
        postgresql_include=list(FILTERS) if include else [],
    )


def upgrade():
    if _postgres():
        _recreate(include=True)


def downgrade():
    if _postgres():
        _recreate(include=False)
