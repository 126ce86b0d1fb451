"""The inbound mail inbox (issue 14): every e-mail received by the webhook or the SMTP
listener, stored before the sender is answered; the raw bytes live in core.storage, the
row keeps their key, size and SHA-256, the envelope, the Message-ID and what processing
did. ``reseller_id`` is empty until the message is routed: protected by reseller, so a
row nobody owns yet is read only under a named bypass (``mail-intake``).

Revision ID: 0023_inbound_messages
Revises: 0022_ticket_clock_expiring
Create Date: 2026-12-01 13:40:00

"""

import sqlalchemy as sa
from alembic import op

from migrations.tenancy import protect

revision = "0023_inbound_messages"
down_revision = "0022_ticket_clock_expiring"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "inbound_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("storage_key", sa.String(length=512), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("received_via", sa.String(length=10), nullable=False),
        sa.Column("envelope_sender", sa.String(length=320), nullable=True),
        sa.Column("envelope_recipients", sa.JSON(), nullable=False),
        sa.Column("message_id", sa.String(length=998), nullable=True),
        sa.Column("dedupe_key", sa.String(length=998), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("processed_at", sa.DateTime(), nullable=True),
        sa.Column("outcome", sa.String(length=30), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("reseller_id", sa.Integer(), nullable=True),
        sa.Column("desk_id", sa.Integer(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["reseller_id"],
            ["resellers.id"],
            name=op.f("fk_inbound_messages_reseller_id_resellers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["desk_id"], ["desks.id"], name=op.f("fk_inbound_messages_desk_id_desks"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_inbound_messages_ticket_id_tickets"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_messages")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_inbound_messages_dedupe_key")),
    )
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.create_index("ix_inbound_messages_pending", ["processed_at", "received_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_inbound_messages_reseller_id"), ["reseller_id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        protect("inbound_messages", by_client=False)


def downgrade():
    op.drop_table("inbound_messages")
