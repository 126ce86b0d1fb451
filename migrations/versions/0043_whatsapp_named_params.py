"""WhatsApp templates with named parameters (issue 17, template messages filled in):

- ``whatsapp_templates.parameter_format``: ``POSITIONAL`` (``{{1}}``, ``{{2}}``...) or
  ``NAMED`` (``{{first_name}}``), as Meta's ``parameter_format`` says; the templates
  kept so far are all positional.
- ``whatsapp_templates.named_params``: a named template's body parameters in the order
  of its text, each with Meta's example (``[{"name": ..., "example": ...}]``); ``NULL``
  for a positional one. A named header's parameter is kept in ``header``.
- ``whatsapp_sends.param_names``: the names of a named template's body parameters, in
  the order of ``params`` (sent as ``parameter_name``); ``NULL`` for a positional one.

No new table: the row-level security of 0040 covers the new columns.

Revision ID: 0043_whatsapp_named_params
Revises: 0042_whatsapp_template_parts
Create Date: 2026-12-08 05:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0043_whatsapp_named_params"
down_revision = "0042_whatsapp_template_parts"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("whatsapp_templates") as batch:
        batch.add_column(
            sa.Column("parameter_format", sa.String(length=10), server_default="POSITIONAL", nullable=False)
        )
        batch.add_column(sa.Column("named_params", sa.JSON(), nullable=True))
    with op.batch_alter_table("whatsapp_sends") as batch:
        batch.add_column(sa.Column("param_names", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("whatsapp_sends") as batch:
        batch.drop_column("param_names")
    with op.batch_alter_table("whatsapp_templates") as batch:
        batch.drop_column("named_params")
        batch.drop_column("parameter_format")
