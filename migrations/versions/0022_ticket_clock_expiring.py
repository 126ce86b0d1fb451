"""When each SLA clock becomes "expiring" (its share of the target used, 80 % by
default), stored beside its deadline: the queue and the ticket page show each clock as
on time, expiring or breached at the moment they are read, between two sweeps too.

The columns are filled by ``desk.sla_state.refresh``; a ticket last refreshed before this
revision shows no "expiring" mark on its clocks until its next refresh (its deadlines and
its overall SLA state are unchanged).

Revision ID: 0022_ticket_clock_expiring
Revises: 0021_ticket_queue_filters
Create Date: 2026-12-01 13:20:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0022_ticket_clock_expiring"
down_revision = "0021_ticket_queue_filters"
branch_labels = None
depends_on = None

COLUMNS = ("first_response_expiring_at", "next_response_expiring_at", "resolution_expiring_at")


def upgrade():
    for column in COLUMNS:
        op.add_column("tickets", sa.Column(column, sa.DateTime(), nullable=True))


def downgrade():
    for column in COLUMNS:
        op.drop_column("tickets", column)
