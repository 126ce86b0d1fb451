"""The reseller API's loose ends (issue 16): an ``Idempotency-Key``'s stored answer
keeps its own lifetime (``api_idempotent_responses.kept_seconds``: 24 hours, a login
link's 60 seconds, as the link lives), and a client deleted through the API names the
API client that asked (``client_deletions.requested_by_label``). Both tables keep their
row-level security (0031's and 0011's policies cover every column).

Revision ID: 0034_api_rest_rounding
Revises: 0033_entry_author_label
Create Date: 2026-12-06 02:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0034_api_rest_rounding"
down_revision = "0033_entry_author_label"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("api_idempotent_responses") as batch:
        batch.add_column(sa.Column("kept_seconds", sa.Integer(), server_default="86400", nullable=False))
    with op.batch_alter_table("client_deletions") as batch:
        batch.add_column(sa.Column("requested_by_label", sa.String(length=120), nullable=True))


def downgrade():
    with op.batch_alter_table("client_deletions") as batch:
        batch.drop_column("requested_by_label")
    with op.batch_alter_table("api_idempotent_responses") as batch:
        batch.drop_column("kept_seconds")
