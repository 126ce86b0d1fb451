"""WhatsApp templates' header and buttons (issue 17, template messages filled in):

- ``whatsapp_templates.header``: the synced template's header (its format, TEXT, IMAGE,
  DOCUMENT or VIDEO, and for TEXT its words with at most one ``{{1}}``); ``NULL`` for a
  template without one.
- ``whatsapp_templates.buttons``: its buttons (index, type, words, a URL button's URL
  with its ``{{1}}`` suffix), ``NULL`` for none.
- ``whatsapp_sends.components``: the header and button components of a template message
  as Meta takes them (a media header's file is uploaded and named at each try).

No new table: the row-level security of 0040 covers the new columns.

Revision ID: 0042_whatsapp_template_parts
Revises: 0041_audit_write
Create Date: 2026-12-07 05:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0042_whatsapp_template_parts"
down_revision = "0041_audit_write"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("whatsapp_templates") as batch:
        batch.add_column(sa.Column("header", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("buttons", sa.JSON(), nullable=True))
    with op.batch_alter_table("whatsapp_sends") as batch:
        batch.add_column(sa.Column("components", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("whatsapp_sends") as batch:
        batch.drop_column("components")
    with op.batch_alter_table("whatsapp_templates") as batch:
        batch.drop_column("buttons")
        batch.drop_column("header")
