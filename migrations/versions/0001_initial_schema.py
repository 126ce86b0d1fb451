"""Initial schema: resellers, logins, accounts, clients, billing, exports, audit

Revision ID: 0001
Revises: 
Create Date: 2026-11-24 14:47:28.045197

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade():
    if not _sqlite():
        # Trigram indexes make "name contains" filters fast on PostgreSQL.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table('resellers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('support_email', sa.String(length=254), nullable=True),
    sa.Column('logo_url', sa.String(length=500), nullable=True),
    sa.Column('primary_color', sa.String(length=7), server_default='#0d6efd', nullable=False),
    sa.Column('grace_days', sa.Integer(), server_default='5', nullable=False),
    sa.Column('require_staff_2fa', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('code_on_every_new_browser', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('impersonation_minutes', sa.Integer(), server_default='60', nullable=False),
    sa.Column('telephony_url', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resellers'))
    )
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reseller_id', sa.Integer(), nullable=True),
    sa.Column('client_id', sa.Integer(), nullable=True),
    sa.Column('actor_account_id', sa.Integer(), nullable=True),
    sa.Column('subject_account_id', sa.Integer(), nullable=True),
    sa.Column('actor_label', sa.String(length=254), nullable=True),
    sa.Column('action', sa.String(length=80), nullable=False),
    sa.Column('object_type', sa.String(length=40), nullable=True),
    sa.Column('object_id', sa.String(length=40), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('user_agent', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['reseller_id'], ['resellers.id'], name=op.f('fk_audit_events_reseller_id_resellers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_client_id'), ['client_id'], unique=False)
        batch_op.create_index('ix_audit_events_reseller_created', ['reseller_id', 'created_at'], unique=False)

    op.create_table('custom_field_definitions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reseller_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('label', sa.String(length=80), nullable=False),
    sa.Column('field_type', sa.String(length=10), server_default='text', nullable=False),
    sa.Column('required', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('position', sa.Integer(), server_default='0', nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.ForeignKeyConstraint(['reseller_id'], ['resellers.id'], name=op.f('fk_custom_field_definitions_reseller_id_resellers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_custom_field_definitions')),
    sa.UniqueConstraint('reseller_id', 'key', name=op.f('uq_custom_field_definitions_reseller_id_key'))
    )
    with op.batch_alter_table('custom_field_definitions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_custom_field_definitions_reseller_id'), ['reseller_id'], unique=False)

    op.create_table('logins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reseller_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('totp_secret', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_login_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['reseller_id'], ['resellers.id'], name=op.f('fk_logins_reseller_id_resellers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_logins')),
    sa.UniqueConstraint('reseller_id', 'email', name=op.f('uq_logins_reseller_id_email'))
    )
    with op.batch_alter_table('logins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_logins_reseller_id'), ['reseller_id'], unique=False)

    op.create_table('plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reseller_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('price_cents', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), server_default='BRL', nullable=False),
    sa.Column('period', sa.String(length=10), server_default='monthly', nullable=False),
    sa.Column('sessions_per_period', sa.Integer(), nullable=False),
    sa.Column('stripe_price_id', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('retired_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['reseller_id'], ['resellers.id'], name=op.f('fk_plans_reseller_id_resellers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plans')),
    sa.UniqueConstraint('reseller_id', 'name', name=op.f('uq_plans_reseller_id_name'))
    )
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plans_reseller_id'), ['reseller_id'], unique=False)

    op.create_table('reseller_hosts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reseller_id', sa.Integer(), nullable=False),
    sa.Column('host', sa.String(length=253), nullable=False),
    sa.ForeignKeyConstraint(['reseller_id'], ['resellers.id'], name=op.f('fk_reseller_hosts_reseller_id_resellers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reseller_hosts')),
    sa.UniqueConstraint('host', name=op.f('uq_reseller_hosts_host'))
    )
    op.create_table('roles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reseller_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('is_owner', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('permissions', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['reseller_id'], ['resellers.id'], name=op.f('fk_roles_reseller_id_resellers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roles')),
    sa.UniqueConstraint('reseller_id', 'name', name=op.f('uq_roles_reseller_id_name'))
    )
    with op.batch_alter_table('roles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_roles_reseller_id'), ['reseller_id'], unique=False)

    op.create_table('clients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reseller_id', sa.Integer(), nullable=False),
    sa.Column('photo_path', sa.String(length=200), nullable=True),
    sa.Column('sla_level', sa.String(length=20), server_default='standard', nullable=False),
    sa.Column('trade_name', sa.String(length=120), nullable=False),
    sa.Column('legal_name', sa.String(length=160), nullable=False),
    sa.Column('trade_name_search', sa.String(length=120), server_default='', nullable=False),
    sa.Column('legal_name_search', sa.String(length=160), server_default='', nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('document_type', sa.String(length=4), nullable=False),
    sa.Column('document', sa.String(length=14), nullable=False),
    sa.Column('postal_code', sa.String(length=8), nullable=True),
    sa.Column('street', sa.String(length=160), nullable=True),
    sa.Column('street_number', sa.String(length=20), nullable=True),
    sa.Column('complement', sa.String(length=80), nullable=True),
    sa.Column('district', sa.String(length=80), nullable=True),
    sa.Column('city', sa.String(length=80), nullable=True),
    sa.Column('state', sa.String(length=2), nullable=True),
    sa.Column('responsible_account_id', sa.Integer(), nullable=True),
    sa.Column('plan_id', sa.Integer(), nullable=True),
    sa.Column('plan_name', sa.String(length=80), nullable=True),
    sa.Column('status', sa.String(length=20), server_default='without_plan', nullable=False),
    sa.Column('sessions_quota', sa.Integer(), server_default='0', nullable=False),
    sa.Column('sessions_consumed', sa.Integer(), server_default='0', nullable=False),
    sa.Column('extra_balance', sa.Integer(), server_default='0', nullable=False),
    sa.Column('sessions_remaining', sa.Integer(), sa.Computed('(CASE WHEN sessions_quota > sessions_consumed THEN sessions_quota - sessions_consumed ELSE 0 END) + extra_balance', persisted=True), nullable=False),
    sa.Column('suspended', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('suspension_reason', sa.String(length=200), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('last_payment_date', sa.Date(), nullable=True),
    sa.Column('payment_type', sa.String(length=20), nullable=True),
    sa.Column('payment_status', sa.String(length=20), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('inactivated_at', sa.DateTime(), nullable=True),
    sa.Column('deleted_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_clients_plan_id_plans'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reseller_id'], ['resellers.id'], name=op.f('fk_clients_reseller_id_resellers'), ondelete='CASCADE'),
    # clients <-> accounts reference each other: SQLite takes the FK inline (it does
    # not check the target yet), PostgreSQL gets it once accounts exists.
    *([sa.ForeignKeyConstraint(['responsible_account_id'], ['accounts.id'], name=op.f('fk_clients_responsible_account_id_accounts'), ondelete='SET NULL')] if _sqlite() else []),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clients'))
    )
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.create_index('ix_clients_legal_name_search_trgm', ['legal_name_search'], unique=False, postgresql_using='gin', postgresql_ops={'legal_name_search': 'gin_trgm_ops'})
        batch_op.create_index('ix_clients_reseller_id_live', ['reseller_id', 'id'], unique=False, postgresql_where=sa.text('deleted_at IS NULL'), sqlite_where=sa.text('deleted_at IS NULL'))
        batch_op.create_index('ix_clients_sort_created_at', ['reseller_id', 'created_at', 'id'], unique=False, postgresql_where=sa.text('deleted_at IS NULL'), sqlite_where=sa.text('deleted_at IS NULL'))
        batch_op.create_index('ix_clients_sort_due_date', ['reseller_id', 'due_date', 'id'], unique=False, postgresql_where=sa.text('deleted_at IS NULL'), sqlite_where=sa.text('deleted_at IS NULL'))
        batch_op.create_index('ix_clients_sort_last_payment_date', ['reseller_id', 'last_payment_date', 'id'], unique=False, postgresql_where=sa.text('deleted_at IS NULL'), sqlite_where=sa.text('deleted_at IS NULL'))
        batch_op.create_index('ix_clients_sort_legal_name', ['reseller_id', 'legal_name', 'id'], unique=False, postgresql_where=sa.text('deleted_at IS NULL'), sqlite_where=sa.text('deleted_at IS NULL'))
        batch_op.create_index('ix_clients_sort_plan_name', ['reseller_id', 'plan_name', 'id'], unique=False, postgresql_where=sa.text('deleted_at IS NULL'), sqlite_where=sa.text('deleted_at IS NULL'))
        batch_op.create_index('ix_clients_sort_sessions_remaining', ['reseller_id', 'sessions_remaining', 'id'], unique=False, postgresql_where=sa.text('deleted_at IS NULL'), sqlite_where=sa.text('deleted_at IS NULL'))
        batch_op.create_index('ix_clients_sort_status', ['reseller_id', 'status', 'id'], unique=False, postgresql_where=sa.text('deleted_at IS NULL'), sqlite_where=sa.text('deleted_at IS NULL'))
        batch_op.create_index('ix_clients_sort_suspended', ['reseller_id', 'suspended', 'id'], unique=False, postgresql_where=sa.text('deleted_at IS NULL'), sqlite_where=sa.text('deleted_at IS NULL'))
        batch_op.create_index('ix_clients_sort_trade_name', ['reseller_id', 'trade_name', 'id'], unique=False, postgresql_where=sa.text('deleted_at IS NULL'), sqlite_where=sa.text('deleted_at IS NULL'))
        batch_op.create_index('ix_clients_trade_name_search_trgm', ['trade_name_search'], unique=False, postgresql_using='gin', postgresql_ops={'trade_name_search': 'gin_trgm_ops'})

    op.create_table('accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reseller_id', sa.Integer(), nullable=False),
    sa.Column('login_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('role_id', sa.Integer(), nullable=True),
    sa.Column('chat_level', sa.Integer(), server_default='6', nullable=False),
    sa.Column('view_phones', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('permissions', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_login_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_accounts_client_id_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['login_id'], ['logins.id'], name=op.f('fk_accounts_login_id_logins'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reseller_id'], ['resellers.id'], name=op.f('fk_accounts_reseller_id_resellers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['role_id'], ['roles.id'], name=op.f('fk_accounts_role_id_roles')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts'))
    )
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.create_index('ix_accounts_client', ['client_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_accounts_reseller_id'), ['reseller_id'], unique=False)
        batch_op.create_index('uq_accounts_login_client', ['login_id', 'client_id'], unique=True, postgresql_where=sa.text('client_id IS NOT NULL'), sqlite_where=sa.text('client_id IS NOT NULL'))
        batch_op.create_index('uq_accounts_login_staff', ['login_id'], unique=True, postgresql_where=sa.text('client_id IS NULL'), sqlite_where=sa.text('client_id IS NULL'))

    if not _sqlite():
        op.create_foreign_key(op.f('fk_clients_responsible_account_id_accounts'), 'clients', 'accounts',
                              ['responsible_account_id'], ['id'], ondelete='SET NULL')
    op.create_table('custom_field_values',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reseller_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('definition_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_custom_field_values_client_id_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['definition_id'], ['custom_field_definitions.id'], name=op.f('fk_custom_field_values_definition_id_custom_field_definitions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reseller_id'], ['resellers.id'], name=op.f('fk_custom_field_values_reseller_id_resellers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_custom_field_values')),
    sa.UniqueConstraint('client_id', 'definition_id', name=op.f('uq_custom_field_values_client_id_definition_id'))
    )
    op.create_table('subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reseller_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), server_default='pending', nullable=False),
    sa.Column('payment_method', sa.String(length=10), server_default='manual', nullable=False),
    sa.Column('current_period_start', sa.Date(), nullable=True),
    sa.Column('current_period_end', sa.Date(), nullable=True),
    sa.Column('stripe_subscription_id', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_subscriptions_client_id_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_subscriptions_plan_id_plans')),
    sa.ForeignKeyConstraint(['reseller_id'], ['resellers.id'], name=op.f('fk_subscriptions_reseller_id_resellers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscriptions')),
    sa.UniqueConstraint('stripe_subscription_id', name=op.f('uq_subscriptions_stripe_subscription_id'))
    )
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.create_index('ix_subscriptions_client_status', ['client_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_subscriptions_reseller_id'), ['reseller_id'], unique=False)

    op.create_table('suspension_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reseller_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=12), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('actor_account_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_suspension_events_client_id_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reseller_id'], ['resellers.id'], name=op.f('fk_suspension_events_reseller_id_resellers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suspension_events'))
    )
    with op.batch_alter_table('suspension_events', schema=None) as batch_op:
        batch_op.create_index('ix_suspension_events_client', ['client_id', 'created_at'], unique=False)

    op.create_table('tickets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reseller_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=20), server_default='open', nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_tickets_client_id_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reseller_id'], ['resellers.id'], name=op.f('fk_tickets_reseller_id_resellers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tickets'))
    )
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_client_status', ['client_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_reseller_id'), ['reseller_id'], unique=False)

    op.create_table('auth_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('reseller_id', sa.Integer(), nullable=False),
    sa.Column('login_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('impersonator_account_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('user_agent', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_auth_sessions_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['impersonator_account_id'], ['accounts.id'], name=op.f('fk_auth_sessions_impersonator_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['login_id'], ['logins.id'], name=op.f('fk_auth_sessions_login_id_logins'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reseller_id'], ['resellers.id'], name=op.f('fk_auth_sessions_reseller_id_resellers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_auth_sessions_token_hash'))
    )
    with op.batch_alter_table('auth_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auth_sessions_login_id'), ['login_id'], unique=False)

    op.create_table('export_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reseller_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_account_id', sa.Integer(), nullable=False),
    sa.Column('filters', sa.JSON(), nullable=False),
    sa.Column('locale', sa.String(length=10), server_default='pt_BR', nullable=False),
    sa.Column('status', sa.String(length=10), server_default='queued', nullable=False),
    sa.Column('total_rows', sa.Integer(), server_default='0', nullable=False),
    sa.Column('done_rows', sa.Integer(), server_default='0', nullable=False),
    sa.Column('file_name', sa.String(length=120), nullable=True),
    sa.Column('file_path', sa.String(length=300), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['requested_by_account_id'], ['accounts.id'], name=op.f('fk_export_jobs_requested_by_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reseller_id'], ['resellers.id'], name=op.f('fk_export_jobs_reseller_id_resellers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_export_jobs'))
    )
    with op.batch_alter_table('export_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_export_jobs_reseller_id'), ['reseller_id'], unique=False)

    op.create_table('payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reseller_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=True),
    sa.Column('description', sa.String(length=200), server_default='', nullable=False),
    sa.Column('amount_cents', sa.Integer(), nullable=False),
    sa.Column('payment_type', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('paid_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_payments_client_id_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reseller_id'], ['resellers.id'], name=op.f('fk_payments_reseller_id_resellers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subscription_id'], ['subscriptions.id'], name=op.f('fk_payments_subscription_id_subscriptions'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments'))
    )
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index('ix_payments_client_created', ['client_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_payments_reseller_id'), ['reseller_id'], unique=False)



def downgrade():
    if not _sqlite():
        op.drop_constraint(op.f('fk_clients_responsible_account_id_accounts'), 'clients', type_='foreignkey')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payments_reseller_id'))
        batch_op.drop_index('ix_payments_client_created')

    op.drop_table('payments')
    with op.batch_alter_table('export_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_export_jobs_reseller_id'))

    op.drop_table('export_jobs')
    with op.batch_alter_table('auth_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auth_sessions_login_id'))

    op.drop_table('auth_sessions')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tickets_reseller_id'))
        batch_op.drop_index('ix_tickets_client_status')

    op.drop_table('tickets')
    with op.batch_alter_table('suspension_events', schema=None) as batch_op:
        batch_op.drop_index('ix_suspension_events_client')

    op.drop_table('suspension_events')
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subscriptions_reseller_id'))
        batch_op.drop_index('ix_subscriptions_client_status')

    op.drop_table('subscriptions')
    op.drop_table('custom_field_values')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_index('uq_accounts_login_staff', postgresql_where=sa.text('client_id IS NULL'), sqlite_where=sa.text('client_id IS NULL'))
        batch_op.drop_index('uq_accounts_login_client', postgresql_where=sa.text('client_id IS NOT NULL'), sqlite_where=sa.text('client_id IS NOT NULL'))
        batch_op.drop_index(batch_op.f('ix_accounts_reseller_id'))
        batch_op.drop_index('ix_accounts_client')

    op.drop_table('accounts')
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_index('ix_clients_trade_name_search_trgm', postgresql_using='gin', postgresql_ops={'trade_name_search': 'gin_trgm_ops'})
        batch_op.drop_index('ix_clients_sort_trade_name', postgresql_where=sa.text('deleted_at IS NULL'), sqlite_where=sa.text('deleted_at IS NULL'))
        batch_op.drop_index('ix_clients_sort_suspended', postgresql_where=sa.text('deleted_at IS NULL'), sqlite_where=sa.text('deleted_at IS NULL'))
        batch_op.drop_index('ix_clients_sort_status', postgresql_where=sa.text('deleted_at IS NULL'), sqlite_where=sa.text('deleted_at IS NULL'))
        batch_op.drop_index('ix_clients_sort_sessions_remaining', postgresql_where=sa.text('deleted_at IS NULL'), sqlite_where=sa.text('deleted_at IS NULL'))
        batch_op.drop_index('ix_clients_sort_plan_name', postgresql_where=sa.text('deleted_at IS NULL'), sqlite_where=sa.text('deleted_at IS NULL'))
        batch_op.drop_index('ix_clients_sort_legal_name', postgresql_where=sa.text('deleted_at IS NULL'), sqlite_where=sa.text('deleted_at IS NULL'))
        batch_op.drop_index('ix_clients_sort_last_payment_date', postgresql_where=sa.text('deleted_at IS NULL'), sqlite_where=sa.text('deleted_at IS NULL'))
        batch_op.drop_index('ix_clients_sort_due_date', postgresql_where=sa.text('deleted_at IS NULL'), sqlite_where=sa.text('deleted_at IS NULL'))
        batch_op.drop_index('ix_clients_sort_created_at', postgresql_where=sa.text('deleted_at IS NULL'), sqlite_where=sa.text('deleted_at IS NULL'))
        batch_op.drop_index('ix_clients_reseller_id_live', postgresql_where=sa.text('deleted_at IS NULL'), sqlite_where=sa.text('deleted_at IS NULL'))
        batch_op.drop_index('ix_clients_legal_name_search_trgm', postgresql_using='gin', postgresql_ops={'legal_name_search': 'gin_trgm_ops'})

    op.drop_table('clients')
    with op.batch_alter_table('roles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_roles_reseller_id'))

    op.drop_table('roles')
    op.drop_table('reseller_hosts')
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plans_reseller_id'))

    op.drop_table('plans')
    with op.batch_alter_table('logins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_logins_reseller_id'))

    op.drop_table('logins')
    with op.batch_alter_table('custom_field_definitions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_custom_field_definitions_reseller_id'))

    op.drop_table('custom_field_definitions')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_reseller_created')
        batch_op.drop_index(batch_op.f('ix_audit_events_client_id'))

    op.drop_table('audit_events')
    op.drop_table('resellers')
