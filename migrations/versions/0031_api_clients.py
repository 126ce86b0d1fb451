"""The reseller API (issue 16): API clients of a reseller with up to two active secrets
(digests only), the access tokens issued to them by the OAuth2 client-credentials grant
(digests only) and the responses kept 24 hours for an ``Idempotency-Key``. Every table
carries reseller_id and is protected by it (migrations.tenancy.protect).

Revision ID: 0031_api_clients
Revises: 0030_payment_instructions
Create Date: 2026-12-02 02:00:00

"""

import sqlalchemy as sa
from alembic import op

from migrations.tenancy import protect

revision = "0031_api_clients"
down_revision = "0030_payment_instructions"
branch_labels = None
depends_on = None

TABLES = ("api_clients", "api_client_secrets", "api_tokens", "api_idempotent_responses")


def _keys(table: str) -> list:
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reseller_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["reseller_id"],
            ["resellers.id"],
            name=op.f(f"fk_{table}_reseller_id_resellers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def _of_client(table: str) -> list:
    return [
        sa.Column("api_client_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["api_client_id"],
            ["api_clients.id"],
            name=op.f(f"fk_{table}_api_client_id_api_clients"),
            ondelete="CASCADE",
        ),
    ]


def upgrade():
    op.create_table(
        "api_clients",
        *_keys("api_clients"),
        sa.Column("client_key", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created_by_account_id", sa.Integer(), nullable=True),
        sa.Column("created_by_label", sa.String(length=254), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_account_id"],
            ["accounts.id"],
            name=op.f("fk_api_clients_created_by_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.UniqueConstraint("client_key", name=op.f("uq_api_clients_client_key")),
    )
    op.create_index(op.f("ix_api_clients_reseller_id"), "api_clients", ["reseller_id"])
    op.create_table(
        "api_client_secrets",
        *_keys("api_client_secrets"),
        *_of_client("api_client_secrets"),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("hint", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
    )
    op.create_index(op.f("ix_api_client_secrets_api_client_id"), "api_client_secrets", ["api_client_id"])
    op.create_table(
        "api_tokens",
        *_keys("api_tokens"),
        *_of_client("api_tokens"),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.Text(), server_default="", nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("expires_in", sa.Integer(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index(op.f("ix_api_tokens_api_client_id"), "api_tokens", ["api_client_id"])
    op.create_table(
        "api_idempotent_responses",
        *_keys("api_idempotent_responses"),
        *_of_client("api_idempotent_responses"),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("api_client_id", "key", name=op.f("uq_api_idempotent_responses_api_client_id_key")),
    )
    op.create_index("ix_api_idempotent_responses_created", "api_idempotent_responses", ["created_at"])
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            protect(table, by_client=False)


def downgrade():
    for table in reversed(TABLES):
        op.drop_table(table)
