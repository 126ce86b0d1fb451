"""Terms of use (issue 15, the client portal's first increment): the reseller's
versions of its terms (Markdown, numbered per reseller, never edited once published)
and each client user's acceptance of a version (who, when, IP and browser). Both tables
carry reseller_id and are protected by reseller (migrations.tenancy.protect);
terms_acceptances by client as well, so a client user's scope sees only its own
client's acceptances, while every client user reads the reseller's versions.

Revision ID: 0027_terms_of_use
Revises: 0026_global_intake_addresses
Create Date: 2026-12-02 10:00:00

"""

import sqlalchemy as sa
from alembic import op

from migrations.tenancy import protect

revision = "0027_terms_of_use"
down_revision = "0026_global_intake_addresses"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "terms_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reseller_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=False),
        sa.Column("published_by_account_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["reseller_id"],
            ["resellers.id"],
            name=op.f("fk_terms_versions_reseller_id_resellers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["published_by_account_id"],
            ["accounts.id"],
            name=op.f("fk_terms_versions_published_by_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_terms_versions")),
        sa.UniqueConstraint("reseller_id", "number", name=op.f("uq_terms_versions_reseller_id_number")),
    )
    op.create_table(
        "terms_acceptances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reseller_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("login_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("accepted_at", sa.DateTime(), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["reseller_id"],
            ["resellers.id"],
            name=op.f("fk_terms_acceptances_reseller_id_resellers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_terms_acceptances_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_terms_acceptances_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["login_id"], ["logins.id"], name=op.f("fk_terms_acceptances_login_id_logins"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["terms_versions.id"],
            name=op.f("fk_terms_acceptances_version_id_terms_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_terms_acceptances")),
        sa.UniqueConstraint(
            "account_id", "version_id", name=op.f("uq_terms_acceptances_account_id_version_id")
        ),
    )
    op.create_index("ix_terms_acceptances_client_id", "terms_acceptances", ["client_id"])
    op.create_index("ix_terms_acceptances_version", "terms_acceptances", ["version_id", "accepted_at"])
    if op.get_bind().dialect.name == "postgresql":
        protect("terms_versions", by_client=False)
        protect("terms_acceptances", by_client=True)


def downgrade():
    op.drop_index("ix_terms_acceptances_version", table_name="terms_acceptances")
    op.drop_index("ix_terms_acceptances_client_id", table_name="terms_acceptances")
    op.drop_table("terms_acceptances")
    op.drop_table("terms_versions")
