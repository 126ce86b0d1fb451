"""Threading and loop protection for e-mail (issue 14): the Message-ID of every e-mail
sent for a reseller (``thread_messages``, with the thread it belongs to, no address),
the addresses a permanent bounce declared dead (``undeliverable_addresses``), the sender,
the client and the timeline entry of each received message (rate limit per sender, the original
message downloadable from its reply), a lookup by received Message-ID, and the desk that
receives mail sent to an unknown address of a reseller's domain (``desks.mail_default``),
and the sanitised HTML of tickets and replies made from e-mail with their inline images'
Content-IDs.

Revision ID: 0025_mail_threading
Revises: 0024_client_domains
Create Date: 2026-12-01 16:00:00

"""

import sqlalchemy as sa
from alembic import op

from migrations.tenancy import protect

revision = "0025_mail_threading"
down_revision = "0024_client_domains"
branch_labels = None
depends_on = None

ONE_DEFAULT_DESK = "mail_default"


def upgrade():
    op.create_table(
        "thread_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reseller_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("thread", sa.String(length=80), nullable=True),
        sa.Column("inbound", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("recipient_keys", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["reseller_id"],
            ["resellers.id"],
            name=op.f("fk_thread_messages_reseller_id_resellers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_thread_messages")),
    )
    op.create_index("ix_thread_messages_message_id", "thread_messages", ["message_id"])
    op.create_index("ix_thread_messages_thread", "thread_messages", ["reseller_id", "thread", "id"])
    op.create_table(
        "undeliverable_addresses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reseller_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("diagnostic", sa.String(length=500), nullable=True),
        sa.Column("bounced_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["reseller_id"],
            ["resellers.id"],
            name=op.f("fk_undeliverable_addresses_reseller_id_resellers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_undeliverable_addresses")),
        sa.UniqueConstraint(
            "reseller_id", "address", name=op.f("uq_undeliverable_addresses_reseller_id_address")
        ),
    )
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sender", sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column("subject", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("entry_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("client_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_inbound_messages_client_id_clients"),
            "clients",
            ["client_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_index(batch_op.f("ix_inbound_messages_client_id"), ["client_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_inbound_messages_entry_id_ticket_entries"),
            "ticket_entries",
            ["entry_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index("ix_inbound_messages_sender", ["sender", "received_at"], unique=False)
        batch_op.create_index("ix_inbound_messages_message_id", ["message_id"], unique=False)
    with op.batch_alter_table("desks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("mail_default", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_index(
            "uq_desks_mail_default",
            ["reseller_id"],
            unique=True,
            postgresql_where=sa.text(ONE_DEFAULT_DESK),
            sqlite_where=sa.text(ONE_DEFAULT_DESK),
        )
    # The sanitised HTML of what came by e-mail, and the Content-ID an inline image is
    # named by in it.
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("description_html", sa.Text(), nullable=True))
    with op.batch_alter_table("ticket_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("body_html", sa.Text(), nullable=True))
    with op.batch_alter_table("ticket_attachments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("content_id", sa.String(length=255), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        protect("thread_messages", by_client=False)
        protect("undeliverable_addresses", by_client=False)


def downgrade():
    with op.batch_alter_table("ticket_attachments", schema=None) as batch_op:
        batch_op.drop_column("content_id")
    with op.batch_alter_table("ticket_entries", schema=None) as batch_op:
        batch_op.drop_column("body_html")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("description_html")
    with op.batch_alter_table("desks", schema=None) as batch_op:
        batch_op.drop_index("uq_desks_mail_default")
        batch_op.drop_column("mail_default")
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_inbound_messages_message_id")
        batch_op.drop_index("ix_inbound_messages_sender")
        batch_op.drop_index(batch_op.f("ix_inbound_messages_client_id"))
        batch_op.drop_constraint(batch_op.f("fk_inbound_messages_client_id_clients"), type_="foreignkey")
        batch_op.drop_column("client_id")
        batch_op.drop_constraint(
            batch_op.f("fk_inbound_messages_entry_id_ticket_entries"), type_="foreignkey"
        )
        batch_op.drop_column("entry_id")
        batch_op.drop_column("subject")
        batch_op.drop_column("sender")
    op.drop_table("undeliverable_addresses")
    op.drop_table("thread_messages")
