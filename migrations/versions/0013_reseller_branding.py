"""Reseller branding and settings (issue 12): logo and favicon stored in the row, the
support phone and WhatsApp, the e-mail sender name, session limits within the
platform's maxima and the purge delay. Columns only: no new table, so no new
row-level security policy (resellers carries no reseller_id).

Revision ID: 0013_reseller_branding
Revises: 0012_staff_and_roles
Create Date: 2026-12-01 06:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0013_reseller_branding"
down_revision = "0012_staff_and_roles"
branch_labels = None
depends_on = None

COLUMNS = (
    ("logo_data", sa.LargeBinary(), None),
    ("logo_type", sa.String(40), None),
    ("logo_version", sa.String(16), None),
    ("favicon_data", sa.LargeBinary(), None),
    ("favicon_type", sa.String(40), None),
    ("favicon_version", sa.String(16), None),
    ("support_phone", sa.String(20), None),
    ("support_whatsapp", sa.String(20), None),
    ("mail_sender_name", sa.String(120), None),
    ("staff_idle_minutes", sa.Integer(), "30"),
    ("staff_session_hours", sa.Integer(), "12"),
    ("user_idle_days", sa.Integer(), "14"),
    ("user_session_days", sa.Integer(), "30"),
    ("purge_delay_hours", sa.Integer(), None),
)


def upgrade():
    with op.batch_alter_table("resellers") as batch:
        for name, type_, default in COLUMNS:
            batch.add_column(
                sa.Column(name, type_, server_default=default, nullable=default is None)
            )


def downgrade():
    with op.batch_alter_table("resellers") as batch:
        for name, _type, _default in reversed(COLUMNS):
            batch.drop_column(name)
