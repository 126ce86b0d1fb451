"""Clients (tenants of a reseller) and what hangs directly off them."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime

from sqlalchemy import JSON, Computed, ForeignKey, Index, String, Text, UniqueConstraint, false, text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from core.extensions import db
from core.timeutil import utcnow
from tenant.states import ClientStatus, PaymentStatus

SLA_LEVELS = ("basic", "standard", "premium")
DOCUMENT_TYPES = ("cnpj", "cpf")
CLIENT_STATUSES = tuple(ClientStatus)
PAYMENT_TYPES = ("card", "boleto", "pix", "stripe", "transfer", "cash")
# In the order the client list offers them.
PAYMENT_STATUSES = (
    PaymentStatus.PAID,
    PaymentStatus.PENDING,
    PaymentStatus.OVERDUE,
    PaymentStatus.FAILED,
    PaymentStatus.REFUNDED,
)

# The columns the client list sorts by; each has an index (reseller, column, id) that
# also carries the filter columns (see _sort_indexes). Names sort by their sort keys.
SORTABLE_COLUMNS = (
    "id",
    "trade_name",
    "legal_name",
    "plan_name",
    "status",
    "sessions_remaining",
    "suspended",
    "due_date",
    "last_payment_date",
    "created_at",
)

SORT_KEY_COLUMNS = {"trade_name": "trade_name_sort", "legal_name": "legal_name_sort"}
# Sorts whose column may be empty: empty values come last in both directions, so the
# descending order has an index of its own (see _descending_sort_indexes).
NULLABLE_SORTS = ("plan_name", "due_date", "last_payment_date")

SESSIONS_REMAINING_SQL = (
    "(CASE WHEN sessions_quota > sessions_consumed THEN sessions_quota - sessions_consumed "
    "ELSE 0 END) + extra_balance"
)


def fold(value: str | None) -> str:
    """Lower-case, accent-free form used for searching names."""
    if not value:
        return ""
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


# Letters NFKD keeps whole; a reader files them under their base letters.
_SORT_LETTERS = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ß": "ss", "ł": "l", "đ": "d", "ð": "d", "ı": "i"}
)


def sort_key(value: str | None, length: int) -> str:
    """A name as the client list sorts it: "Açougue" with "Acougue", "Ótica" among the O's.

    Folded (no accents, no case), runs of spaces as one, cut to the column's ``length``.
    Stored in its own column and compared byte by byte (``COLLATE "C"`` on PostgreSQL,
    SQLite's BINARY), so both databases give the same order whatever their locale, and
    an ordinary index serves the sort.
    """
    return " ".join(fold(value).translate(_SORT_LETTERS).split())[:length]


def _sort_key_column(length: int) -> String:
    return String(length).with_variant(String(length, collation="C"), "postgresql")


# The list's filter columns, carried by its sort indexes (PostgreSQL INCLUDE) so that
# skipping to a deep page is an index-only scan; only the page's own rows are read.
LIST_FILTER_COLUMNS = (
    "inactivated_at",
    "status",
    "plan_id",
    "suspended",
    "payment_type",
    "payment_status",
    "created_at",
)


def _sort_indexes():
    active = text("deleted_at IS NULL")
    return tuple(
        Index(
            f"ix_clients_sort_{col}",
            "reseller_id",
            SORT_KEY_COLUMNS.get(col, col),
            "id",
            postgresql_where=active,
            sqlite_where=active,
            postgresql_include=[c for c in LIST_FILTER_COLUMNS if c != col],
        )
        for col in SORTABLE_COLUMNS
        if col != "id"
    )


class Client(db.Model):
    """A client company (cliente) of a reseller, with its billing summary.

    The billing summary columns (plan, status, sessions, suspension, dates, payment)
    are kept current by the billing services in the same transaction as each change,
    so the list reads one table.
    """

    __tablename__ = "clients"
    __table_args__ = (
        *_sort_indexes(),
        Index("uq_clients_channel_key", "channel_key", unique=True),
        # Deleting an account sets it to NULL where it is the responsible user.
        Index(
            "ix_clients_responsible",
            "responsible_account_id",
            postgresql_where=text("responsible_account_id IS NOT NULL"),
            sqlite_where=text("responsible_account_id IS NOT NULL"),
        ),
        # Covers the list's COUNT of live clients (and its equality filters) with an
        # index-only scan instead of reading the table.
        Index(
            "ix_clients_live_filters",
            "reseller_id",
            "status",
            "plan_id",
            "suspended",
            "payment_type",
            "payment_status",
            postgresql_where=text("deleted_at IS NULL AND inactivated_at IS NULL"),
            sqlite_where=text("deleted_at IS NULL AND inactivated_at IS NULL"),
        ),
        Index(
            "ix_clients_inactivated",
            "reseller_id",
            "created_at",
            "id",
            postgresql_where=text("deleted_at IS NULL AND inactivated_at IS NOT NULL"),
            sqlite_where=text("deleted_at IS NULL AND inactivated_at IS NOT NULL"),
        ),
        Index(
            "ix_clients_reseller_id_live",
            "reseller_id",
            "id",
            postgresql_where=text("deleted_at IS NULL"),
            sqlite_where=text("deleted_at IS NULL"),
            postgresql_include=list(LIST_FILTER_COLUMNS),
        ),
        Index(
            "ix_clients_trade_name_search_trgm",
            "trade_name_search",
            postgresql_using="gin",
            postgresql_ops={"trade_name_search": "gin_trgm_ops"},
        ),
        Index(
            "ix_clients_legal_name_search_trgm",
            "legal_name_search",
            postgresql_using="gin",
            postgresql_ops={"legal_name_search": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"))

    # General
    photo_path: Mapped[str | None] = mapped_column(String(200))
    sla_level: Mapped[str] = mapped_column(String(20), server_default="standard")
    trade_name: Mapped[str] = mapped_column(String(120))
    legal_name: Mapped[str] = mapped_column(String(160))
    trade_name_search: Mapped[str] = mapped_column(String(120), server_default="")
    legal_name_search: Mapped[str] = mapped_column(String(160), server_default="")
    trade_name_sort: Mapped[str] = mapped_column(_sort_key_column(120), server_default="")
    legal_name_sort: Mapped[str] = mapped_column(_sort_key_column(160), server_default="")
    # Contact
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    # Documents (digits only)
    document_type: Mapped[str] = mapped_column(String(4))
    document: Mapped[str] = mapped_column(String(14))
    # Address (optional)
    postal_code: Mapped[str | None] = mapped_column(String(8))
    street: Mapped[str | None] = mapped_column(String(160))
    street_number: Mapped[str | None] = mapped_column(String(20))
    complement: Mapped[str | None] = mapped_column(String(80))
    district: Mapped[str | None] = mapped_column(String(80))
    city: Mapped[str | None] = mapped_column(String(80))
    state: Mapped[str | None] = mapped_column(String(2))
    # Settings
    responsible_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", use_alter=True, ondelete="SET NULL")
    )

    # Billing summary (denormalised for the list; written by billing services)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id", ondelete="SET NULL"))
    plan_name: Mapped[str | None] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(20), server_default=ClientStatus.WITHOUT_PLAN.value)
    sessions_quota: Mapped[int] = mapped_column(server_default="0", default=0)
    sessions_consumed: Mapped[int] = mapped_column(server_default="0", default=0)
    extra_balance: Mapped[int] = mapped_column(server_default="0", default=0)
    sessions_remaining: Mapped[int] = mapped_column(Computed(SESSIONS_REMAINING_SQL, persisted=True))
    suspended: Mapped[bool] = mapped_column(server_default=false(), default=False)
    suspension_reason: Mapped[str | None] = mapped_column(String(200))
    due_date: Mapped[date | None]
    last_payment_date: Mapped[date | None]
    payment_type: Mapped[str | None] = mapped_column(String(20))
    # The Stripe customer that pays this client's invoices (created on first checkout).
    stripe_customer_id: Mapped[str | None] = mapped_column(String(100), unique=True, index=True)
    payment_status: Mapped[str | None] = mapped_column(String(20))

    # Lifecycle
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    inactivated_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    # The inbound channel: messages arrive at /inbound/<channel_key>, signed with the secret.
    channel_key: Mapped[str | None] = mapped_column(String(32))
    channel_secret: Mapped[str | None] = mapped_column(String(64))
    # Created from an e-mail of an unknown sender (seed 003): marked for staff to complete
    # its registration until someone marks it reviewed (tenant.clients.mark_reviewed).
    created_by_email: Mapped[bool] = mapped_column(server_default=false(), default=False)
    email_review_pending: Mapped[bool] = mapped_column(server_default=false(), default=False)

    responsible = relationship("Account", foreign_keys=[responsible_account_id], post_update=True)
    custom_values: Mapped[list[CustomFieldValue]] = relationship(
        back_populates="client", cascade="all, delete-orphan"
    )

    @validates("trade_name")
    def _fold_trade_name(self, _key, value):
        self.trade_name_search = fold(value)
        self.trade_name_sort = sort_key(value, 120)
        return value

    @validates("legal_name")
    def _fold_legal_name(self, _key, value):
        self.legal_name_search = fold(value)
        self.legal_name_sort = sort_key(value, 160)
        return value

    @property
    def is_inactivated(self) -> bool:
        return self.inactivated_at is not None


class ClientCount(db.Model):
    """How many of a reseller's clients (deleted ones aside) share one combination of the
    client list's filter columns: the list's total without a COUNT over every client.

    Kept by the database itself (triggers on ``clients``, migration 0017), so every
    writer, ORM or bulk UPDATE, keeps it true; ``tenant.client_counts`` reads it and
    checks it against the clients.
    """

    __tablename__ = "client_counts"

    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"), primary_key=True)
    inactivated: Mapped[bool] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    # 0: no plan; "" for no payment type or status (key columns are never NULL).
    plan_key: Mapped[int] = mapped_column(primary_key=True)
    suspended: Mapped[bool] = mapped_column(primary_key=True)
    payment_type: Mapped[str] = mapped_column(String(20), primary_key=True)
    payment_status: Mapped[str] = mapped_column(String(20), primary_key=True)
    clients: Mapped[int] = mapped_column(server_default="0", default=0)


def _descending_sort_indexes() -> None:
    """(reseller, column DESC NULLS LAST, id DESC) for the sorts that may be empty.

    The ascending index read backwards gives empty values first; this one gives the
    descending order with them last, so that page 1 is still an index scan. PostgreSQL
    only: SQLite's indexes take no NULLS LAST (its lists are small).
    """
    active = text("deleted_at IS NULL")
    for col in NULLABLE_SORTS:
        column = getattr(Client, col)
        Index(
            f"ix_clients_sort_{col}_desc",
            Client.reseller_id,
            column.desc().nulls_last(),
            Client.id.desc(),
            postgresql_where=active,
            postgresql_include=[c for c in LIST_FILTER_COLUMNS if c != col],
        ).ddl_if(dialect="postgresql")


_descending_sort_indexes()


class CustomFieldDefinition(db.Model):
    """A field the reseller adds to its client form (dados complementares)."""

    __tablename__ = "custom_field_definitions"
    __table_args__ = (UniqueConstraint("reseller_id", "key"),)

    FIELD_TYPES = ("text", "number", "date", "select")

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(80))
    field_type: Mapped[str] = mapped_column(String(10), server_default="text")
    required: Mapped[bool] = mapped_column(server_default=false(), default=False)
    options: Mapped[list] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(server_default="0", default=0)
    active: Mapped[bool] = mapped_column(server_default=true(), default=True)


class CustomFieldValue(db.Model):
    __tablename__ = "custom_field_values"
    __table_args__ = (UniqueConstraint("client_id", "definition_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    definition_id: Mapped[int] = mapped_column(ForeignKey("custom_field_definitions.id", ondelete="CASCADE"))
    value: Mapped[str] = mapped_column(Text)

    client: Mapped[Client] = relationship(back_populates="custom_values")
    definition: Mapped[CustomFieldDefinition] = relationship()
