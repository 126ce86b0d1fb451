"""The SLA sweep's notices (issue 13): one row per ticket, clock and event notified, so
that no SLA event is e-mailed twice (desk.sla_sweep inserts it with ON CONFLICT DO
NOTHING before queueing the e-mail). A client's rows: protected by client.

The sweep's index (tickets.sla_next_event_at, partial) is migration 0018's.

Revision ID: 0019_ticket_sla_notices
Revises: 0018_service_desks
Create Date: 2026-12-01 10:45:00

"""

import sqlalchemy as sa
from alembic import op

from migrations.tenancy import protect

revision = "0019_ticket_sla_notices"
down_revision = "0018_service_desks"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "ticket_sla_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reseller_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("clock", sa.String(length=20), nullable=False),
        sa.Column("event", sa.String(length=10), nullable=False),
        sa.Column("cycle", sa.Integer(), server_default="0", nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("notified_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_ticket_sla_notices_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reseller_id"],
            ["resellers.id"],
            name=op.f("fk_ticket_sla_notices_reseller_id_resellers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_sla_notices_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_sla_notices")),
        sa.UniqueConstraint(
            "ticket_id",
            "clock",
            "event",
            "cycle",
            name=op.f("uq_ticket_sla_notices_ticket_id_clock_event_cycle"),
        ),
    )
    with op.batch_alter_table("ticket_sla_notices", schema=None) as batch_op:
        batch_op.create_index("ix_ticket_sla_notices_client", ["client_id", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_ticket_sla_notices_reseller_id"), ["reseller_id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        protect("ticket_sla_notices", by_client=True)


def downgrade():
    op.drop_table("ticket_sla_notices")
