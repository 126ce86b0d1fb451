"""The kinds and outcomes auth stores or reports.

Every one is a ``StrEnum``: members compare equal to the strings stored in the
database (``accounts.kind``) or written in audit details, so nothing stored changes.
Bare status strings belong here and nowhere else.
"""

from __future__ import annotations

from enum import StrEnum


class AccountKind(StrEnum):
    """``accounts.kind``: a staff account of the reseller or a user of a client."""

    STAFF = "staff"
    CLIENT_USER = "client_user"


class CodeRefusal(StrEnum):
    """Why a one-time code was not accepted (or not sent)."""

    WRONG = "wrong"
    EXPIRED = "expired"
    USED = "used"
    TOO_MANY_TRIES = "too_many_tries"
    TOO_SOON = "too_soon"
    TOO_MANY_SENDS = "too_many_sends"


class LoginRefusal(StrEnum):
    """Why a password login was refused (the audit log's ``auth.login_failed``; the page
    says the same thing for each)."""

    WRONG_PASSWORD = "wrong_password"  # noqa: S105 - a reason, not a password
    UNKNOWN_LOGIN = "unknown_login"
    LOCKED = "locked"
    NO_ACCOUNT = "no_account"


class ImpersonationRefusal(StrEnum):
    """Why staff may not act as a client user now."""

    NOT_ALLOWED = "not_allowed"
    NOT_A_CLIENT_USER = "not_a_client_user"
    INACTIVE = "inactive"
    NESTED = "nested"


class LinkPurpose(StrEnum):
    """What an e-mailed password link is for (also part of its audit action)."""

    INVITE = "invite"
    RESET = "reset"
    LOCKED = "locked"


class StaffStanding(StrEnum):
    """Where a staff account stands, as the staff list shows it: derived from
    ``Account.active`` / ``awaiting_acceptance`` and the invitation, never stored (so not
    a ``*Status``: its words also name other things, e.g. an ``"active"`` audit key)."""

    ACTIVE = "active"
    INVITED = "invited"
    INVITATION_EXPIRED = "invitation_expired"
    DEACTIVATED = "deactivated"
