"""Client list: names sort by an accent-free key, empty values last in both directions

"Ótica" sorted after "Zeta" and "Açougue" away from "Acougue": the names sorted by
their bytes. Each name gets a sort key column (folded: no accents, no case; compared
byte by byte with COLLATE "C" on PostgreSQL, BINARY on SQLite, so both give the same
order whatever the database's locale), backfilled here, and the trade/legal name sort
indexes move onto it. The sorts that may be empty (plan, due date, last payment) get a
descending index with NULLS LAST (PostgreSQL only), so page 1 stays an index scan when
the empty ones go last in the descending order too.

Revision ID: 0015_accent_sort
Revises: 0013_reseller_branding
Create Date: 2026-12-01 06:30:00

"""

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0015_accent_sort"
down_revision = "0013_reseller_branding"
branch_labels = None
depends_on = None

LIVE = "deleted_at IS NULL"
FILTERS = ("inactivated_at", "status", "plan_id", "suspended", "payment_type", "payment_status", "created_at")
NAMES = {"trade_name": 120, "legal_name": 160}
NULLABLE_SORTS = ("plan_name", "due_date", "last_payment_date")
BATCH = 5000

# A frozen copy of tenant.models.sort_key as of this revision (migrations import no app code).
_SORT_LETTERS = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ß": "ss", "ł": "l", "đ": "d", "ð": "d", "ı": "i"}
)


def _sort_key(value, length):
    decomposed = unicodedata.normalize("NFKD", value or "")
    folded = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return " ".join(folded.translate(_SORT_LETTERS).split())[:length]


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _sort_index(col: str, key: str) -> None:
    op.create_index(
        f"ix_clients_sort_{col}",
        "clients",
        ["reseller_id", key, "id"],
        postgresql_where=sa.text(LIVE),
        sqlite_where=sa.text(LIVE),
        postgresql_include=[c for c in FILTERS if c != col],
    )


def _backfill() -> None:
    bind = op.get_bind()
    clients = sa.table(
        "clients",
        sa.column("id"),
        sa.column("trade_name"),
        sa.column("legal_name"),
        sa.column("trade_name_sort"),
        sa.column("legal_name_sort"),
    )
    update = (
        sa.update(clients)
        .where(clients.c.id == sa.bindparam("row_id"))
        .values(trade_name_sort=sa.bindparam("trade_key"), legal_name_sort=sa.bindparam("legal_key"))
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.select(clients.c.id, clients.c.trade_name, clients.c.legal_name)
            .where(clients.c.id > last)
            .order_by(clients.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        bind.execute(
            update,
            [
                {"row_id": i, "trade_key": _sort_key(trade, 120), "legal_key": _sort_key(legal, 160)}
                for i, trade, legal in rows
            ],
        )
        last = rows[-1][0]


def upgrade():
    postgres = _postgres()
    for col, length in NAMES.items():
        kind = sa.String(length, collation="C") if postgres else sa.String(length)
        op.add_column("clients", sa.Column(f"{col}_sort", kind, server_default="", nullable=False))
    _backfill()
    for col in NAMES:
        op.drop_index(f"ix_clients_sort_{col}", table_name="clients")
        _sort_index(col, f"{col}_sort")
    if postgres:
        for col in NULLABLE_SORTS:
            op.create_index(
                f"ix_clients_sort_{col}_desc",
                "clients",
                ["reseller_id", sa.text(f"{col} DESC NULLS LAST"), sa.text("id DESC")],
                postgresql_where=sa.text(LIVE),
                postgresql_include=[c for c in FILTERS if c != col],
            )


def downgrade():
    if _postgres():
        for col in NULLABLE_SORTS:
            op.drop_index(f"ix_clients_sort_{col}_desc", table_name="clients")
    for col in NAMES:
        op.drop_index(f"ix_clients_sort_{col}", table_name="clients")
        _sort_index(col, col)
    for col in NAMES:
        op.drop_column("clients", f"{col}_sort")
