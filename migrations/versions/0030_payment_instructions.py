"""How a client pays when online payment is not available (issue 15: the portal's
subscription page says how instead of hiding the buttons): the reseller's own words,
a Pix key or a bank account, ``resellers.payment_instructions``.

Revision ID: 0030_payment_instructions
Revises: 0029_ticket_reviews
Create Date: 2026-12-03 12:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0030_payment_instructions"
down_revision = "0029_ticket_reviews"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("resellers") as batch_op:
        batch_op.add_column(sa.Column("payment_instructions", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("resellers") as batch_op:
        batch_op.drop_column("payment_instructions")
