"""Plan changes (scheduled downgrade, cancel at period end, upgrade invoices), invoice
kinds, Stripe customers per client and the reseller's extra-conversation pack.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 00:04:25.463420

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    # Plain operations on clients: SQLite must not rebuild it (computed column).
    op.add_column("clients", sa.Column("stripe_customer_id", sa.String(length=100), nullable=True))
    op.create_index("ix_clients_stripe_customer_id", "clients", ["stripe_customer_id"], unique=True)

    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=12), server_default="plan", nullable=False))
        batch_op.add_column(sa.Column("target_plan_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("stripe_checkout_id", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("stripe_payment_intent_id", sa.String(length=100), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_payments_stripe_payment_intent_id"), ["stripe_payment_intent_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_payments_stripe_checkout_id"), ["stripe_checkout_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_payments_target_plan_id_plans"), "plans", ["target_plan_id"], ["id"]
        )

    with op.batch_alter_table("resellers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("extra_pack_conversations", sa.Integer(), server_default="100", nullable=False)
        )
        batch_op.add_column(
            sa.Column("extra_pack_price_cents", sa.Integer(), server_default="0", nullable=False)
        )

    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("cancel_at_period_end", sa.Boolean(), server_default=sa.text("false"), nullable=False)
        )
        batch_op.add_column(sa.Column("next_plan_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_subscriptions_next_plan_id_plans"), "plans", ["next_plan_id"], ["id"]
        )


def downgrade():
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_subscriptions_next_plan_id_plans"), type_="foreignkey")
        batch_op.drop_column("next_plan_id")
        batch_op.drop_column("cancel_at_period_end")

    with op.batch_alter_table("resellers", schema=None) as batch_op:
        batch_op.drop_column("extra_pack_price_cents")
        batch_op.drop_column("extra_pack_conversations")

    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_payments_target_plan_id_plans"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_payments_stripe_payment_intent_id"))
        batch_op.drop_column("stripe_payment_intent_id")
        batch_op.drop_index(batch_op.f("ix_payments_stripe_checkout_id"))
        batch_op.drop_column("stripe_checkout_id")
        batch_op.drop_column("target_plan_id")
        batch_op.drop_column("kind")

    op.drop_index("ix_clients_stripe_customer_id", table_name="clients")
    op.drop_column("clients", "stripe_customer_id")
