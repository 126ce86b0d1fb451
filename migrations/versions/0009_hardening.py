"""Hardening: each reseller's canonical URL for e-mailed links; an impersonation
names the staff session beneath it; a login remembers when all its sessions were
ended (a pending login checked earlier dies); who deactivated a client user; an
account added to an existing login waits for its owner's acceptance.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 19:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

PARENT_WHERE = "parent_session_id IS NOT NULL"


def upgrade():
    op.add_column("resellers", sa.Column("canonical_url", sa.String(length=300), nullable=True))
    # Existing resellers: their oldest host over HTTPS (links never follow the request).
    op.execute(
        "UPDATE resellers SET canonical_url = 'https://' || "
        "(SELECT host FROM reseller_hosts WHERE reseller_hosts.reseller_id = resellers.id "
        "ORDER BY reseller_hosts.id LIMIT 1) "
        "WHERE canonical_url IS NULL"
    )
    op.add_column("logins", sa.Column("sessions_revoked_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(
            sa.Column("deactivated_by_staff", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.add_column(
            sa.Column("awaiting_acceptance", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    # Who deactivated the users already inactive is not recorded on the row: treat them
    # as the reseller's doing, so that no client manager can undo a deactivation by staff.
    accounts = sa.table(
        "accounts", sa.column("deactivated_by_staff", sa.Boolean), sa.column("active", sa.Boolean),
        sa.column("kind", sa.String),
    )
    op.execute(
        accounts.update()
        .where(accounts.c.active == sa.false(), accounts.c.kind == "client_user")
        .values(deactivated_by_staff=sa.true())
    )
    with op.batch_alter_table("auth_sessions") as batch:
        batch.add_column(sa.Column("parent_session_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_auth_sessions_parent_session_id_auth_sessions"),
            "auth_sessions",
            ["parent_session_id"],
            ["id"],
            ondelete="CASCADE",
        )
    op.create_index(
        "ix_auth_sessions_parent",
        "auth_sessions",
        ["parent_session_id"],
        postgresql_where=sa.text(PARENT_WHERE),
        sqlite_where=sa.text(PARENT_WHERE),
    )


def downgrade():
    where = sa.text(PARENT_WHERE)
    op.drop_index(
        "ix_auth_sessions_parent", table_name="auth_sessions", postgresql_where=where, sqlite_where=where
    )
    with op.batch_alter_table("auth_sessions") as batch:
        batch.drop_constraint(op.f("fk_auth_sessions_parent_session_id_auth_sessions"), type_="foreignkey")
        batch.drop_column("parent_session_id")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("awaiting_acceptance")
        batch.drop_column("deactivated_by_staff")
    op.drop_column("logins", "sessions_revoked_at")
    op.drop_column("resellers", "canonical_url")
