"""What each account has read: the read marker per conversation (written when the account
opens it, never while staff act as it), the unread counts of the inbox list (a subquery
of the list's statement, ``tenant.inbox_list``) and of its tabs, and each user's choice of
sound and title badge."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Integer, and_, bindparam, case, func, select, true

from core import audit
from core.extensions import db
from core.timeutil import utcnow
from tenant import inbox
from tenant.inbox_models import Conversation, ConversationRead, InboxPreference, Message
from tenant.states import ConversationStatus, MessageDirection

TABS = ("mine", "queue", "team", "all")


def mark_read(account, conversation: Conversation) -> None:
    """``account`` has seen every message of ``conversation`` up to its newest."""
    newest = conversation.last_message_id or 0
    marker = db.session.scalar(
        select(ConversationRead).where(
            ConversationRead.account_id == account.id, ConversationRead.conversation_id == conversation.id
        )
    )
    if marker is None:
        db.session.add(
            ConversationRead(
                reseller_id=conversation.reseller_id,
                client_id=conversation.client_id,
                account_id=account.id,
                conversation_id=conversation.id,
                last_read_message_id=newest,
                read_at=utcnow(),
            )
        )
    elif marker.last_read_message_id < newest:
        marker.last_read_message_id, marker.read_at = newest, utcnow()


# The tabs' counts look at the most recently active open conversations only: an unread
# conversation older than these is still marked in the list, not counted in its tab.
TAB_WINDOW = 1000


def _read_upto(conversation_id):
    """The bound ``account_id``'s read marker of a conversation (a correlated subquery)."""
    reads = ConversationRead.__table__
    return (
        select(reads.c.last_read_message_id)
        .where(
            reads.c.account_id == bindparam("account_id", type_=Integer),
            reads.c.conversation_id == conversation_id,
        )
        .correlate_except(reads)
        .scalar_subquery()
    )


def unread_since_marker(conversation_id, last_inbound_message_id):
    """The messages from the contact newer than the bound ``account_id``'s read marker
    (0 when none) of a conversation with an inbound message, else 0: a scalar subquery
    correlated to ``conversation_id`` (the inbox list's unread count, ``tenant.inbox_list``)."""
    messages = Message.__table__
    newer = (
        select(func.count())
        .where(
            messages.c.conversation_id == conversation_id,
            messages.c.id > func.coalesce(_read_upto(conversation_id), 0),
            messages.c.direction == MessageDirection.INBOUND,
        )
        .correlate_except(messages)
        .scalar_subquery()
    )
    return case((last_inbound_message_id.is_not(None), newer), else_=0)


@lru_cache(maxsize=64)
def _per_tab_statement(level: int, tabs: tuple[str, ...]):
    """The tabs' counts for chat ``level``, built once (bound parameters: the account,
    its reseller and client, the window), the account's teams a subquery of the same
    statement."""
    c = Conversation.__table__.c
    account = bindparam("account_id", type_=Integer)
    teams = inbox.teams_of_account(account)
    where = [
        c.reseller_id == bindparam("reseller_id", type_=Integer),
        c.client_id == bindparam("client_id", type_=Integer),
        c.status == ConversationStatus.OPEN,
    ]
    rule = inbox.visibility(level, account, teams)
    if rule is not None:
        where.append(rule)
    recent = (
        select(
            c.assigned_account_id,
            c.team_id,
            (c.last_inbound_message_id > func.coalesce(_read_upto(c.id), 0)).label("unread"),
        )
        .where(*where)
        .order_by(c.last_message_at.desc())
        .limit(bindparam("tab_window", type_=Integer))
        .subquery()
    )
    narrow = {
        "mine": recent.c.assigned_account_id == account,
        "queue": recent.c.assigned_account_id.is_(None),
        "team": recent.c.team_id.in_(teams),
        "all": true(),
    }
    return select(*(func.count().filter(and_(recent.c.unread, narrow[tab])) for tab in tabs))


def unread_per_tab(account, tabs: list[str]) -> dict[str, int]:
    """Open conversations with a message the account has not read, per inbox tab, among
    the ``TAB_WINDOW`` most recently active ones it sees (one statement for every tab)."""
    wanted = tuple(tab for tab in tabs if tab in TABS)
    if not wanted:
        return {}
    counts = db.session.execute(
        _per_tab_statement(account.chat_level, wanted),
        {
            "account_id": account.id,
            "reseller_id": account.reseller_id,
            "client_id": account.client_id,
            "tab_window": TAB_WINDOW,
        },
    ).one()
    return dict(zip(wanted, counts, strict=True))


# --- announcing new messages ----------------------------------------------------------


_PREFERENCE = select(InboxPreference.__table__.c.sound, InboxPreference.__table__.c.title_badge).where(
    InboxPreference.__table__.c.account_id == bindparam("account_id", type_=Integer)
)


def preference_of(account) -> InboxPreference:
    """The account's choice (not stored until changed: the default is a title badge, no
    sound), unattached: read as two columns, no ORM object loaded."""
    chosen = db.session.execute(_PREFERENCE, {"account_id": account.id}).first()
    sound, title_badge = chosen if chosen is not None else (False, True)
    return InboxPreference(account_id=account.id, sound=sound, title_badge=title_badge)


def set_preference(account, *, sound: bool, title_badge: bool) -> InboxPreference:
    chosen = db.session.scalar(select(InboxPreference).where(InboxPreference.account_id == account.id))
    if chosen is None:
        chosen = InboxPreference(
            reseller_id=account.reseller_id, client_id=account.client_id, account_id=account.id
        )
        db.session.add(chosen)
    chosen.sound, chosen.title_badge = sound, title_badge
    db.session.flush()
    audit.record("inbox.preferences_changed", chosen, details={"sound": sound, "title_badge": title_badge})
    return chosen
