"""A token on each reseller that changes whenever one of its plans is written
(``resellers.plans_token``, set by triggers on ``plans``), so a process may keep the
reseller's plan menu and know, from the reseller's row every request already reads,
whether what it kept is still true (the client list's plan filter: issue 12).

A trigger, not the application, changes it: every writer of plans (the plan pages, the
seeds, a script) moves it, and a rolled-back write takes its token back with it. The
token is random, never a counter, so a reseller id reused after a rollback (the test
suite) never meets the token of another reseller's plans.

Revision ID: 0037_plans_token
Revises: 0033_entry_author_label
Create Date: 2026-12-02 05:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0037_plans_token"
down_revision = "0033_entry_author_label"
branch_labels = None
depends_on = None

# SECURITY DEFINER: the trigger runs as the tables' owner, whatever role wrote the plan
# (the runtime roles may not update every reseller column); the search path is fixed.
POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION plans_move_token() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    UPDATE resellers SET plans_token = substr(md5(random()::text || clock_timestamp()::text), 1, 16)
    WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.reseller_id ELSE NEW.reseller_id END;
    RETURN NULL;
END
$$
"""
POSTGRES_TRIGGER = (
    "CREATE TRIGGER plans_move_token AFTER INSERT OR UPDATE OR DELETE ON plans "
    "FOR EACH ROW EXECUTE FUNCTION plans_move_token()"
)
_SQLITE_SET = "UPDATE resellers SET plans_token = lower(hex(randomblob(8))) WHERE id = {row}.reseller_id;"
SQLITE_TRIGGERS = {
    "plans_token_insert": f"AFTER INSERT ON plans BEGIN {_SQLITE_SET.format(row='NEW')} END",
    "plans_token_update": f"AFTER UPDATE ON plans BEGIN {_SQLITE_SET.format(row='NEW')} END",
    "plans_token_delete": f"AFTER DELETE ON plans BEGIN {_SQLITE_SET.format(row='OLD')} END",
}


def upgrade():
    with op.batch_alter_table("resellers") as batch_op:
        batch_op.add_column(sa.Column("plans_token", sa.String(16), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE resellers SET plans_token = substr(md5(random()::text || id::text), 1, 16)")
        op.execute(POSTGRES_FUNCTION)
        op.execute(POSTGRES_TRIGGER)
    else:
        op.execute("UPDATE resellers SET plans_token = lower(hex(randomblob(8)))")
        for name, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS plans_move_token ON plans")
        op.execute("DROP FUNCTION IF EXISTS plans_move_token()")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    with op.batch_alter_table("resellers") as batch_op:
        batch_op.drop_column("plans_token")
