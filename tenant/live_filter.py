"""Which live events (:mod:`tenant.live`) one open workspace page may receive, and how.

A reader is the account of a workspace session (a staff member logging in as a user is
that user: the same events, the same masking). The session is read again
(:func:`auth.session_loader.session_alive`) on every heartbeat, when it ends (logout,
revocation, a deactivated user: ``auth.sessions`` wakes its streams), when what the
account may see changes (``tenant.live.account_changed``) and when it would expire or
idle out; in between, each event is checked against that reading, so a burst of events
costs no query per stream. An ended session gets nothing more. The event is then kept only if
the account may see its conversation (:func:`tenant.inbox.may_see`, the chat level's
rule), and the contact's number is masked unless the account views phones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from auth.session_loader import session_alive
from core.extensions import db
from core.timeutil import utcnow
from tenant import inbox
from tenant.phones import format_phone, mask_phone
from tenant.states import LiveChange, LiveKind


@dataclass(frozen=True)
class Reader:
    """What decides a reader's events, read once per event (no ORM object kept)."""

    id: int
    client_id: int
    chat_level: int
    team_ids: frozenset[int]
    view_phones: bool
    # The session's end unless it is used meanwhile (expiry, idle): past it, read again.
    valid_until: datetime | None = None

    def lapsed(self) -> bool:
        return self.valid_until is not None and utcnow() >= self.valid_until


def reader_of(account, valid_until: datetime | None = None) -> Reader:
    return Reader(
        id=account.id,
        client_id=account.client_id,
        chat_level=account.chat_level,
        team_ids=frozenset(inbox.team_ids(account)),
        view_phones=bool(account.view_phones),
        valid_until=valid_until,
    )


def current_reader(session_id: int, reseller_id: int, client_id: int) -> Reader | None:
    """The session's reader now, or ``None`` when the stream must close. Releases the
    database connection before it returns: a stream holds none while it waits."""
    try:
        alive = session_alive(session_id, reseller_id)
        if alive is None or alive[0].client_id != client_id:
            return None
        return reader_of(*alive)
    finally:
        db.session.close()


def _sees(reader: Reader, where: dict) -> bool:
    return inbox.may_see(
        reader,
        reader.team_ids,
        assigned_account_id=where.get("assigned_account_id"),
        team_id=where.get("team_id"),
    )


def shown(reader: Reader, data: dict) -> dict | None:
    """The event as ``reader`` receives it, or ``None`` when it may not."""
    if data.get("kind") == LiveKind.SESSIONS:
        return data
    conversation = data.get("conversation")
    if not conversation:
        return None
    if not _sees(reader, conversation):
        before = data.get("before")
        if before is not None and _sees(reader, before):
            # Transferred away from this reader: its page drops the conversation.
            return {
                "kind": LiveKind.CONVERSATION,
                "change": LiveChange.HIDDEN,
                "conversation": {"id": conversation["id"]},
            }
        return None
    phone = conversation.get("phone")
    shown_phone = format_phone(phone, blank="") if reader.view_phones else mask_phone(phone)
    out = {key: value for key, value in data.items() if key != "before"}
    out["conversation"] = {**conversation, "phone": shown_phone}
    return out
