"""WhatsApp templates kept current by Meta's ``message_template_status_update`` webhook
(issue 17: only approved templates outside the 24-hour window):

- ``whatsapp_templates.meta_id``: Meta's id of the template (the webhook names it);
  ``NULL`` for a template synced before this revision (matched by name and language).
- ``whatsapp_templates.status``: Meta's status (``APPROVED``, ``PAUSED``, ``DISABLED``...);
  the templates kept so far were all approved. Only an approved one is offered and sent.
- ``whatsapp_templates.status_at``: when that status was true (the sync's time, or the
  webhook's ``entry[].time``): an older event never overwrites a newer status.

No new table: the row-level security of 0040 covers the new columns.

Revision ID: 0044_whatsapp_template_status
Revises: 0043_whatsapp_named_params
Create Date: 2026-12-09 05:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0044_whatsapp_template_status"
down_revision = "0043_whatsapp_named_params"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("whatsapp_templates") as batch:
        batch.add_column(sa.Column("meta_id", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("status", sa.String(length=30), server_default="APPROVED", nullable=False))
        batch.add_column(sa.Column("status_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("whatsapp_templates") as batch:
        batch.drop_column("status_at")
        batch.drop_column("status")
        batch.drop_column("meta_id")
