"""A desk's intake address is unique across the platform, not only within its reseller
(issue 14, security review): two resellers answering the same address would each make
the other's mail unroutable.

Revision ID: 0026_global_intake_addresses
Revises: 0025_mail_threading
Create Date: 2026-12-01 16:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0026_global_intake_addresses"
down_revision = "0025_mail_threading"
branch_labels = None
depends_on = None

HAS_ADDRESS = sa.text("intake_email IS NOT NULL")


def upgrade():
    op.drop_index("uq_desks_intake_email", table_name="desks")
    op.create_index(
        "uq_desks_intake_email",
        "desks",
        ["intake_email"],
        unique=True,
        postgresql_where=HAS_ADDRESS,
        sqlite_where=HAS_ADDRESS,
    )


def downgrade():
    op.drop_index("uq_desks_intake_email", table_name="desks")
    op.create_index(
        "uq_desks_intake_email",
        "desks",
        ["reseller_id", "intake_email"],
        unique=True,
        postgresql_where=HAS_ADDRESS,
        sqlite_where=HAS_ADDRESS,
    )
