"""The client list's totals, kept by the database: client_counts and its triggers.

The list's total was a COUNT over every client of the reseller that matched (95,000
index entries for the bench reseller: about 4.5 ms of a 13 ms page). client_counts keeps
one row per combination of the filter columns (status, inactivated, plan, suspended,
payment type and status) with how many live clients have it; a total is then the sum of
a few such rows. Triggers on clients keep it, whoever writes (the ORM, a bulk UPDATE, a
purge), in the same transaction; tenant.client_counts checks it against the clients.

Revision ID: 0017_client_counts
Revises: 0016_tenant_policies_by_role
Create Date: 2026-12-01 07:00:00

"""

import sqlalchemy as sa
from alembic import op

from migrations.tenancy import protect

revision = "0017_client_counts"
down_revision = "0016_tenant_policies_by_role"
branch_labels = None
depends_on = None

KEY = ("reseller_id", "inactivated", "status", "plan_key", "suspended", "payment_type", "payment_status")
# Each key column as computed from a clients row (OLD or NEW).
VALUES = (
    "{r}.reseller_id",
    "({r}.inactivated_at IS NOT NULL)",
    "{r}.status",
    "coalesce({r}.plan_id, 0)",
    "{r}.suspended",
    "coalesce({r}.payment_type, '')",
    "coalesce({r}.payment_status, '')",
)
TRACKED = "reseller_id, status, plan_id, suspended, payment_type, payment_status, inactivated_at, deleted_at"


def _values(row: str) -> str:
    return ", ".join(v.format(r=row) for v in VALUES)


def _matches(row: str) -> str:
    return " AND ".join(f"{k} = {v.format(r=row)}" for k, v in zip(KEY, VALUES, strict=True))


COLUMNS = ", ".join(KEY)

_ADD_NEW = f"""INSERT INTO client_counts ({COLUMNS}, clients) VALUES ({_values("NEW")}, 1)
        ON CONFLICT ({COLUMNS}) DO UPDATE SET clients = client_counts.clients + 1;"""

# A client moving between two combinations locks both rows: always the lower key first,
# so two transactions moving clients in opposite directions wait for each other instead
# of deadlocking.
POSTGRES_FUNCTION = f"""
CREATE OR REPLACE FUNCTION client_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND ({_values("OLD")}, OLD.deleted_at IS NULL)
            IS NOT DISTINCT FROM ({_values("NEW")}, NEW.deleted_at IS NULL) THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.deleted_at IS NULL AND NEW.deleted_at IS NULL
            AND ({_values("NEW")}) < ({_values("OLD")}) THEN
        {_ADD_NEW}
        UPDATE client_counts SET clients = clients - 1 WHERE {_matches("OLD")};
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.deleted_at IS NULL THEN
        UPDATE client_counts SET clients = clients - 1 WHERE {_matches("OLD")};
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.deleted_at IS NULL THEN
        {_ADD_NEW}
    END IF;
    RETURN NULL;
END
$$
"""

POSTGRES_TRIGGER = (
    f"CREATE TRIGGER client_counts_track AFTER INSERT OR DELETE OR UPDATE OF {TRACKED} "
    "ON clients FOR EACH ROW EXECUTE FUNCTION client_counts_track()"
)


def _sqlite_add(row: str, condition: str) -> str:
    return (
        f"INSERT OR IGNORE INTO client_counts ({COLUMNS}, clients) SELECT {_values(row)}, 0 WHERE {condition};\n"
        f"UPDATE client_counts SET clients = clients + 1 WHERE {condition} AND {_matches(row)};"
    )


def _sqlite_take(row: str, condition: str) -> str:
    return f"UPDATE client_counts SET clients = clients - 1 WHERE {condition} AND {_matches(row)};"


SQLITE_TRIGGERS = (
    "CREATE TRIGGER client_counts_insert AFTER INSERT ON clients BEGIN\n"
    + _sqlite_add("NEW", "NEW.deleted_at IS NULL")
    + "\nEND",
    "CREATE TRIGGER client_counts_delete AFTER DELETE ON clients BEGIN\n"
    + _sqlite_take("OLD", "OLD.deleted_at IS NULL")
    + "\nEND",
    f"CREATE TRIGGER client_counts_update AFTER UPDATE OF {TRACKED} ON clients BEGIN\n"
    + _sqlite_take("OLD", "OLD.deleted_at IS NULL")
    + "\n"
    + _sqlite_add("NEW", "NEW.deleted_at IS NULL")
    + "\nEND",
)

BACKFILL = (
    f"INSERT INTO client_counts ({COLUMNS}, clients) SELECT {_values('clients')}, count(*) "
    "FROM clients WHERE deleted_at IS NULL GROUP BY " + ", ".join(str(n) for n in range(1, len(KEY) + 1))
)


def upgrade():
    op.create_table(
        "client_counts",
        sa.Column(
            "reseller_id", sa.Integer(), sa.ForeignKey("resellers.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("inactivated", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("plan_key", sa.Integer(), nullable=False),
        sa.Column("suspended", sa.Boolean(), nullable=False),
        sa.Column("payment_type", sa.String(20), nullable=False),
        sa.Column("payment_status", sa.String(20), nullable=False),
        sa.Column("clients", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint(*KEY, name="pk_client_counts"),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        protect("client_counts", by_client=False)
        op.execute(POSTGRES_FUNCTION)
        op.execute(POSTGRES_TRIGGER)
    else:
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)
    op.execute(BACKFILL)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS client_counts_track ON clients")
        op.execute("DROP FUNCTION IF EXISTS client_counts_track()")
    else:
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS client_counts_{name}")
    op.drop_table("client_counts")
