"""The ticket queue's filters read their own entries: an index (reseller, desk, status
kind, column, resolution_due_at, id) for each of priority, SLA state and assignee, so
that a rare value on the default sort is a walk down its entries instead of a filter
over every open ticket; and the subject folded (lower-case, accent-free) with a trigram
index on PostgreSQL for the text search. The search reads it with LIKE, which unlike
ILIKE is leakproof, so PostgreSQL may use the index under row-level security.

Revision ID: 0021_ticket_queue_filters
Revises: 0020_ticket_queue_sorts
Create Date: 2026-12-01 13:00:00

"""

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0021_ticket_queue_filters"
down_revision = "0020_ticket_queue_sorts"
branch_labels = None
depends_on = None

COLUMNS = ("priority_rank", "sla_state", "assignee_account_id")
BATCH = 5000


def _fold(value: str | None) -> str:
    """tenant.models.fold as of this revision (a migration does not import the app)."""
    decomposed = unicodedata.normalize("NFKD", value or "")
    # Folding may lengthen a subject ("…" is "..."): cut to the column's 200.
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()[:200]


def _backfill() -> None:
    bind = op.get_bind()
    tickets = sa.table("tickets", sa.column("id"), sa.column("subject"), sa.column("subject_search"))
    update = (
        sa.update(tickets)
        .where(tickets.c.id == sa.bindparam("row_id"))
        .values(subject_search=sa.bindparam("folded"))
    )
    last = 0
    while rows := bind.execute(
        sa.select(tickets.c.id, tickets.c.subject).where(tickets.c.id > last).order_by(tickets.c.id).limit(BATCH)
    ).all():
        bind.execute(update, [{"row_id": i, "folded": _fold(subject)} for i, subject in rows])
        last = rows[-1][0]


def upgrade():
    op.add_column("tickets", sa.Column("subject_search", sa.String(200), server_default="", nullable=False))
    _backfill()
    for column in COLUMNS:
        op.create_index(
            f"ix_tickets_walk_{column}",
            "tickets",
            ["reseller_id", "desk_id", "status_kind", column, "resolution_due_at", "id"],
        )
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(
            "ix_tickets_subject_search_trgm",
            "tickets",
            ["subject_search"],
            postgresql_using="gin",
            postgresql_ops={"subject_search": "gin_trgm_ops"},
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_tickets_subject_search_trgm", table_name="tickets")
    for column in COLUMNS:
        op.drop_index(f"ix_tickets_walk_{column}", table_name="tickets")
    op.drop_column("tickets", "subject_search")
