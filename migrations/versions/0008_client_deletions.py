"""Client deletions: the purge deadline and tombstone, and the one-time codes that
confirm a deletion; indexes the purge's foreign-key checks need.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 13:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

LIVE = "finished_at IS NULL AND cancelled_at IS NULL"
# Deleting an account sets these to NULL (or cascades): each check needs an index.
PARTIAL_ACCOUNT_INDEXES = (
    ("ix_messages_author", "messages", "author_account_id"),
    ("ix_messages_actor", "messages", "actor_account_id"),
    ("ix_auth_sessions_impersonator", "auth_sessions", "impersonator_account_id"),
    ("ix_clients_responsible", "clients", "responsible_account_id"),
)


def upgrade():
    op.create_table(
        "client_deletions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reseller_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_account_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("purge_due_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=10), server_default="pending", nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(), nullable=True),
        sa.Column("cancelled_by_account_id", sa.Integer(), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("purged_rows", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["reseller_id"], ["resellers.id"], name=op.f("fk_client_deletions_reseller_id_resellers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_deletions")),
    )
    op.create_index(
        "uq_client_deletions_client_live", "client_deletions", ["client_id"], unique=True,
        postgresql_where=sa.text(LIVE), sqlite_where=sa.text(LIVE),
    )
    op.create_index(
        "ix_client_deletions_due", "client_deletions", ["purge_due_at"],
        postgresql_where=sa.text(LIVE), sqlite_where=sa.text(LIVE),
    )
    op.create_index("ix_client_deletions_reseller", "client_deletions", ["reseller_id", "requested_at"])

    op.create_table(
        "client_deletion_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reseller_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=5), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("sends", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_sent_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_client_deletion_codes_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_client_deletion_codes_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reseller_id"], ["resellers.id"], name=op.f("fk_client_deletion_codes_reseller_id_resellers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_deletion_codes")),
    )
    op.create_index(
        "ix_client_deletion_codes_account_client", "client_deletion_codes", ["account_id", "client_id"]
    )
    op.create_index(op.f("ix_client_deletion_codes_client_id"), "client_deletion_codes", ["client_id"])

    # Deleting contacts, conversations and accounts checks the rows pointing at them.
    op.create_index("ix_session_windows_contact", "session_windows", ["contact_id"])
    op.create_index("ix_session_windows_conversation", "session_windows", ["conversation_id"])
    op.create_index("ix_auth_sessions_account", "auth_sessions", ["account_id"])
    for name, table, column in PARTIAL_ACCOUNT_INDEXES:
        where = sa.text(f"{column} IS NOT NULL")
        op.create_index(name, table, [column], postgresql_where=where, sqlite_where=where)


def downgrade():
    for name, table, column in PARTIAL_ACCOUNT_INDEXES:
        where = sa.text(f"{column} IS NOT NULL")
        op.drop_index(name, table_name=table, postgresql_where=where, sqlite_where=where)
    op.drop_index("ix_auth_sessions_account", table_name="auth_sessions")
    op.drop_index("ix_session_windows_conversation", table_name="session_windows")
    op.drop_index("ix_session_windows_contact", table_name="session_windows")
    op.drop_table("client_deletion_codes")
    op.drop_table("client_deletions")
