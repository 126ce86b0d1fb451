"""A reseller's service desks and what configures them: staff, linked clients, ticket
statuses, SLA policies, business calendars and custom fields. The tickets themselves are
in ``ticket_models.py``.

Every table carries ``reseller_id`` (row-level security, migration 0018); the rows that
belong to one client carry ``client_id`` too.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.timeutil import utcnow
from desk.states import ApprovalRule, ClientVisibility, FieldType, Priority

DEFAULT_REOPEN_WINDOW_DAYS = 7
DEFAULT_REVIEW_TIMEOUT_DAYS = 5
DEFAULT_TIMEZONE = "America/Sao_Paulo"


class SlaPolicy(db.Model):
    """A named set of SLA targets (one per priority), used by desks and, stricter, by plans."""

    __tablename__ = "sla_policies"
    __table_args__ = (UniqueConstraint("reseller_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    # The share of a target after which the ticket is "expiring soon" (percent).
    expiring_percent: Mapped[int] = mapped_column(server_default="80", default=80)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    targets: Mapped[list[SlaTarget]] = relationship(
        back_populates="policy", cascade="all, delete-orphan", order_by="SlaTarget.id"
    )


class SlaTarget(db.Model):
    """One priority's targets in a policy, in business minutes (empty: no target)."""

    __tablename__ = "sla_targets"
    __table_args__ = (UniqueConstraint("policy_id", "priority"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"), index=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("sla_policies.id", ondelete="CASCADE"))
    priority: Mapped[str] = mapped_column(String(10))
    first_response_minutes: Mapped[int | None]
    next_response_minutes: Mapped[int | None]
    resolution_minutes: Mapped[int | None]

    policy: Mapped[SlaPolicy] = relationship(back_populates="targets")


class BusinessCalendar(db.Model):
    """When the SLA clock runs: hours per weekday in a time zone, minus holidays.

    ``hours`` maps the weekday, ``"0"`` (Monday) to ``"6"`` (Sunday), to a list of
    ``["HH:MM", "HH:MM"]`` intervals in local time (``"24:00"`` ends at midnight); a day
    missing or empty is closed. The computation is ``core.business_hours``.
    """

    __tablename__ = "business_calendars"
    __table_args__ = (UniqueConstraint("reseller_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    timezone: Mapped[str] = mapped_column(
        String(64), server_default=DEFAULT_TIMEZONE, default=DEFAULT_TIMEZONE
    )
    hours: Mapped[dict] = mapped_column(JSON, default=dict)
    use_national_holidays: Mapped[bool] = mapped_column(server_default=true(), default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    dates: Mapped[list[CalendarDate]] = relationship(
        back_populates="calendar", cascade="all, delete-orphan", order_by="CalendarDate.day"
    )


class CalendarDate(db.Model):
    """A day the reseller does not work (its own holiday), in the calendar's zone."""

    __tablename__ = "calendar_dates"
    __table_args__ = (UniqueConstraint("calendar_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"), index=True)
    calendar_id: Mapped[int] = mapped_column(ForeignKey("business_calendars.id", ondelete="CASCADE"))
    day: Mapped[date]
    name: Mapped[str] = mapped_column(String(80))

    calendar: Mapped[BusinessCalendar] = relationship(back_populates="dates")


class Desk(db.Model):
    """A service desk (mesa de serviço): support, finance, sales... worked by staff."""

    __tablename__ = "desks"
    __table_args__ = (
        UniqueConstraint("reseller_id", "name"),
        # The intake address routes an e-mail to its desk (issue 14): one desk per address.
        Index(
            "uq_desks_intake_email",  # across resellers (migration 0026)
            "intake_email",
            unique=True,
            postgresql_where=text("intake_email IS NOT NULL"),
            sqlite_where=text("intake_email IS NOT NULL"),
        ),
        # At most one desk of a reseller takes the mail sent to an unknown address.
        Index(
            "uq_desks_mail_default",
            "reseller_id",
            unique=True,
            postgresql_where=text("mail_default"),
            sqlite_where=text("mail_default"),
        ),
    )

    APPROVAL_RULES = tuple(ApprovalRule)

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    intake_email: Mapped[str | None] = mapped_column(String(254))
    default_priority: Mapped[str] = mapped_column(
        String(10), server_default=Priority.NORMAL.value, default=Priority.NORMAL
    )
    sla_policy_id: Mapped[int | None] = mapped_column(ForeignKey("sla_policies.id"))
    calendar_id: Mapped[int | None] = mapped_column(ForeignKey("business_calendars.id"))
    # "Every client created later" is linked to this desk at its creation.
    link_new_clients: Mapped[bool] = mapped_column(server_default=false(), default=False)
    # Mail to an address of the reseller's domain that no desk has lands here.
    mail_default: Mapped[bool] = mapped_column(server_default=false(), default=False)
    # A finished ticket may be reopened within this many days.
    reopen_window_days: Mapped[int] = mapped_column(
        server_default=str(DEFAULT_REOPEN_WINDOW_DAYS), default=DEFAULT_REOPEN_WINDOW_DAYS
    )
    # Review flow: a resolved ticket awaits the client's acceptance, accepted by itself
    # after this many days (empty: no review, resolved tickets close at once).
    # (Its default is given in __init__: a column default would also replace an explicit
    # None, "no review", when the row is inserted.)
    review_timeout_days: Mapped[int | None]
    approval_rule: Mapped[str] = mapped_column(
        String(10), server_default=ApprovalRule.NONE.value, default=ApprovalRule.NONE
    )
    # For ApprovalRule.N_OF_M: how many approvals are needed.
    approvals_needed: Mapped[int | None]
    archived_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    sla_policy: Mapped[SlaPolicy | None] = relationship()
    calendar: Mapped[BusinessCalendar | None] = relationship()
    fields: Mapped[list[DeskField]] = relationship(back_populates="desk", order_by="DeskField.position")

    def __init__(self, **values) -> None:
        values.setdefault("review_timeout_days", DEFAULT_REVIEW_TIMEOUT_DAYS)
        super().__init__(**values)


class DeskStaff(db.Model):
    """A staff account working a desk."""

    __tablename__ = "desk_staff"
    # A staff member's desks ("all my desks").
    __table_args__ = (Index("ix_desk_staff_account", "account_id", "desk_id"),)

    desk_id: Mapped[int] = mapped_column(ForeignKey("desks.id", ondelete="CASCADE"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"), index=True)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeskClient(db.Model):
    """A client linked to a desk: it opens tickets there, staff open tickets for it there."""

    __tablename__ = "desk_clients"
    __table_args__ = (
        UniqueConstraint("desk_id", "client_id"),
        # A client's desks (its page, its portal; the purge's client_id batches).
        Index("ix_desk_clients_client", "client_id", "desk_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"), index=True)
    desk_id: Mapped[int] = mapped_column(ForeignKey("desks.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)
    linked_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))


class TicketStatus(db.Model):
    """A reseller's name for a ticket status of a fixed kind (``StatusKind``).

    ``name`` / ``client_name`` empty: the kind's built-in label, translated when shown
    (``desk.statuses``); the reseller may rename. One status per kind is its default.
    """

    __tablename__ = "ticket_statuses"
    __table_args__ = (
        Index(
            "uq_ticket_statuses_default",
            "reseller_id",
            "kind",
            unique=True,
            postgresql_where=text("is_default"),
            sqlite_where=text("is_default"),
        ),
        Index("ix_ticket_statuses_reseller", "reseller_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    name: Mapped[str | None] = mapped_column(String(60))
    # What the client's portal shows (empty: the name).
    client_name: Mapped[str | None] = mapped_column(String(60))
    pauses_sla: Mapped[bool] = mapped_column(server_default=false(), default=False)
    position: Mapped[int] = mapped_column(server_default="0", default=0)
    is_default: Mapped[bool] = mapped_column(server_default=false(), default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeskField(db.Model):
    """A custom field of a desk's ticket form; values live in ``tickets.field_values``
    under ``key`` and are checked by ``desk.fields``."""

    __tablename__ = "desk_fields"
    __table_args__ = (UniqueConstraint("desk_id", "key"), Index("ix_desk_fields_desk", "desk_id", "position"))

    TYPES = tuple(FieldType)
    VISIBILITIES = tuple(ClientVisibility)

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"), index=True)
    desk_id: Mapped[int] = mapped_column(ForeignKey("desks.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(80))
    field_type: Mapped[str] = mapped_column(String(12), server_default=FieldType.TEXT.value)
    # The choices of select and multi-select fields.
    options: Mapped[list] = mapped_column(JSON, default=list)
    required: Mapped[bool] = mapped_column(server_default=false(), default=False)
    client_visibility: Mapped[str] = mapped_column(
        String(10), server_default=ClientVisibility.INTERNAL.value, default=ClientVisibility.INTERNAL
    )
    position: Mapped[int] = mapped_column(server_default="0", default=0)
    archived_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    desk: Mapped[Desk] = relationship(back_populates="fields")
