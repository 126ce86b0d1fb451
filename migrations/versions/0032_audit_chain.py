"""The audit log a reseller reads (issue 16): a hash chain per reseller, the actor's kind,
the API client that acted, the indexes of the audit page, and the retention per reseller.

- ``audit_events``: ``actor_kind`` (staff, client user, API client, system, anonymous;
  existing rows take their actor account's kind, else "system"), ``api_client_id``, and
  the chain's ``seq``, ``prev_digest``, ``digest``, ``personal_digest`` and its salt
  (``core.audit_chain``). Rows written before this revision stay outside the chain
  (no ``seq``).
- ``audit_chain_heads``: the last link of each chain, locked by each writer so that two
  transactions never fork a chain (one UPDATE ... RETURNING gives the writer its seq and
  the previous digest); the trigger ``audit_chain_follow`` copies each inserted head
  event's digest there, so writing an event costs no other round trip. Key 0 is the platform's own events (no reseller), so
  the column has no foreign key; row-level security as on every reseller table.
- ``resellers.audit_retention_months``: 12 by default, never below 6 (Marco Civil, art. 15).
- ``export_jobs.kind``: the client list (as before) or the audit log as CSV or JSON Lines.

Indexes (the page reads at most 51 rows by keyset on (created_at, id), newest first; a
B-tree read backwards serves ``ORDER BY created_at DESC, id DESC``, so they are stored
ascending):

- ``ix_audit_events_reseller_created`` (reseller_id, created_at, id) replaces
  (reseller_id, created_at): page 1 and "older"/"newer" are one index range read that
  stops after 51 rows, the date range is its bound, whatever the table's size;
- one composite per equality filter, (reseller_id, <filter>, created_at, id): actor kind
  (``_kind``), action (``_action``), client (``_client``), target object (``_target``:
  object_type, object_id), IP (``_ip``): each filter alone is again one range read in
  page order; with several filters the planner picks the most selective and checks the
  rest on 51+ rows it reads in order;
- ``ix_audit_events_acting_as`` (reseller_id, created_at, id) WHERE actor_account_id <>
  subject_account_id: the impersonations, a small part of the log (PostgreSQL only: on
  SQLite an ordinary index);
- ``ix_audit_events_chain`` UNIQUE (reseller_id, seq): the verifier's walk, and a second
  guard against a forked chain.

Revision ID: 0032_audit_chain
Revises: 0031_api_clients
Create Date: 2026-12-04 01:00:00

"""

import sqlalchemy as sa
from alembic import op

from migrations.tenancy import protect

revision = "0032_audit_chain"
down_revision = "0031_api_clients"
branch_labels = None
depends_on = None

FILTER_INDEXES = {
    "ix_audit_events_kind": ["reseller_id", "actor_kind", "created_at", "id"],
    "ix_audit_events_action": ["reseller_id", "action", "created_at", "id"],
    "ix_audit_events_client": ["reseller_id", "client_id", "created_at", "id"],
    "ix_audit_events_target": ["reseller_id", "object_type", "object_id", "created_at", "id"],
    "ix_audit_events_ip": ["reseller_id", "ip", "created_at", "id"],
}


# The head's digest follows the events: an inserted event that is the head's last link
# (its seq is the head's) copies its digest there, in the INSERT's own round trip.
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


def _pg() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    with op.batch_alter_table("export_jobs") as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=20), server_default="clients", nullable=False))
    with op.batch_alter_table("resellers") as batch_op:
        batch_op.add_column(
            sa.Column("audit_retention_months", sa.Integer(), server_default="12", nullable=False)
        )
    with op.batch_alter_table("audit_events") as batch_op:
        batch_op.add_column(sa.Column("actor_kind", sa.String(length=20), server_default="system", nullable=False))
        batch_op.add_column(sa.Column("api_client_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("prev_digest", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("digest", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("personal_digest", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("personal_salt", sa.String(length=32), nullable=True))
        batch_op.drop_index("ix_audit_events_reseller_created")
        batch_op.create_index("ix_audit_events_reseller_created", ["reseller_id", "created_at", "id"])
        batch_op.create_index("ix_audit_events_chain", ["reseller_id", "seq"], unique=True)
        for name, columns in FILTER_INDEXES.items():
            batch_op.create_index(name, columns)
        batch_op.create_index(
            "ix_audit_events_acting_as",
            ["reseller_id", "created_at", "id"],
            postgresql_where=sa.text("actor_account_id <> subject_account_id"),
        )
    op.execute(
        "UPDATE audit_events SET actor_kind = (SELECT kind FROM accounts WHERE accounts.id = "
        "audit_events.actor_account_id) WHERE actor_account_id IS NOT NULL AND EXISTS "
        "(SELECT 1 FROM accounts WHERE accounts.id = audit_events.actor_account_id)"
    )
    op.create_table(
        "audit_chain_heads",
        sa.Column("reseller_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("digest", sa.String(length=64), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("reseller_id", name=op.f("pk_audit_chain_heads")),
    )
    if op.get_bind().dialect.name == "postgresql":
        protect("audit_chain_heads", by_client=False)
        op.execute(FOLLOW_FUNCTION)
        op.execute(
            "CREATE TRIGGER audit_chain_follow AFTER INSERT ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION audit_chain_follow()"
        )
    else:
        op.execute(SQLITE_FOLLOW)


def downgrade():
    op.execute("DROP TRIGGER IF EXISTS audit_chain_follow" + (" ON audit_events" if _pg() else ""))
    if _pg():
        op.execute("DROP FUNCTION IF EXISTS audit_chain_follow()")
    op.drop_table("audit_chain_heads")
    with op.batch_alter_table("audit_events") as batch_op:
        batch_op.drop_index("ix_audit_events_acting_as")
        for name in FILTER_INDEXES:
            batch_op.drop_index(name)
        batch_op.drop_index("ix_audit_events_chain")
        batch_op.drop_index("ix_audit_events_reseller_created")
        batch_op.create_index("ix_audit_events_reseller_created", ["reseller_id", "created_at"])
        for column in ("personal_salt", "personal_digest", "digest", "prev_digest", "seq", "api_client_id"):
            batch_op.drop_column(column)
        batch_op.drop_column("actor_kind")
    with op.batch_alter_table("resellers") as batch_op:
        batch_op.drop_column("audit_retention_months")
    with op.batch_alter_table("export_jobs") as batch_op:
        batch_op.drop_column("kind")
