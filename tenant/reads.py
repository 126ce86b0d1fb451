"""What each account has read: the read marker per conversation (written when the account
opens it, never while staff act as it), the unread counts of the inbox list and its tabs,
the list's previews, and each user's choice of sound and title badge."""

from __future__ import annotations

from sqlalchemy import ARRAY, Integer, and_, bindparam, func, or_, select, true

from core import audit
from core.extensions import db
from core.tenancy import scoped_select
from core.timeutil import utcnow
from tenant import inbox
from tenant.inbox_models import Conversation, ConversationRead, InboxPreference, Message
from tenant.live import preview
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


def _read_upto(account):
    """The account's read marker of each conversation (a correlated subquery, 0 when none)."""
    return (
        select(ConversationRead.last_read_message_id)
        .where(ConversationRead.account_id == account.id, ConversationRead.conversation_id == Conversation.id)
        .correlate(Conversation)
        .scalar_subquery()
    )


def _markers(account, conversation_ids: list[int]) -> dict[int, int]:
    return dict(
        db.session.execute(
            scoped_select(
                ConversationRead,
                reseller_id=account.reseller_id,
                client_id=account.client_id,
            )
            .with_only_columns(ConversationRead.conversation_id, ConversationRead.last_read_message_id)
            .where(
                ConversationRead.account_id == account.id,
                ConversationRead.conversation_id.in_(conversation_ids),
            )
        ).all()
    )


def unread_counts(account, conversations: list[Conversation]) -> dict[int, int]:
    """Messages from the contact the account has not read, per conversation of the list.

    On PostgreSQL one statement whose shape does not depend on the list (the ids as one
    bound array, ``unnest``ed, each joined to the account's marker and to its newer
    inbound messages on the ``(conversation_id, id)`` index): SQLAlchemy compiles it once
    and PostgreSQL prepares it once. Elsewhere the markers in one query, then an ``OR`` of
    one range per conversation that has something newer."""
    ids = [c.id for c in conversations if c.last_inbound_message_id]
    if not ids:
        return {}
    if db.session.get_bind().dialect.name == "postgresql":
        values = {"unread_account": account.id, "unread_ids": ids}
        return dict(db.session.execute(_UNREAD_COUNTS, values).all())
    read = _markers(account, ids)
    ranges = [
        and_(Message.conversation_id == c.id, Message.id > read.get(c.id, 0))
        for c in conversations
        if c.last_inbound_message_id and c.last_inbound_message_id > read.get(c.id, 0)
    ]
    if not ranges:
        return {}
    rows = db.session.execute(
        select(Message.conversation_id, func.count())
        .where(or_(*ranges), Message.direction == MessageDirection.INBOUND)
        .group_by(Message.conversation_id)
    ).all()
    return dict(rows)


def _unread_counts_statement():
    listed = (
        func.unnest(bindparam("unread_ids", type_=ARRAY(Integer)))
        .table_valued("conversation_id")
        .render_derived(name="listed")
    )
    marker = and_(
        ConversationRead.account_id == bindparam("unread_account"),
        ConversationRead.conversation_id == listed.c.conversation_id,
    )
    newer = and_(
        Message.conversation_id == listed.c.conversation_id,
        Message.id > func.coalesce(ConversationRead.last_read_message_id, 0),
        Message.direction == MessageDirection.INBOUND,
    )
    return (
        select(listed.c.conversation_id, func.count())
        .select_from(listed)
        .outerjoin(ConversationRead, marker)
        .join(Message, newer)
        .group_by(listed.c.conversation_id)
    )


_UNREAD_COUNTS = _unread_counts_statement()


def unread_per_tab(account, tabs: list[str]) -> dict[str, int]:
    """Open conversations with a message the account has not read, per inbox tab, among
    the ``TAB_WINDOW`` most recently active ones it sees (one query for every tab)."""
    recent = (
        inbox.visible_conversations(account)
        .where(Conversation.status == ConversationStatus.OPEN)
        .with_only_columns(
            Conversation.assigned_account_id,
            Conversation.team_id,
            (Conversation.last_inbound_message_id > func.coalesce(_read_upto(account), 0)).label("unread"),
        )
        .order_by(Conversation.last_message_at.desc())
        .limit(TAB_WINDOW)
        .subquery()
    )
    teams = inbox.team_ids(account) or [-1]
    narrow = {
        "mine": recent.c.assigned_account_id == account.id,
        "queue": recent.c.assigned_account_id.is_(None),
        "team": recent.c.team_id.in_(teams),
        "all": true(),
    }
    wanted = [tab for tab in tabs if tab in narrow]
    counts = db.session.execute(
        select(*(func.count().filter(and_(recent.c.unread, narrow[tab])) for tab in wanted))
    ).one()
    return dict(zip(wanted, counts, strict=True))


def previews(conversations: list[Conversation]) -> dict[int, str]:
    """The newest message of each conversation of the list, shortened to one line."""
    ids = [c.last_message_id for c in conversations if c.last_message_id]
    if not ids:
        return {}
    rows = db.session.execute(select(Message.conversation_id, Message.body).where(Message.id.in_(ids))).all()
    return {conversation_id: preview(body) for conversation_id, body in rows}


# --- announcing new messages ----------------------------------------------------------


def preference_of(account) -> InboxPreference:
    """The account's choice (not stored until changed: the default is a title badge, no sound)."""
    chosen = db.session.scalar(select(InboxPreference).where(InboxPreference.account_id == account.id))
    return chosen or InboxPreference(account_id=account.id, sound=False, title_badge=True)


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
