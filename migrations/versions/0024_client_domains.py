"""Client domains (issue 14, seed 003): the domains whose e-mail addresses belong to a
client (a domain belongs to at most one client of a reseller), the reseller's own
webmail overrides over the packaged free-mail list, the reseller's "create clients from
unknown senders" setting, and the mark of a client created from an e-mail until staff
review it. Both new tables carry reseller_id and are protected by reseller
(migrations.tenancy.protect); client_domains by client as well, so a client user's scope
sees only its own client's domains.

Revision ID: 0024_client_domains
Revises: 0023_inbound_messages
Create Date: 2026-12-01 16:00:00

"""

import sqlalchemy as sa
from alembic import op

from migrations.tenancy import protect

revision = "0024_client_domains"
down_revision = "0023_inbound_messages"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "client_domains",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reseller_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_account_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["reseller_id"],
            ["resellers.id"],
            name=op.f("fk_client_domains_reseller_id_resellers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_client_domains_client_id_clients"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["created_by_account_id"],
            ["accounts.id"],
            name=op.f("fk_client_domains_created_by_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_domains")),
        sa.UniqueConstraint("reseller_id", "domain", name=op.f("uq_client_domains_reseller_id_domain")),
    )
    op.create_index("ix_client_domains_client", "client_domains", ["client_id", "domain"])
    op.create_table(
        "webmail_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reseller_id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("is_webmail", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_account_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["reseller_id"],
            ["resellers.id"],
            name=op.f("fk_webmail_overrides_reseller_id_resellers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_account_id"],
            ["accounts.id"],
            name=op.f("fk_webmail_overrides_created_by_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webmail_overrides")),
        sa.UniqueConstraint("reseller_id", "domain", name=op.f("uq_webmail_overrides_reseller_id_domain")),
    )
    # Plain ADD COLUMN (no batch): on SQLite a batch would rebuild clients and lose the
    # client_counts triggers of 0017.
    op.add_column(
        "resellers", sa.Column("mail_creates_clients", sa.Boolean(), server_default=sa.true(), nullable=False)
    )
    for column in ("created_by_email", "email_review_pending"):
        op.add_column("clients", sa.Column(column, sa.Boolean(), server_default=sa.false(), nullable=False))
    if op.get_bind().dialect.name == "postgresql":
        protect("client_domains", by_client=True)
        protect("webmail_overrides", by_client=False)


def downgrade():
    for column in ("email_review_pending", "created_by_email"):
        op.drop_column("clients", column)
    op.drop_column("resellers", "mail_creates_clients")
    op.drop_table("webmail_overrides")
    op.drop_index("ix_client_domains_client", table_name="client_domains")
    op.drop_table("client_domains")
