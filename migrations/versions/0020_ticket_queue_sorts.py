"""The ticket queue's other sorts: an index (reseller, desk, status kind, column, id) for
each of number, updated_at, first_response_due_at and resolution_due_at (the default).

desk.queue reads a page as one ordered walk per desk and status kind, merged; each walk
is a range of one of these indexes (0018 made them for id, last activity, creation, the
next SLA event and priority), so page 1 reads a few rows per desk and kind whatever the
number of tickets.

Revision ID: 0020_ticket_queue_sorts
Revises: 0019_ticket_sla_notices
Create Date: 2026-12-01 10:30:00

"""

from alembic import op

revision = "0020_ticket_queue_sorts"
down_revision = "0019_ticket_sla_notices"
branch_labels = None
depends_on = None

COLUMNS = ("number", "updated_at", "first_response_due_at", "resolution_due_at")


def upgrade():
    for column in COLUMNS:
        op.create_index(
            f"ix_tickets_desk_kind_{column}",
            "tickets",
            ["reseller_id", "desk_id", "status_kind", column, "id"],
        )


def downgrade():
    for column in COLUMNS:
        op.drop_index(f"ix_tickets_desk_kind_{column}", table_name="tickets")
