"""The client's directory: contacts, teams (and their members) and the inbound channel.

Every query is scoped to the client through :mod:`core.tenancy`; every change is audited.
"""

from __future__ import annotations

import secrets

from flask_babel import gettext as _
from sqlalchemy import func, select

from core import audit
from core.extensions import db
from core.tenancy import scoped_select
from tenant import inbox, live
from tenant.inbox_models import Contact, Conversation, Team, TeamMember
from tenant.models import Client
from tenant.phones import digits, normalise_phone
from tenant.states import ConversationStatus

CONTACT_LIST_LIMIT = 200


def _audit(action: str, obj, **details) -> None:
    audit.record(action, obj, details=details or None)


# --- contacts -----------------------------------------------------------------------


def _contacts_of(client_owner):
    return scoped_select(Contact, reseller_id=client_owner.reseller_id, client_id=client_owner.client_id)


def visible_contacts(account):
    """A ``select`` of the contacts ``account`` sees: all at chat level 5+, else those
    of the conversations it sees."""
    stmt = _contacts_of(account)
    if account.chat_level < inbox.SEE_ALL:
        visible_ids = inbox.visible_conversations(account).with_only_columns(Conversation.contact_id)
        stmt = stmt.where(Contact.id.in_(visible_ids))
    return stmt


def sees_number_of(account, contact: Contact) -> bool:
    """Whether ``account`` may know that ``contact`` has its phone number: it views
    phones and the contact is one it sees at its chat level."""
    if not account.view_phones:
        return False
    seen = visible_contacts(account).where(Contact.id == contact.id).with_only_columns(Contact.id)
    return db.session.scalar(seen) is not None


def search_contacts(account, q: str) -> list[Contact]:
    """The contacts ``account`` sees whose name (or, with *view phones*, number) has ``q``."""
    stmt = visible_contacts(account)
    if q:
        wanted = digits(q)
        condition = func.lower(Contact.name).like(f"%{q.lower()}%")
        if wanted and account.view_phones:
            # Without view-phones, numbers are not searchable either (they would leak).
            condition = condition | Contact.phone.like(f"%{wanted}%")
        stmt = stmt.where(condition)
    return list(db.session.scalars(stmt.order_by(Contact.name).limit(CONTACT_LIST_LIMIT)))


class ContactRejected(ValueError):
    """Nothing was saved; ``errors`` maps a form field to the reason."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def add_contact(client: Client, account, *, name: str, phone: str | None, email: str | None) -> Contact:
    """Add a contact to ``client`` on behalf of ``account``; raises :class:`ContactRejected`.

    A number that belongs to a contact ``account`` may not see (its number is masked
    for them, or the contact is outside their chat level) is answered like a new one:
    saying "already exists" would confirm whose number it is, one guess at a time. The
    existing contact is left as it is (its name and e-mail are not overwritten by
    someone who cannot see it, and no duplicate is made: one contact per number, so its
    conversations stay in one place) and the attempt is audited for the reseller.
    Below chat level 5 a new contact is not listed until it has a conversation the
    user sees, so both answers look alike in the list too; at level 5+ without view
    phones a missing row is the only hint, so the view throttles creations per user.
    """
    errors = {}
    name = (name or "").strip()
    number = normalise_phone(phone)
    email = (email or "").strip() or None
    existing = None
    if not name or len(name) > 120:
        errors["name"] = _("Type a name of up to 120 characters.")
    if number is None:
        errors["phone"] = _("Type a phone number with area code, e.g. (11) 98765-4321.")
    else:
        existing = db.session.scalar(_contacts_of(account).where(Contact.phone == number))
        if existing is not None and sees_number_of(account, existing):
            errors["phone"] = _("A contact with this phone number already exists.")
    if email and (len(email) > 254 or "@" not in email):
        errors["email"] = _("Type a valid e-mail.")
    if errors:
        raise ContactRejected(errors)
    if existing is not None:
        _audit("inbox.contact_create_hidden_duplicate", existing)
        return existing
    contact = Contact(
        reseller_id=client.reseller_id, client_id=client.id, name=name, phone=number, email=email
    )
    db.session.add(contact)
    db.session.flush()
    _audit("inbox.contact_created", contact)
    return contact


def conversation_with(contact: Contact, account) -> Conversation:
    """The contact's open conversation, or a new one assigned to ``account``."""
    conversation = db.session.scalar(
        select(Conversation).where(
            Conversation.contact_id == contact.id, Conversation.status == ConversationStatus.OPEN
        )
    )
    if conversation is None:
        conversation = Conversation(
            reseller_id=contact.reseller_id,
            client_id=contact.client_id,
            contact_id=contact.id,
            assigned_account_id=account.id,
        )
        db.session.add(conversation)
        db.session.flush()
    return conversation


# --- teams ----------------------------------------------------------------------------


def teams_of(client: Client) -> list[Team]:
    return list(
        db.session.scalars(
            scoped_select(Team, reseller_id=client.reseller_id, client_id=client.id).order_by(Team.name)
        )
    )


def add_team(client: Client, name: str) -> Team | None:
    """A new team; ``None`` when the client already has one of that name."""
    same_name = scoped_select(Team, Team.id, reseller_id=client.reseller_id, client_id=client.id)
    taken = db.session.scalar(same_name.where(Team.name == name))
    if taken:
        return None
    team = Team(reseller_id=client.reseller_id, client_id=client.id, name=name)
    db.session.add(team)
    db.session.flush()
    _audit("inbox.team_created", team)
    return team


def set_team_members(team: Team, wanted: set[int]) -> None:
    """Make ``wanted`` (account ids the caller checked are the client's users) the team."""
    for member in list(team.members):
        if member.account_id not in wanted:
            db.session.delete(member)
    present = {m.account_id for m in team.members}
    for account_id in wanted - present:
        db.session.add(
            TeamMember(
                reseller_id=team.reseller_id, client_id=team.client_id, team_id=team.id, account_id=account_id
            )
        )
    _audit("inbox.team_members_set", team, members=sorted(wanted))
    live.account_changed(*(present ^ wanted))


# --- the inbound channel ------------------------------------------------------------


def ensure_channel(client: Client) -> None:
    """Give the client its inbound channel key and secret (once)."""
    if not client.channel_key:
        client.channel_key = secrets.token_hex(16)
        client.channel_secret = secrets.token_hex(32)


def turn_on_or_rotate_channel(client: Client) -> bool:
    """Turn on the client's inbound channel, or rotate its secret (the old one stops
    working at once); ``True`` when it rotated."""
    if client.channel_key:
        client.channel_secret = secrets.token_hex(32)
        _audit("inbox.channel_secret_rotated", client)
        return True
    ensure_channel(client)
    _audit("inbox.channel_created", client)
    return False


def client_of_channel(channel_key: str) -> Client | None:
    """The current reseller's (not deleted) client whose inbound channel key this is."""
    return db.session.scalar(scoped_select(Client).where(Client.channel_key == channel_key))
