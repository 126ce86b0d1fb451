"""Writing an audit event in one round trip (issue 16: it must add at most 1 ms).

- ``audit_events.digest_version``: how the row's digest was made (``core.audit_chain``):
  1 for every row written so far, 2 for the rows written from now on, whose digest
  PostgreSQL computes in the statement that moves the chain's head on and inserts the
  event (``core.audit_link``).
- ``audit_chain_heads.prev_digest``: the digest before the head's, what that statement
  returns as the new event's ``prev_digest`` (an UPDATE's RETURNING gives the new row:
  the old digest is kept in it). Existing heads take it from their last event.
- The trigger ``audit_chain_follow`` (and its function on PostgreSQL) goes: the head's
  digest is now written by the statement itself.
- ``ix_audit_events_client_id`` (client_id alone) goes: every read of a client's events
  names the reseller too (the client history, the deletion's count, the purge's batches,
  the audit page's filter) and ``ix_audit_events_client`` (reseller_id, client_id,
  created_at, id) serves them. One index less to write per event. The other indexes
  of 0032 each serve a filter of the audit page or the API, or the verifier.

No new table: the row-level security of 0032 covers the new columns.

Revision ID: 0041_audit_write
Revises: 0040_whatsapp
Create Date: 2026-12-06 05:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0041_audit_write"
down_revision = "0040_whatsapp"
branch_labels = None
depends_on = None

# 0032's trigger, as it was, for the downgrade.
FOLLOW_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_chain_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.seq IS NOT NULL THEN
        UPDATE audit_chain_heads SET digest = NEW.digest
        WHERE reseller_id = COALESCE(NEW.reseller_id, 0) AND seq = NEW.seq;
    END IF;
    RETURN NULL;
END $$
"""
SQLITE_FOLLOW = (
    "CREATE TRIGGER audit_chain_follow AFTER INSERT ON audit_events WHEN NEW.seq IS NOT NULL BEGIN\n"
    "UPDATE audit_chain_heads SET digest = NEW.digest\n"
    "WHERE reseller_id = COALESCE(NEW.reseller_id, 0) AND seq = NEW.seq;\nEND"
)
# Each head's prev_digest: that of its last event (absent if purged: left empty).
HEAD_PREV = (
    "UPDATE audit_chain_heads SET prev_digest = COALESCE((SELECT e.prev_digest FROM audit_events e "
    "WHERE COALESCE(e.reseller_id, 0) = audit_chain_heads.reseller_id "
    "AND e.seq = audit_chain_heads.seq), '')"
)


def _pg() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    if _pg():
        op.execute("DROP TRIGGER IF EXISTS audit_chain_follow ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_chain_follow()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_chain_follow")
    with op.batch_alter_table("audit_chain_heads") as batch_op:
        batch_op.add_column(sa.Column("prev_digest", sa.String(length=64), server_default="", nullable=False))
    with op.batch_alter_table("audit_events") as batch_op:
        batch_op.add_column(
            sa.Column("digest_version", sa.SmallInteger(), server_default="1", nullable=False)
        )
        batch_op.drop_index("ix_audit_events_client_id")
    op.execute(HEAD_PREV)


def downgrade():
    with op.batch_alter_table("audit_events") as batch_op:
        batch_op.create_index("ix_audit_events_client_id", ["client_id"])
        batch_op.drop_column("digest_version")
    with op.batch_alter_table("audit_chain_heads") as batch_op:
        batch_op.drop_column("prev_digest")
    if _pg():
        op.execute(FOLLOW_FUNCTION)
        op.execute(
            "CREATE TRIGGER audit_chain_follow AFTER INSERT ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION audit_chain_follow()"
        )
    else:
        op.execute(SQLITE_FOLLOW)
