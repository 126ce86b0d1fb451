"""The 24-hour conversation windows: each window opened consumes one of the client's
sessions (the plan's first, then the extras), atomically; this module is the only
writer of the session balance consumed by conversations."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Date, cast, func, literal_column, select, update

from core.extensions import db
from core.timeutil import LOCAL_TZ, utcnow
from tenant import live
from tenant.inbox_models import Contact, Conversation, SessionWindow
from tenant.models import Client
from tenant.states import WindowRefusal, WindowSource

WINDOW = timedelta(hours=24)


class WindowRefused(Exception):
    """No new conversation window: ``reason`` is a :class:`~tenant.states.WindowRefusal`."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def open_window(contact: Contact, *, at: datetime | None = None) -> SessionWindow | None:
    """The contact's open window, if any (expires strictly after ``at``)."""
    at = at or utcnow()
    return db.session.scalar(
        select(SessionWindow)
        .where(
            SessionWindow.client_id == contact.client_id,
            SessionWindow.contact_id == contact.id,
            SessionWindow.expires_at > at,
        )
        .order_by(SessionWindow.expires_at.desc())
        .limit(1)
    )


def contacts_with_open_window(client_id: int, contact_ids: list[int]) -> set[int]:
    """Of these contacts of the client, those whose window is open now (one query): a
    conversation started with them uses no session."""
    if not contact_ids:
        return set()
    return set(
        db.session.scalars(
            select(SessionWindow.contact_id).where(
                SessionWindow.client_id == client_id,
                SessionWindow.contact_id.in_(contact_ids),
                SessionWindow.expires_at > utcnow(),
            )
        )
    )


def _lock_contact(contact: Contact) -> None:
    # Serialises window decisions for one contact (PostgreSQL row lock; SQLite locks
    # the whole database on the first write anyway).
    db.session.execute(select(Contact.id).where(Contact.id == contact.id).with_for_update()).scalar_one()


def consume_session(client_id: int) -> str:
    """Take one session from the client: the plan's first, then the extras.

    Each step is one conditional UPDATE, so with N sessions left and many concurrent
    callers exactly N succeed and the balance never goes below zero.
    """
    usable = (
        Client.id == client_id,
        Client.suspended.is_(False),
        Client.deleted_at.is_(None),
        Client.inactivated_at.is_(None),
    )
    took_plan = db.session.execute(
        update(Client)
        .where(*usable, Client.sessions_consumed < Client.sessions_quota)
        .values(sessions_consumed=Client.sessions_consumed + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if took_plan == 1:
        return WindowSource.PLAN
    took_extra = db.session.execute(
        update(Client)
        .where(*usable, Client.extra_balance > 0)
        .values(extra_balance=Client.extra_balance - 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if took_extra == 1:
        return WindowSource.EXTRA
    state = db.session.execute(
        select(Client.suspended, Client.deleted_at, Client.inactivated_at).where(Client.id == client_id)
    ).one()
    if state.deleted_at is not None or state.inactivated_at is not None:
        raise WindowRefused(WindowRefusal.CLIENT_GONE)
    raise WindowRefused(WindowRefusal.SUSPENDED if state.suspended else WindowRefusal.NO_SESSIONS)


def touch_window(contact: Contact, conversation: Conversation | None, *, may_open: bool) -> SessionWindow:
    """Extend the contact's open window to 24 hours from now, or open a new one.

    Opening consumes one session and is allowed only when ``may_open`` (a contact's
    message, or our template message); raises :class:`WindowRefused` otherwise.
    """
    now = utcnow()
    _lock_contact(contact)
    window = open_window(contact, at=now)
    if window is not None:
        window.expires_at = now + WINDOW
        if conversation is not None and window.conversation_id is None:
            window.conversation_id = conversation.id
        return window
    if not may_open:
        raise WindowRefused(WindowRefusal.WINDOW_CLOSED)
    source = consume_session(contact.client_id)
    window = SessionWindow(
        reseller_id=contact.reseller_id,
        client_id=contact.client_id,
        contact_id=contact.id,
        conversation_id=conversation.id if conversation is not None else None,
        source=source,
        opened_at=now,
        expires_at=now + WINDOW,
    )
    db.session.add(window)
    db.session.flush()
    live.sessions_changed(contact.client_id)
    return window


# --- reading what was consumed (the client page's report) ---------------------------


def local_midnight_utc(day: date) -> datetime:
    """The naive-UTC instant the local (Brazil) ``day`` starts at, as stored timestamps are."""
    return datetime.combine(day, time.min, tzinfo=LOCAL_TZ).astimezone(UTC).replace(tzinfo=None)


def local_day(column):
    """SQL for the local calendar day of a naive-UTC timestamp column (one rule for every
    count per local day: sessions here, the portal's tickets)."""
    if db.session.get_bind().dialect.name == "postgresql":
        # Literal zone names: bound parameters would make the SELECT and GROUP BY
        # expressions differ for PostgreSQL. The names are ours, not input.
        in_utc = func.timezone(literal_column("'UTC'"), column)
        return cast(func.timezone(literal_column(f"'{LOCAL_TZ.key}'"), in_utc), Date)
    # SQLite has no zone database: Brazil has kept one offset since 2019 (no DST).
    offset = int(LOCAL_TZ.utcoffset(datetime.now()).total_seconds())
    return func.date(column, literal_column(f"'{offset:+d} seconds'"), type_=Date)


def sessions_opened(client_id: int, since: datetime) -> int:
    """Windows (so sessions) the client opened at or after ``since`` (naive UTC).

    An index range on ``(client_id, opened_at)``: only the client's own recent rows."""
    return db.session.scalar(
        select(func.count())
        .select_from(SessionWindow)
        .where(SessionWindow.client_id == client_id, SessionWindow.opened_at >= since)
    )


def sessions_per_day(client_id: int, first_day: date, last_day: date) -> list[tuple[date, int]]:
    """Windows opened per local day from ``first_day`` to ``last_day`` (both included),
    days without any counted as 0, oldest first."""
    day = local_day(SessionWindow.opened_at).label("day")
    counts = dict(
        db.session.execute(
            select(day, func.count())
            .where(
                SessionWindow.client_id == client_id,
                SessionWindow.opened_at >= local_midnight_utc(first_day),
                SessionWindow.opened_at < local_midnight_utc(last_day + timedelta(days=1)),
            )
            .group_by(day)
        ).all()
    )
    days = (last_day - first_day).days + 1
    return [(d, counts.get(d, 0)) for d in (first_day + timedelta(days=n) for n in range(days))]
