"""A ticket's timeline names the reseller's API client that wrote a line (issue 16):
``ticket_entries.author_label``, its name when no account wrote it. The table keeps its
row-level security (0029's policies cover every column).

Revision ID: 0033_entry_author_label
Revises: 0032_audit_chain
Create Date: 2026-12-05 02:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0033_entry_author_label"
down_revision = "0032_audit_chain"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("ticket_entries") as batch:
        batch.add_column(sa.Column("author_label", sa.String(length=120), nullable=True))


def downgrade():
    with op.batch_alter_table("ticket_entries") as batch:
        batch.drop_column("author_label")
