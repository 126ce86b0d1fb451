"""Logins, the accounts they hold, staff roles and server-side sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint, false, text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from auth.permissions import DEFAULT_CHAT_LEVEL, OWNER_ROLE_LABEL, STAFF_PERMISSIONS
from auth.states import AccountKind
from core.extensions import db
from core.timeutil import utcnow

STAFF = AccountKind.STAFF
CLIENT_USER = AccountKind.CLIENT_USER


class Login(db.Model):
    """One per reseller and e-mail: holds the password and (for staff) the TOTP secret."""

    __tablename__ = "logins"
    __table_args__ = (UniqueConstraint("reseller_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    # The TOTP secret counts only once confirmed; the last accepted time step stops reuse.
    totp_enabled_at: Mapped[datetime | None]
    totp_last_step: Mapped[int] = mapped_column(server_default="0", default=0)
    # Set once the e-mailed first-login code was entered.
    verified_at: Mapped[datetime | None]
    failed_logins: Mapped[int] = mapped_column(server_default="0", default=0)
    # When every session of the login was last ended (password set, "end all"): a login
    # still waiting at the code or account step since before then cannot finish.
    sessions_revoked_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    @property
    def has_totp(self) -> bool:
        return self.totp_enabled_at is not None and bool(self.totp_secret)

    accounts: Mapped[list[Account]] = relationship(back_populates="login")


class Role(db.Model):
    """A named set of staff permissions inside one reseller."""

    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("reseller_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    is_owner: Mapped[bool] = mapped_column(server_default=false(), default=False)
    permissions: Mapped[list] = mapped_column(JSON, default=list)

    def grants(self, permission: str) -> bool:
        return self.is_owner or permission in (self.permissions or [])

    @property
    def label(self) -> str:
        """The name shown: the built-in Owner role speaks the reader's language."""
        return str(OWNER_ROLE_LABEL) if self.is_owner else self.name

    @property
    def effective_permissions(self) -> set[str]:
        return set(STAFF_PERMISSIONS) if self.is_owner else set(self.permissions or [])


class Account(db.Model):
    """What a login can act as: a staff account of the reseller or a user of a client."""

    __tablename__ = "accounts"
    __table_args__ = (
        # One user per client and login; one staff account per login.
        Index(
            "uq_accounts_login_client",
            "login_id",
            "client_id",
            unique=True,
            postgresql_where=text("client_id IS NOT NULL"),
            sqlite_where=text("client_id IS NOT NULL"),
        ),
        Index(
            "uq_accounts_login_staff",
            "login_id",
            unique=True,
            postgresql_where=text("client_id IS NULL"),
            sqlite_where=text("client_id IS NULL"),
        ),
        Index("ix_accounts_client", "client_id", "id"),
        # Every request lists the login's accounts (switch menu, membership check).
        Index("ix_accounts_login", "login_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"), index=True)
    login_id: Mapped[int] = mapped_column(ForeignKey("logins.id", ondelete="CASCADE"))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(server_default=true(), default=True)
    role_id: Mapped[int | None] = mapped_column(ForeignKey("roles.id"))
    chat_level: Mapped[int] = mapped_column(
        server_default=str(DEFAULT_CHAT_LEVEL), default=DEFAULT_CHAT_LEVEL
    )
    view_phones: Mapped[bool] = mapped_column(server_default=true(), default=True)
    permissions: Mapped[list] = mapped_column(JSON, default=list)
    # Deactivated by the reseller's staff: only staff can reactivate it.
    deactivated_by_staff: Mapped[bool] = mapped_column(server_default=false(), default=False)
    # Added to a login that already existed by a client user: it opens only once the
    # login's owner accepts (nobody finds a new account in their chooser unasked).
    awaiting_acceptance: Mapped[bool] = mapped_column(server_default=false(), default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    login: Mapped[Login] = relationship(back_populates="accounts")
    role: Mapped[Role | None] = relationship()
    client = relationship("Client", foreign_keys=[client_id])

    @property
    def is_staff(self) -> bool:
        return self.kind == STAFF

    @classmethod
    def staff_of(cls, reseller_id: int) -> tuple:
        """The conditions that pick a reseller's staff accounts. A staff account has no
        client (see ``uq_accounts_login_staff``); saying so lets PostgreSQL read the few
        staff rows from ``ix_accounts_client``'s NULL entries instead of scanning every
        client user's account (30 ms with 535,000 accounts)."""
        return (cls.reseller_id == reseller_id, cls.kind == STAFF, cls.client_id.is_(None))

    @property
    def email(self) -> str:
        return self.login.email

    def is_usable(self) -> bool:
        """Active, accepted, and for a client user, its client still exists."""
        if not self.active or self.awaiting_acceptance:
            return False
        if self.kind == CLIENT_USER:
            return self.client is not None and self.client.deleted_at is None
        return True

    # Flask-Login's user interface. An account only becomes ``current_user`` through a
    # live server-side session (auth.session_loader), so it is authenticated.
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.is_usable()

    def get_id(self) -> str:
        return str(self.id)


class AuthSession(db.Model):
    """A server-side session: the cookie only carries its random token."""

    __tablename__ = "auth_sessions"
    # Ending an account's or a client's sessions, and deleting accounts, look up by it.
    __table_args__ = (
        Index("ix_auth_sessions_account", "account_id"),
        Index(
            "ix_auth_sessions_impersonator",
            "impersonator_account_id",
            postgresql_where=text("impersonator_account_id IS NOT NULL"),
            sqlite_where=text("impersonator_account_id IS NOT NULL"),
        ),
        Index(
            "ix_auth_sessions_parent",
            "parent_session_id",
            postgresql_where=text("parent_session_id IS NOT NULL"),
            sqlite_where=text("parent_session_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"))
    login_id: Mapped[int] = mapped_column(ForeignKey("logins.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    # Set when staff act as a client user: the real actor (RFC 8693 "act").
    impersonator_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    # An impersonation's staff session, waiting beneath it: ending, expiring or idling
    # that session ends the impersonation too.
    parent_session_id: Mapped[int | None] = mapped_column(ForeignKey("auth_sessions.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(500))

    login: Mapped[Login] = relationship()
    account: Mapped[Account | None] = relationship(foreign_keys=[account_id])
    impersonator: Mapped[Account | None] = relationship(foreign_keys=[impersonator_account_id])


class LoginChallenge(db.Model):
    """One login attempt waiting for its e-mailed code (device/e-mail verification).

    The code is stored hashed, works once, for 10 minutes, with 5 tries; the
    browser holds only this row's random id, which binds the code to the attempt.
    """

    __tablename__ = "login_challenges"

    id: Mapped[str] = mapped_column(String(43), primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"))
    login_id: Mapped[int] = mapped_column(ForeignKey("logins.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(server_default="0", default=0)
    sends: Mapped[int] = mapped_column(server_default="1", default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(500))


class TrustedDevice(db.Model):
    """A browser that entered the code: later logins from it skip the code."""

    __tablename__ = "trusted_devices"
    __table_args__ = (UniqueConstraint("login_id", "token_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"))
    login_id: Mapped[int] = mapped_column(ForeignKey("logins.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(500))
    ip: Mapped[str | None] = mapped_column(String(45))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class RecoveryCode(db.Model):
    """A single-use code that replaces the TOTP code once (staff second factor)."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"))
    login_id: Mapped[int] = mapped_column(ForeignKey("logins.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None]


class StaffInvitation(db.Model):
    """One e-mailed invitation to a staff account waiting for acceptance.

    Only the SHA-256 of the link's token is stored; the link works once, until
    ``expires_at``, and only while it is the account's newest invitation (a resend
    revokes the one before: ``revoked_at``). The rows also count the sends for the cap.
    """

    __tablename__ = "staff_invitations"
    __table_args__ = (
        Index("ix_staff_invitations_account", "account_id", "created_at"),
        # Deleting an account sets invited_by to NULL: the check needs an index.
        Index(
            "ix_staff_invitations_invited_by",
            "invited_by_account_id",
            postgresql_where=text("invited_by_account_id IS NOT NULL"),
            sqlite_where=text("invited_by_account_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    invited_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    account: Mapped[Account] = relationship(foreign_keys=[account_id])
    invited_by: Mapped[Account | None] = relationship(foreign_keys=[invited_by_account_id])
