"""The ticket queue's default walk carries the folded subject (issue 13): the index of
the default sort, ``(reseller_id, desk_id, status_kind, resolution_due_at, id)``, gets
``INCLUDE (subject_search)`` on PostgreSQL, so a text search walking it (``desk.queue``)
filters the index's entries (an index-only scan) instead of fetching every walked row
from the table. The same keys: every other use of the index is unchanged. SQLite has no
INCLUDE and keeps its index.

Revision ID: 0039_queue_text_walk
Revises: 0037_setup_token
Create Date: 2026-12-02 05:45:00

"""

from alembic import op

revision = "0039_queue_text_walk"
down_revision = "0037_setup_token"
branch_labels = None
depends_on = None

NAME = "ix_tickets_desk_kind_resolution_due_at"
KEYS = "reseller_id, desk_id, status_kind, resolution_due_at, id"


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {NAME}")
        op.execute(f"CREATE INDEX {NAME} ON tickets ({KEYS}) INCLUDE (subject_search)")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {NAME}")
        op.execute(f"CREATE INDEX {NAME} ON tickets ({KEYS})")
