"""WhatsApp Business channels (issue 17): a client's channel (its secrets sealed), the
webhook's inbox of raw events, the approved message templates, the sending of our
messages; and what a message carries besides its text (kind, file, place, the message it
answers, the contact's reaction) and its delivery on the channel, on ``messages``. The
new tables carry reseller_id and client_id and are protected by client
(migrations.tenancy.protect); ``messages`` keeps its policies (they cover every column).

Revision ID: 0040_whatsapp
Revises: 0039_queue_text_walk
Create Date: 2026-12-02 05:00:00

"""

import sqlalchemy as sa
from alembic import op

from migrations.tenancy import protect

revision = "0040_whatsapp"
down_revision = "0039_queue_text_walk"
branch_labels = None
depends_on = None

TABLES = ("whatsapp_channels", "whatsapp_events", "whatsapp_templates", "whatsapp_sends")
def _message_columns() -> tuple:
    return (
        sa.Column("kind", sa.String(length=12), server_default="text", nullable=False),
        sa.Column("media_id", sa.String(length=200), nullable=True),
        sa.Column("media_key", sa.String(length=300), nullable=True),
        sa.Column("media_type", sa.String(length=120), nullable=True),
        sa.Column("media_name", sa.String(length=200), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("reply_to_external_id", sa.String(length=100), nullable=True),
        sa.Column("reaction", sa.String(length=32), nullable=True),
        sa.Column("delivery_status", sa.String(length=12), nullable=True),
        sa.Column("delivery_status_at", sa.DateTime(), nullable=True),
        sa.Column("delivery_error", sa.String(length=300), nullable=True),
    )


def _keys(table: str) -> list:
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reseller_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["reseller_id"], ["resellers.id"], name=op.f(f"fk_{table}_reseller_id_resellers"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f(f"fk_{table}_client_id_clients"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def upgrade():
    with op.batch_alter_table("messages") as batch:
        for column in _message_columns():
            batch.add_column(column)
    op.create_table(
        "whatsapp_channels",
        *_keys("whatsapp_channels"),
        sa.Column("phone_number_id", sa.String(length=40), nullable=False),
        sa.Column("business_account_id", sa.String(length=40), nullable=False),
        sa.Column("access_token_sealed", sa.Text(), nullable=False),
        sa.Column("app_secret_sealed", sa.Text(), nullable=False),
        sa.Column("verify_token", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("client_id", name=op.f("uq_whatsapp_channels_client_id")),
        sa.UniqueConstraint("phone_number_id", name=op.f("uq_whatsapp_channels_phone_number_id")),
    )
    op.create_index(op.f("ix_whatsapp_channels_reseller_id"), "whatsapp_channels", ["reseller_id"])
    op.create_table(
        "whatsapp_events",
        *_keys("whatsapp_events"),
        sa.Column("phone_number_id", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("processed_at", sa.DateTime(), nullable=True),
        sa.Column("outcome", sa.String(length=40), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
    )
    op.create_index("ix_whatsapp_events_pending", "whatsapp_events", ["processed_at", "received_at"])
    op.create_index(op.f("ix_whatsapp_events_client_id"), "whatsapp_events", ["client_id"])
    op.create_table(
        "whatsapp_templates",
        *_keys("whatsapp_templates"),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("language", sa.String(length=15), nullable=False),
        sa.Column("category", sa.String(length=30), server_default="", nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("parameters", sa.Integer(), server_default="0", nullable=False),
        sa.Column("synced_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint(
            "client_id", "name", "language", name=op.f("uq_whatsapp_templates_client_id_name_language")
        ),
    )
    op.create_index(op.f("ix_whatsapp_templates_reseller_id"), "whatsapp_templates", ["reseller_id"])
    op.create_table(
        "whatsapp_sends",
        *_keys("whatsapp_sends"),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("template_name", sa.String(length=512), nullable=True),
        sa.Column("template_language", sa.String(length=15), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_whatsapp_sends_message_id_messages"), ondelete="CASCADE"
        ),
        sa.UniqueConstraint("message_id", name=op.f("uq_whatsapp_sends_message_id")),
    )
    op.create_index("ix_whatsapp_sends_due", "whatsapp_sends", ["next_attempt_at"])
    op.create_index(op.f("ix_whatsapp_sends_reseller_id"), "whatsapp_sends", ["reseller_id"])
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            protect(table, by_client=True)


def downgrade():
    for table in reversed(TABLES):
        op.drop_table(table)
    with op.batch_alter_table("messages") as batch:
        for column in reversed(_message_columns()):
            batch.drop_column(column.name)
