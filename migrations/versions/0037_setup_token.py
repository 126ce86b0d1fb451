"""A token on each reseller that changes whenever its set-up is written: its plans,
desks or ticket statuses (``resellers.setup_token``, set by triggers on those tables),
so a process may keep what pages read of them on every request (the client list's plan
menu, the desks a queue walks, the statuses of the bulk menu) and know, from the
reseller's row every request already reads, whether what it kept is still true
(issues 12 and 13: a request's round trips).

Triggers, not the application, change it: every writer (the pages, the seeds, a script)
moves it, and a rolled-back write takes its token back with it. The token is random,
never a counter, so a reseller id reused after a rollback (the test suite) never meets
the token of another reseller's set-up.

Revision ID: 0037_setup_token
Revises: 0036_live_inbox
Create Date: 2026-12-02 05:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0037_setup_token"
down_revision = "0036_live_inbox"
branch_labels = None
depends_on = None

# SECURITY DEFINER: the trigger runs as the tables' owner, whatever role wrote the plan
# (the runtime roles may not update every reseller column); the search path is fixed.
POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION setup_move_token() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    UPDATE resellers SET setup_token = substr(md5(random()::text || clock_timestamp()::text), 1, 16)
    WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.reseller_id ELSE NEW.reseller_id END;
    RETURN NULL;
END
$$
"""
TABLES = ("plans", "desks", "ticket_statuses")
_SQLITE_SET = "UPDATE resellers SET setup_token = lower(hex(randomblob(8))) WHERE id = {row}.reseller_id;"
SQLITE_TRIGGERS = {
    f"{table}_setup_token_{when.lower()}": f"AFTER {when} ON {table} BEGIN {_SQLITE_SET.format(row=row)} END"
    for table in TABLES
    for when, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD"))
}


def upgrade():
    with op.batch_alter_table("resellers") as batch_op:
        batch_op.add_column(sa.Column("setup_token", sa.String(16), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE resellers SET setup_token = substr(md5(random()::text || id::text), 1, 16)")
        op.execute(POSTGRES_FUNCTION)
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_setup_token AFTER INSERT OR UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION setup_move_token()"
            )
    else:
        op.execute("UPDATE resellers SET setup_token = lower(hex(randomblob(8)))")
        for name, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_setup_token ON {table}")
        op.execute("DROP FUNCTION IF EXISTS setup_move_token()")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    with op.batch_alter_table("resellers") as batch_op:
        batch_op.drop_column("setup_token")
