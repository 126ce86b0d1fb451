"""Service desks and tickets (issue 13): desks, their staff and clients, the reseller's
ticket statuses, SLA policies and business calendars, desk fields; and the ticket,
rebuilt in the desk package with its timeline, followers, attachments and counter.

Every new table carries reseller_id and is protected (migrations.tenancy.protect); those
of one client (links, tickets and what hangs off them) by client too.

The old minimal ``tickets`` (0001: subject and a status string, counted by inactivation
and deletion) is rebuilt: its rows are kept, each reseller that had some gets a desk
"Suporte" for them, numbered in id order, with the default status of their kind. Every
reseller gets the default statuses (one per kind, the kind's label until renamed).

A plan may carry a stricter SLA policy: plans.sla_policy_id, billing's column, whose
meaning the desk package owns. It has no foreign key: SQLite cannot add one to plans
without rebuilding the table, and dropping plans in that rebuild sets every client's
plan_id to NULL (ON DELETE SET NULL); the desk rules check the reference instead.

Revision ID: 0018_service_desks
Revises: 0017_client_counts
Create Date: 2026-12-01 10:00:00

"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from migrations.tenancy import protect

revision = "0018_service_desks"
down_revision = "0017_client_counts"
branch_labels = None
depends_on = None

# New tenant tables and whether a client user's scope narrows them to its client.
TENANT_TABLES = {
    "business_calendars": False,
    "sla_policies": False,
    "ticket_counters": False,
    "ticket_statuses": False,
    "calendar_dates": False,
    "desks": False,
    "sla_targets": False,
    "desk_fields": False,
    "desk_clients": True,
    "desk_staff": False,
    "tickets": True,
    "ticket_entries": True,
    "ticket_followers": True,
    "ticket_attachments": True,
}
# desk.states.StatusKind, in order, frozen here; the kinds whose default status pauses the SLA.
KINDS = (
    "new",
    "open",
    "waiting_on_client",
    "waiting_on_third_party",
    "pending_review",
    "resolved",
    "closed",
    "merged",
)
PAUSING = ("waiting_on_client", "waiting_on_third_party", "pending_review")
# The desk that receives the tickets created before desks existed (the resellers' data,
# in their language).
LEGACY_DESK = "Suporte"


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def upgrade():
    op.create_table('business_calendars',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reseller_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('timezone', sa.String(length=64), server_default='America/Sao_Paulo', nullable=False),
    sa.Column('hours', sa.JSON(), nullable=False),
    sa.Column('use_national_holidays', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['reseller_id'], ['resellers.id'], name=op.f('fk_business_calendars_reseller_id_resellers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_business_calendars')),
    sa.UniqueConstraint('reseller_id', 'name', name=op.f('uq_business_calendars_reseller_id_name'))
    )
    op.create_table('sla_policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reseller_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('expiring_percent', sa.Integer(), server_default='80', nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['reseller_id'], ['resellers.id'], name=op.f('fk_sla_policies_reseller_id_resellers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_policies')),
    sa.UniqueConstraint('reseller_id', 'name', name=op.f('uq_sla_policies_reseller_id_name'))
    )
    op.create_table('ticket_counters',
    sa.Column('reseller_id', sa.Integer(), nullable=False),
    sa.Column('last_number', sa.Integer(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['reseller_id'], ['resellers.id'], name=op.f('fk_ticket_counters_reseller_id_resellers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('reseller_id', name=op.f('pk_ticket_counters'))
    )
    op.create_table('ticket_statuses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reseller_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=True),
    sa.Column('client_name', sa.String(length=60), nullable=True),
    sa.Column('pauses_sla', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('position', sa.Integer(), server_default='0', nullable=False),
    sa.Column('is_default', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['reseller_id'], ['resellers.id'], name=op.f('fk_ticket_statuses_reseller_id_resellers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_statuses'))
    )
    with op.batch_alter_table('ticket_statuses', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_statuses_reseller', ['reseller_id', 'position'], unique=False)
        batch_op.create_index('uq_ticket_statuses_default', ['reseller_id', 'kind'], unique=True, postgresql_where=sa.text('is_default'), sqlite_where=sa.text('is_default'))

    op.create_table('calendar_dates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reseller_id', sa.Integer(), nullable=False),
    sa.Column('calendar_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['calendar_id'], ['business_calendars.id'], name=op.f('fk_calendar_dates_calendar_id_business_calendars'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reseller_id'], ['resellers.id'], name=op.f('fk_calendar_dates_reseller_id_resellers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_dates')),
    sa.UniqueConstraint('calendar_id', 'day', name=op.f('uq_calendar_dates_calendar_id_day'))
    )
    with op.batch_alter_table('calendar_dates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendar_dates_reseller_id'), ['reseller_id'], unique=False)

    op.create_table('desks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reseller_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('intake_email', sa.String(length=254), nullable=True),
    sa.Column('default_priority', sa.String(length=10), server_default='normal', nullable=False),
    sa.Column('sla_policy_id', sa.Integer(), nullable=True),
    sa.Column('calendar_id', sa.Integer(), nullable=True),
    sa.Column('link_new_clients', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('reopen_window_days', sa.Integer(), server_default='7', nullable=False),
    sa.Column('review_timeout_days', sa.Integer(), nullable=True),
    sa.Column('approval_rule', sa.String(length=10), server_default='none', nullable=False),
    sa.Column('approvals_needed', sa.Integer(), nullable=True),
    sa.Column('archived_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['calendar_id'], ['business_calendars.id'], name=op.f('fk_desks_calendar_id_business_calendars')),
    sa.ForeignKeyConstraint(['reseller_id'], ['resellers.id'], name=op.f('fk_desks_reseller_id_resellers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sla_policy_id'], ['sla_policies.id'], name=op.f('fk_desks_sla_policy_id_sla_policies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_desks')),
    sa.UniqueConstraint('reseller_id', 'name', name=op.f('uq_desks_reseller_id_name'))
    )
    with op.batch_alter_table('desks', schema=None) as batch_op:
        batch_op.create_index('uq_desks_intake_email', ['reseller_id', 'intake_email'], unique=True, postgresql_where=sa.text('intake_email IS NOT NULL'), sqlite_where=sa.text('intake_email IS NOT NULL'))

    op.create_table('sla_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reseller_id', sa.Integer(), nullable=False),
    sa.Column('policy_id', sa.Integer(), nullable=False),
    sa.Column('priority', sa.String(length=10), nullable=False),
    sa.Column('first_response_minutes', sa.Integer(), nullable=True),
    sa.Column('next_response_minutes', sa.Integer(), nullable=True),
    sa.Column('resolution_minutes', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['policy_id'], ['sla_policies.id'], name=op.f('fk_sla_targets_policy_id_sla_policies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reseller_id'], ['resellers.id'], name=op.f('fk_sla_targets_reseller_id_resellers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_targets')),
    sa.UniqueConstraint('policy_id', 'priority', name=op.f('uq_sla_targets_policy_id_priority'))
    )
    with op.batch_alter_table('sla_targets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sla_targets_reseller_id'), ['reseller_id'], unique=False)

    op.create_table('desk_fields',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reseller_id', sa.Integer(), nullable=False),
    sa.Column('desk_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('label', sa.String(length=80), nullable=False),
    sa.Column('field_type', sa.String(length=12), server_default='text', nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('required', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('client_visibility', sa.String(length=10), server_default='internal', nullable=False),
    sa.Column('position', sa.Integer(), server_default='0', nullable=False),
    sa.Column('archived_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['desk_id'], ['desks.id'], name=op.f('fk_desk_fields_desk_id_desks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reseller_id'], ['resellers.id'], name=op.f('fk_desk_fields_reseller_id_resellers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_desk_fields')),
    sa.UniqueConstraint('desk_id', 'key', name=op.f('uq_desk_fields_desk_id_key'))
    )
    with op.batch_alter_table('desk_fields', schema=None) as batch_op:
        batch_op.create_index('ix_desk_fields_desk', ['desk_id', 'position'], unique=False)
        batch_op.create_index(batch_op.f('ix_desk_fields_reseller_id'), ['reseller_id'], unique=False)

    op.create_table('desk_clients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reseller_id', sa.Integer(), nullable=False),
    sa.Column('desk_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('linked_at', sa.DateTime(), nullable=False),
    sa.Column('linked_by_account_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_desk_clients_client_id_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['desk_id'], ['desks.id'], name=op.f('fk_desk_clients_desk_id_desks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['linked_by_account_id'], ['accounts.id'], name=op.f('fk_desk_clients_linked_by_account_id_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reseller_id'], ['resellers.id'], name=op.f('fk_desk_clients_reseller_id_resellers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_desk_clients')),
    sa.UniqueConstraint('desk_id', 'client_id', name=op.f('uq_desk_clients_desk_id_client_id'))
    )
    with op.batch_alter_table('desk_clients', schema=None) as batch_op:
        batch_op.create_index('ix_desk_clients_client', ['client_id', 'desk_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_desk_clients_reseller_id'), ['reseller_id'], unique=False)

    op.create_table('desk_staff',
    sa.Column('desk_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('reseller_id', sa.Integer(), nullable=False),
    sa.Column('added_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_desk_staff_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['desk_id'], ['desks.id'], name=op.f('fk_desk_staff_desk_id_desks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reseller_id'], ['resellers.id'], name=op.f('fk_desk_staff_reseller_id_resellers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('desk_id', 'account_id', name=op.f('pk_desk_staff'))
    )
    with op.batch_alter_table('desk_staff', schema=None) as batch_op:
        batch_op.create_index('ix_desk_staff_account', ['account_id', 'desk_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_desk_staff_reseller_id'), ['reseller_id'], unique=False)

    _default_statuses()
    _plan_sla_policy()
    # The old tickets, kept aside while their table is rebuilt.
    op.execute(
        "CREATE TABLE legacy_tickets AS SELECT id, reseller_id, client_id, subject, status, created_at FROM tickets"
    )
    op.drop_table("tickets")
    op.create_table('tickets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reseller_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('desk_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('requester_account_id', sa.Integer(), nullable=True),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('priority', sa.String(length=10), server_default='normal', nullable=False),
    sa.Column('priority_rank', sa.Integer(), server_default='2', nullable=False),
    sa.Column('status_id', sa.Integer(), nullable=False),
    sa.Column('status_kind', sa.String(length=30), server_default='new', nullable=False),
    sa.Column('assignee_account_id', sa.Integer(), nullable=True),
    sa.Column('field_values', sa.JSON(), nullable=False),
    sa.Column('merged_into_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('last_activity_at', sa.DateTime(), nullable=False),
    sa.Column('first_responded_at', sa.DateTime(), nullable=True),
    sa.Column('awaiting_reply_since', sa.DateTime(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('reopened_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('first_response_due_at', sa.DateTime(), nullable=True),
    sa.Column('next_response_due_at', sa.DateTime(), nullable=True),
    sa.Column('resolution_due_at', sa.DateTime(), nullable=True),
    sa.Column('sla_paused_seconds', sa.Integer(), server_default='0', nullable=False),
    sa.Column('sla_state', sa.String(length=10), server_default='ok', nullable=False),
    sa.Column('sla_next_event_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['assignee_account_id'], ['accounts.id'], name=op.f('fk_tickets_assignee_account_id_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_tickets_client_id_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['desk_id'], ['desks.id'], name=op.f('fk_tickets_desk_id_desks')),
    sa.ForeignKeyConstraint(['merged_into_id'], ['tickets.id'], name=op.f('fk_tickets_merged_into_id_tickets'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['requester_account_id'], ['accounts.id'], name=op.f('fk_tickets_requester_account_id_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reseller_id'], ['resellers.id'], name=op.f('fk_tickets_reseller_id_resellers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['status_id'], ['ticket_statuses.id'], name=op.f('fk_tickets_status_id_ticket_statuses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tickets')),
    sa.UniqueConstraint('reseller_id', 'number', name=op.f('uq_tickets_reseller_id_number'))
    )
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_assignee', ['reseller_id', 'assignee_account_id', 'status_kind', 'last_activity_at', 'id'], unique=False)
        batch_op.create_index('ix_tickets_client', ['client_id', 'status_kind', 'desk_id'], unique=False)
        batch_op.create_index('ix_tickets_desk', ['reseller_id', 'desk_id', 'id'], unique=False)
        batch_op.create_index('ix_tickets_desk_created_at', ['reseller_id', 'desk_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_tickets_desk_kind', ['reseller_id', 'desk_id', 'status_kind', 'id'], unique=False)
        batch_op.create_index('ix_tickets_desk_kind_created_at', ['reseller_id', 'desk_id', 'status_kind', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_tickets_desk_kind_last_activity_at', ['reseller_id', 'desk_id', 'status_kind', 'last_activity_at', 'id'], unique=False)
        batch_op.create_index('ix_tickets_desk_kind_priority_rank', ['reseller_id', 'desk_id', 'status_kind', 'priority_rank', 'id'], unique=False)
        batch_op.create_index('ix_tickets_desk_kind_sla_next_event_at', ['reseller_id', 'desk_id', 'status_kind', 'sla_next_event_at', 'id'], unique=False)
        batch_op.create_index('ix_tickets_desk_last_activity_at', ['reseller_id', 'desk_id', 'last_activity_at', 'id'], unique=False)
        batch_op.create_index('ix_tickets_desk_priority_rank', ['reseller_id', 'desk_id', 'priority_rank', 'id'], unique=False)
        batch_op.create_index('ix_tickets_desk_sla_next_event_at', ['reseller_id', 'desk_id', 'sla_next_event_at', 'id'], unique=False)
        batch_op.create_index('ix_tickets_merged_into', ['merged_into_id'], unique=False, postgresql_where=sa.text('merged_into_id IS NOT NULL'), sqlite_where=sa.text('merged_into_id IS NOT NULL'))
        batch_op.create_index('ix_tickets_requester', ['requester_account_id'], unique=False, postgresql_where=sa.text('requester_account_id IS NOT NULL'), sqlite_where=sa.text('requester_account_id IS NOT NULL'))
        batch_op.create_index('ix_tickets_sla_next_event', ['sla_next_event_at'], unique=False, postgresql_where=sa.text('sla_next_event_at IS NOT NULL'), sqlite_where=sa.text('sla_next_event_at IS NOT NULL'))

    _move_legacy_tickets()

    op.create_table('ticket_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reseller_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('author_account_id', sa.Integer(), nullable=True),
    sa.Column('acting_as_account_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('event', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['acting_as_account_id'], ['accounts.id'], name=op.f('fk_ticket_entries_acting_as_account_id_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['author_account_id'], ['accounts.id'], name=op.f('fk_ticket_entries_author_account_id_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_ticket_entries_client_id_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reseller_id'], ['resellers.id'], name=op.f('fk_ticket_entries_reseller_id_resellers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_entries_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_entries'))
    )
    with op.batch_alter_table('ticket_entries', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_entries_client', ['client_id', 'id'], unique=False)
        batch_op.create_index('ix_ticket_entries_ticket', ['ticket_id', 'created_at', 'id'], unique=False)

    op.create_table('ticket_followers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reseller_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_ticket_followers_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_ticket_followers_client_id_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reseller_id'], ['resellers.id'], name=op.f('fk_ticket_followers_reseller_id_resellers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_followers_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_followers')),
    sa.UniqueConstraint('ticket_id', 'account_id', name=op.f('uq_ticket_followers_ticket_id_account_id'))
    )
    with op.batch_alter_table('ticket_followers', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_followers_account', ['account_id'], unique=False)
        batch_op.create_index('ix_ticket_followers_client', ['client_id', 'id'], unique=False)

    op.create_table('ticket_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reseller_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.Column('storage_key', sa.String(length=300), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_by_account_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_ticket_attachments_client_id_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entry_id'], ['ticket_entries.id'], name=op.f('fk_ticket_attachments_entry_id_ticket_entries'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reseller_id'], ['resellers.id'], name=op.f('fk_ticket_attachments_reseller_id_resellers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_attachments_ticket_id_tickets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_account_id'], ['accounts.id'], name=op.f('fk_ticket_attachments_uploaded_by_account_id_accounts'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_attachments')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_ticket_attachments_storage_key'))
    )
    with op.batch_alter_table('ticket_attachments', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_attachments_client', ['client_id', 'id'], unique=False)
        batch_op.create_index('ix_ticket_attachments_entry', ['entry_id'], unique=False, postgresql_where=sa.text('entry_id IS NOT NULL'), sqlite_where=sa.text('entry_id IS NOT NULL'))
        batch_op.create_index('ix_ticket_attachments_ticket', ['ticket_id', 'id'], unique=False)

    for table, by_client in TENANT_TABLES.items():
        if _postgres():
            protect(table, by_client=by_client)


def _default_statuses():
    now = _now()
    for position, kind in enumerate(KINDS):
        op.execute(
            sa.text(
                "INSERT INTO ticket_statuses (reseller_id, kind, pauses_sla, position, is_default, created_at) "
                "SELECT id, :kind, :pauses, :position, :yes, :now FROM resellers"
            ).bindparams(kind=kind, pauses=kind in PAUSING, position=position, yes=True, now=now)
        )


def _plan_sla_policy():
    op.add_column("plans", sa.Column("sla_policy_id", sa.Integer(), nullable=True))


def _move_legacy_tickets():
    now = _now()
    op.execute(
        sa.text(
            "INSERT INTO desks (reseller_id, name, default_priority, link_new_clients, reopen_window_days, "
            "review_timeout_days, approval_rule, created_at, updated_at) "
            "SELECT DISTINCT reseller_id, :name, 'normal', :no, 7, 5, 'none', :now, :now FROM legacy_tickets"
        ).bindparams(name=LEGACY_DESK, no=False, now=now)
    )
    op.execute(
        sa.text(
            "INSERT INTO tickets (id, reseller_id, number, desk_id, client_id, subject, description, priority, "
            "priority_rank, status_id, status_kind, field_values, created_at, updated_at, last_activity_at, "
            "resolved_at, closed_at, reopened_count, sla_paused_seconds, sla_state) "
            "SELECT l.id, l.reseller_id, row_number() OVER (PARTITION BY l.reseller_id ORDER BY l.id), d.id, "
            "l.client_id, l.subject, '', 'normal', 2, s.id, s.kind, '{}', l.created_at, l.created_at, "
            "l.created_at, CASE WHEN l.status = 'resolved' THEN l.created_at END, "
            "CASE WHEN l.status = 'closed' THEN l.created_at END, 0, 0, 'ok' "
            "FROM legacy_tickets l JOIN desks d ON d.reseller_id = l.reseller_id AND d.name = :name "
            "JOIN ticket_statuses s ON s.reseller_id = l.reseller_id AND s.kind = l.status AND s.is_default"
        ).bindparams(name=LEGACY_DESK)
    )
    op.execute(
        "INSERT INTO ticket_counters (reseller_id, last_number) "
        "SELECT reseller_id, count(*) FROM legacy_tickets GROUP BY reseller_id"
    )
    _restart_ids("tickets")
    op.drop_table("legacy_tickets")


def _restart_ids(table: str):
    if _postgres():
        op.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), coalesce(max(id), 0) + 1, false) FROM {table}"
        )


def downgrade():
    for table in ("ticket_attachments", "ticket_followers", "ticket_entries"):
        op.drop_table(table)
    op.execute(
        "CREATE TABLE legacy_tickets AS SELECT id, reseller_id, client_id, subject, "
        "CASE WHEN status_kind IN ('pending_review', 'resolved', 'closed') THEN status_kind "
        "WHEN status_kind = 'merged' THEN 'closed' ELSE 'open' END AS status, created_at FROM tickets"
    )
    op.drop_table("tickets")
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reseller_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="open", nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], name="fk_tickets_client_id_clients", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["reseller_id"], ["resellers.id"], name="fk_tickets_reseller_id_resellers", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_tickets"),
    )
    op.create_index("ix_tickets_client_status", "tickets", ["client_id", "status"])
    op.create_index("ix_tickets_reseller_id", "tickets", ["reseller_id"])
    op.execute(
        "INSERT INTO tickets (id, reseller_id, client_id, subject, status, created_at) "
        "SELECT id, reseller_id, client_id, subject, status, created_at FROM legacy_tickets"
    )
    _restart_ids("tickets")
    op.drop_table("legacy_tickets")
    if _postgres():
        protect("tickets", by_client=True)
    # Native on both (SQLite 3.35+): no batch rebuild of plans (see _plan_sla_policy).
    op.execute("ALTER TABLE plans DROP COLUMN sla_policy_id")
    for table in (
        "desk_staff",
        "desk_clients",
        "desk_fields",
        "sla_targets",
        "desks",
        "calendar_dates",
        "ticket_statuses",
        "ticket_counters",
        "sla_policies",
        "business_calendars",
    ):
        op.drop_table(table)
