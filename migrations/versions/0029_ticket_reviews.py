"""The client portal's say on tickets (issue 15): a resolved ticket waiting for the
client's review (``tickets.review_due_at``, accepted by itself when it passes), the
requester's rating of a finished ticket, and approvals asked of named client users with
each approver's vote. The three new tables carry reseller_id and client_id and are
protected by both (migrations.tenancy.protect): a client user's scope sees only its own
client's rows.

Revision ID: 0029_ticket_reviews
Revises: 0028_knowledge_base
Create Date: 2026-12-03 10:00:00

"""

import sqlalchemy as sa
from alembic import op

from migrations.tenancy import protect

revision = "0029_ticket_reviews"
down_revision = "0028_knowledge_base"
branch_labels = None
depends_on = None


def _tenant_keys(table: str) -> list:
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reseller_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["reseller_id"],
            ["resellers.id"],
            name=op.f(f"fk_{table}_reseller_id_resellers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f(f"fk_{table}_client_id_clients"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def upgrade():
    with op.batch_alter_table("tickets") as batch_op:
        batch_op.add_column(sa.Column("review_due_at", sa.DateTime(), nullable=True))
        batch_op.create_index(
            "ix_tickets_review_due",
            ["review_due_at"],
            postgresql_where=sa.text("review_due_at IS NOT NULL"),
            sqlite_where=sa.text("review_due_at IS NOT NULL"),
        )
    op.create_table(
        "ticket_ratings",
        *_tenant_keys("ticket_ratings"),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("comment", sa.Text(), server_default="", nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_ratings_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_ticket_ratings_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.UniqueConstraint("ticket_id", name=op.f("uq_ticket_ratings_ticket_id")),
    )
    op.create_index("ix_ticket_ratings_client", "ticket_ratings", ["client_id", "created_at"])
    op.create_table(
        "ticket_approvals",
        *_tenant_keys("ticket_approvals"),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=10), nullable=False),
        sa.Column("needed", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("requested_by_account_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_approvals_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_account_id"],
            ["accounts.id"],
            name=op.f("fk_ticket_approvals_requested_by_account_id_accounts"),
            ondelete="SET NULL",
        ),
    )
    op.create_index("ix_ticket_approvals_ticket", "ticket_approvals", ["ticket_id", "id"])
    op.create_index("ix_ticket_approvals_client", "ticket_approvals", ["client_id", "state"])
    op.create_table(
        "ticket_approval_votes",
        *_tenant_keys("ticket_approval_votes"),
        sa.Column("approval_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=10), nullable=True),
        sa.Column("comment", sa.Text(), server_default="", nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["approval_id"],
            ["ticket_approvals.id"],
            name=op.f("fk_ticket_approval_votes_approval_id_ticket_approvals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_ticket_approval_votes_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "approval_id", "account_id", name=op.f("uq_ticket_approval_votes_approval_id_account_id")
        ),
    )
    op.create_index("ix_ticket_approval_votes_account", "ticket_approval_votes", ["account_id", "decision"])
    op.create_index("ix_ticket_approval_votes_client", "ticket_approval_votes", ["client_id", "id"])
    if op.get_bind().dialect.name == "postgresql":
        for table in ("ticket_ratings", "ticket_approvals", "ticket_approval_votes"):
            protect(table, by_client=True)


def downgrade():
    op.drop_table("ticket_approval_votes")
    op.drop_table("ticket_approvals")
    op.drop_table("ticket_ratings")
    with op.batch_alter_table("tickets") as batch_op:
        batch_op.drop_index("ix_tickets_review_due")
        batch_op.drop_column("review_due_at")
