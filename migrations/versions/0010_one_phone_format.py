"""One phone format: contacts' phones stored in E.164 with its "+" (``+5511987654321``),
as clients' phones already are (they were stored as bare digits, ``5511987654321``).

Data only, no schema change. Every stored contact phone is digits that the old
normaliser checked (10 to 15 of them, Brazilian ones with their 55), so E.164 is the
same digits behind a "+"; the downgrade takes the "+" off again.

Revision ID: 0010_one_phone_format
Revises: 0009
Create Date: 2026-12-01 03:10:00

"""

from alembic import op

revision = "0010_one_phone_format"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("UPDATE contacts SET phone = '+' || phone WHERE phone NOT LIKE '+%'")


def downgrade():
    op.execute("UPDATE contacts SET phone = substr(phone, 2) WHERE phone LIKE '+%'")
