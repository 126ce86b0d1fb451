"""The live inbox (issue 17): each conversation's newest message and newest message from
the contact (the list's preview and unread marker), how far each account read each
conversation, and each user's choice of sound and title badge. Both new tables carry
reseller_id and client_id and are protected by them (migrations.tenancy.protect).

Revision ID: 0036_live_inbox
Revises: 0034_api_rest_rounding
Create Date: 2026-12-02 05:00:00

"""

import sqlalchemy as sa
from alembic import op

from migrations.tenancy import protect

revision = "0036_live_inbox"
down_revision = "0034_api_rest_rounding"
branch_labels = None
depends_on = None

TABLES = ("conversation_reads", "inbox_preferences")


def _tenant_columns(table: str) -> list:
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reseller_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["reseller_id"], ["resellers.id"], name=op.f(f"fk_{table}_reseller_id_resellers"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f(f"fk_{table}_client_id_clients"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f(f"fk_{table}_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def upgrade():
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("last_message_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("last_inbound_message_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE conversations SET "
        "last_message_id = (SELECT max(m.id) FROM messages m WHERE m.conversation_id = conversations.id), "
        "last_inbound_message_id = (SELECT max(m.id) FROM messages m "
        "WHERE m.conversation_id = conversations.id AND m.direction = 'in')"
    )
    op.create_table(
        "conversation_reads",
        *_tenant_columns("conversation_reads"),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("last_read_message_id", sa.Integer(), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_conversation_reads_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "account_id", "conversation_id", name=op.f("uq_conversation_reads_account_id_conversation_id")
        ),
    )
    for column in ("reseller_id", "client_id", "conversation_id"):
        op.create_index(op.f(f"ix_conversation_reads_{column}"), "conversation_reads", [column])
    op.create_table(
        "inbox_preferences",
        *_tenant_columns("inbox_preferences"),
        sa.Column("sound", sa.Boolean(), nullable=False),
        sa.Column("title_badge", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("account_id", name=op.f("uq_inbox_preferences_account_id")),
    )
    for column in ("reseller_id", "client_id"):
        op.create_index(op.f(f"ix_inbox_preferences_{column}"), "inbox_preferences", [column])
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            protect(table, by_client=True)


def downgrade():
    for table in reversed(TABLES):
        op.drop_table(table)
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("last_inbound_message_id")
        batch.drop_column("last_message_id")
