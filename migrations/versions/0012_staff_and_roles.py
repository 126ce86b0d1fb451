"""Staff invitations: the e-mailed link that lets an invited staff member accept (the
token stored hashed, single use, expiring), one row per send (the resend cap counts them).

The new staff permissions (API, audit log, staff and settings) are names inside the
roles' JSON list: no column changes; the built-in Owner role holds all by ``is_owner``.

Revision ID: 0012_staff_and_roles
Revises: 0011_row_level_security
Create Date: 2026-12-01 06:20:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0012_staff_and_roles"
down_revision = "0011_row_level_security"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "staff_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reseller_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("invited_by_account_id", sa.Integer(), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_staff_invitations_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invited_by_account_id"],
            ["accounts.id"],
            name=op.f("fk_staff_invitations_invited_by_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["reseller_id"],
            ["resellers.id"],
            name=op.f("fk_staff_invitations_reseller_id_resellers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_staff_invitations_token_hash")),
    )
    op.create_index("ix_staff_invitations_account", "staff_invitations", ["account_id", "created_at"])
    op.create_index(
        op.f("ix_staff_invitations_reseller_id"), "staff_invitations", ["reseller_id"], unique=False
    )
    # Deleting an account sets invited_by to NULL: the check needs an index.
    op.create_index(
        "ix_staff_invitations_invited_by",
        "staff_invitations",
        ["invited_by_account_id"],
        postgresql_where=sa.text("invited_by_account_id IS NOT NULL"),
        sqlite_where=sa.text("invited_by_account_id IS NOT NULL"),
    )

    # --- ROW-LEVEL SECURITY (the tenant_scope policy of migration 0011, same shape) ---
    if op.get_bind().dialect.name == "postgresql":
        rule = (
            "(CASE WHEN (reseller_id = (SELECT NULLIF(current_setting('app.reseller_id', true), '')::integer)"
            " OR (SELECT current_setting('app.bypass', true) = 'on')) THEN true END) IS NOT NULL"
        )
        op.execute("ALTER TABLE staff_invitations ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE staff_invitations FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY tenant_scope ON staff_invitations USING ({rule}) WITH CHECK ({rule})")
    # --- end of ROW-LEVEL SECURITY ---


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP POLICY IF EXISTS tenant_scope ON staff_invitations")
    op.drop_index("ix_staff_invitations_invited_by", table_name="staff_invitations")
    op.drop_index(op.f("ix_staff_invitations_reseller_id"), table_name="staff_invitations")
    op.drop_index("ix_staff_invitations_account", table_name="staff_invitations")
    op.drop_table("staff_invitations")
